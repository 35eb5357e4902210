import type { FastifyBaseLogger } from 'fastify';
import type { KeyMode } from '../auth/api-key.js';
import type { MessageRepository, MessageRow, MessageStatus } from '../delivery/message.repository.js';
import { CaptureMailer } from '../delivery/mailer.js';
import { composeEmail } from '../delivery/compose.js';
import type { TransportRegistry } from '../delivery/transports.js';
import type { ProjectRepository } from '../projects/project.repository.js';
import type { QuotaService } from '../quota/quota.service.js';
import { AppError, invalidState, notFound } from '../shared/errors.js';
import { isId } from '../shared/ids.js';
import { toPage, type Page, type PageRequest } from '../shared/pagination.js';
import type { Clock } from '../shared/time.js';
import { resolveVariant } from '../templates/locale-routing.js';
import { buildContext, type TemplateRenderer } from '../templates/render.js';
import type { TemplateRepository } from '../templates/template.repository.js';
import type { SuppressionRepository } from '../suppressions/suppression.repository.js';
import { normaliseEmail } from '../shared/email.js';
import { createUnsubscribeToken } from '../unsubscribe/token.js';
import type { CampaignReferences } from './campaign.references.js';
import type { CampaignRepository, CampaignRow } from './campaign.repository.js';
import type { Campaign } from './campaign.schemas.js';
import { toCampaign } from './campaign.service.js';
import type { FanOut } from './fanout.js';
import { allowedFrom, canPerform, type CampaignStatus } from './lifecycle.js';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';

export interface MessageView {
  id: number;
  contactId: string | null;
  email: string | null;
  locale: string | null;
  templateVersionId: string;
  status: MessageStatus;
  attempts: number;
  lastError: string | null;
  skipReason: string | null;
  providerMessageId: string | null;
  sentAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface TestSendResult {
  email: string;
  status: 'sent' | 'failed';
  messageId?: string;
  error?: string;
}

/**
 * Sending a campaign: send now (checks, SENDING, fan-out in the background),
 * test sends, the per-recipient log and re-queuing failed messages.
 */
export class CampaignSendService {
  constructor(
    private readonly deps: {
      db: Kysely<DB>;
      campaigns: CampaignRepository;
      messages: MessageRepository;
      references: CampaignReferences;
      quota: QuotaService;
      fanout: FanOut;
      templates: TemplateRepository;
      projects: ProjectRepository;
      suppressions: SuppressionRepository;
      renderer: TemplateRenderer;
      transports: TransportRegistry;
      capture: CaptureMailer;
      secret: string;
      clock: Clock;
      logger: FastifyBaseLogger;
    },
  ) {}

  /**
   * DRAFT or SCHEDULED → SENDING, after checking the template, the sender and
   * that the audience fits under the quota ceiling. The fan-out runs in the
   * background; should this process die first, any worker's scheduler picks
   * the campaign up again.
   */
  async send(tenantId: string, id: string, mode: KeyMode): Promise<Campaign> {
    const campaign = await this.load(tenantId, id);
    if (!canPerform('send', campaign.status as CampaignStatus)) throw invalidState('campaign', campaign.status, 'send');
    await this.deps.references.assertSendable(tenantId, campaign);
    const filter = campaign.audience_filter ? JSON.parse(campaign.audience_filter) : null;
    await this.deps.quota.assertRoomForAudience(tenantId, {
      upperBound: () => this.deps.fanout.countContacts(tenantId),
      exact: () => this.deps.fanout.countAudience(tenantId, filter),
    });

    const now = this.deps.clock().toISOString();
    const started = await this.deps.campaigns.updateIfStatus(tenantId, id, allowedFrom('send'), {
      status: 'SENDING',
      started_at: now,
      updated_at: now,
      send_mode: mode,
    });
    if (!started) throw invalidState('campaign', (await this.load(tenantId, id)).status, 'send');
    this.deps.fanout.run(tenantId, id).catch((err: unknown) => {
      this.deps.logger.error({ err, campaignId: id }, 'fan-out failed; the scheduler will retry it');
    });
    return toCampaign(await this.load(tenantId, id));
  }

  /**
   * Sends the campaign's email to 1–5 addresses now, subject prefixed with
   * "[Test] ": with the contact's data and locale variant when the address is
   * a contact, sample data otherwise. Status and counters do not change.
   */
  async test(tenantId: string, id: string, emails: string[], mode: KeyMode): Promise<TestSendResult[]> {
    const campaign = await this.load(tenantId, id);
    if (!canPerform('test', campaign.status as CampaignStatus)) throw invalidState('campaign', campaign.status, 'test');
    if (!campaign.template_version_id) {
      throw new AppError(422, 'TEMPLATE_REQUIRED', 'The campaign has no templateVersionId: attach a template version first');
    }
    const base = await this.deps.templates.getVersion(tenantId, campaign.template_version_id);
    if (!base) throw new AppError(422, 'INVALID_REFERENCE', 'The campaign’s template version no longer exists');
    const project = campaign.project_id ? await this.deps.projects.getById(tenantId, campaign.project_id) : undefined;
    if (campaign.project_id && !project) throw new AppError(422, 'INVALID_REFERENCE', 'The campaign’s SMTP project no longer exists');
    const variants = await this.deps.templates.publishedVariants(tenantId, base.id);
    const route = this.deps.transports.route(project, mode === 'test');
    const tenant = await this.deps.db.selectFrom('tenants').select('fallback_locale').where('id', '=', tenantId).executeTakeFirst();

    // Addresses as contacts store them; a suppressed one is refused before anything is sent.
    const addresses = [...new Set(emails.map((e) => normaliseEmail(e) ?? e.trim()))];
    const suppressed = [];
    for (const address of addresses) {
      if (await this.deps.suppressions.isSuppressed(tenantId, address)) suppressed.push(address);
    }
    if (suppressed.length > 0) {
      throw new AppError(
        422,
        'SUPPRESSED_RECIPIENT',
        `Suppressed addresses are never mailed, not even a test: ${suppressed.join(', ')}`,
        suppressed.map((address) => ({ field: 'emails', message: `${address} is suppressed` })),
      );
    }
    const results: TestSendResult[] = [];
    for (const [index, email] of addresses.entries()) {
      try {
        const contact = await this.deps.db
          .selectFrom('contacts')
          .select(['id', 'email', 'locale', 'external_id', 'attributes'])
          .where('tenant_id', '=', tenantId)
          .where('email', '=', email)
          .executeTakeFirst();
        const chosen = contact
          ? resolveVariant(contact.locale, variants.map((v) => ({ id: v.id, locale: v.locale })), tenant?.fallback_locale ?? null, base.id)
          : { versionId: base.id };
        const version = variants.find((v) => v.id === chosen.versionId) ?? base;
        const unsubscribeUrl = contact
          ? `${this.deps.transports.publicUrl}/u/${createUnsubscribeToken(this.deps.secret, { tenantId, contactId: contact.id, campaignId: null })}`
          : `${this.deps.transports.publicUrl}/u/test-send`;
        const rendered = await this.deps.renderer.render(
          {
            id: campaign.subject ? `${version.id}:${campaign.id}` : version.id,
            subject: campaign.subject ?? version.subject,
            htmlBody: version.html_body,
            textBody: version.text_body,
            variables: typeof version.variables === 'string' ? JSON.parse(version.variables) : (version.variables as never),
          },
          buildContext({
            contact: {
              email,
              locale: contact?.locale ?? null,
              externalId: contact?.external_id ?? null,
              attributes: contact ? parseAttributes(contact.attributes) : {},
            },
            unsubscribeUrl,
          }),
        );
        const mail = composeEmail({
          messageKey: `test.${campaign.id}.${Date.now()}.${index}`,
          to: email,
          sender: route.sender,
          rendered,
          unsubscribeUrl,
          subjectPrefix: '[Test] ',
        });
        const info = await route.mailer.send(mail, { folder: CaptureMailer.testSendFolder(tenantId, email), name: `${campaign.id}-${Date.now()}-${index}` });
        results.push({ email, status: 'sent', messageId: info.messageId });
      } catch (error) {
        results.push({ email, status: 'failed', error: (error as Error).message.slice(0, 500) });
      }
    }
    return results;
  }

  async listMessages(tenantId: string, id: string, status: MessageStatus | undefined, page: PageRequest): Promise<Page<MessageView>> {
    await this.load(tenantId, id);
    const { rows, total } = await this.deps.messages.list(tenantId, id, status, page);
    return toPage(rows.map(toMessageView), total, page);
  }

  /** The raw email as captured to the outbox (capture transport only). */
  async capturedEmail(tenantId: string, id: string, messageId: string): Promise<Buffer> {
    await this.load(tenantId, id);
    const numeric = /^\d{1,15}$/.test(messageId) ? Number(messageId) : undefined;
    const message = numeric === undefined ? undefined : await this.deps.messages.getById(tenantId, id, numeric);
    if (!message) throw notFound('Message');
    const captured = message.provider_response?.match(/^captured (.+)$/)?.[1];
    if (!captured) throw notFound('Captured email (the message was not captured, or not sent yet)');
    try {
      return await this.deps.capture.read(captured);
    } catch {
      throw notFound('Captured email (the file is gone from the outbox)');
    }
  }

  /** Re-queues FAILED messages, except suppressed addresses; the campaign goes back to SENDING. */
  async retryFailed(tenantId: string, id: string): Promise<{ requeued: number; campaign: Campaign }> {
    await this.load(tenantId, id);
    const requeued = await this.deps.messages.retryFailed(tenantId, id, this.deps.clock());
    const campaign = await this.load(tenantId, id);
    if (requeued === undefined) throw invalidState('campaign', campaign.status, 'retry failed messages of');
    return { requeued, campaign: toCampaign(campaign) };
  }

  private async load(tenantId: string, id: string): Promise<CampaignRow> {
    const row = isId(id) ? await this.deps.campaigns.getById(tenantId, id) : undefined;
    if (!row) throw notFound('Campaign');
    return row;
  }
}

function parseAttributes(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') {
    try {
      return JSON.parse(value) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  return (value as Record<string, unknown>) ?? {};
}

function toMessageView(row: MessageRow): MessageView {
  return {
    id: Number(row.id),
    contactId: row.contact_id,
    email: row.email,
    locale: row.locale,
    templateVersionId: row.template_version_id,
    status: row.status as MessageStatus,
    attempts: row.attempts,
    lastError: row.last_error,
    skipReason: row.skip_reason,
    providerMessageId: row.provider_message_id,
    sentAt: row.sent_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
