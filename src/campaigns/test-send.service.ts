import type { KeyMode } from '../auth/api-key.js';
import type { ContactRepository } from '../contacts/contact.repository.js';
import type { CampaignMailBuilder, Recipient } from '../delivery/campaign-mail.js';
import { CaptureMailer } from '../delivery/mailer.js';
import type { TransportRegistry } from '../delivery/transports.js';
import type { ProjectRepository } from '../projects/project.repository.js';
import { AppError, invalidState, notFound, validationError } from '../shared/errors.js';
import { normaliseLocale } from '../shared/locale.js';
import { normaliseEmail } from '../shared/email.js';
import { isId } from '../shared/ids.js';
import { parseJsonObject } from '../shared/json.js';
import type { SuppressionRepository } from '../suppressions/suppression.repository.js';
import type { TenantRepository } from '../tenants/tenant.repository.js';
import { resolveVariant } from '../templates/locale-routing.js';
import type { TemplateRepository, VersionRow } from '../templates/template.repository.js';
import { parseVariables } from '../templates/variables.js';
import type { Transaction } from '../db/database.js';
import { GRACE_PERCENT, monthOf, percentageOf, wouldExceed } from '../quota/quota.js';
import type { TestSendCountRepository } from '../quota/test-send-count.repository.js';
import type { UsageRepository } from '../quota/usage.repository.js';
import type { Clock } from '../shared/time.js';
import type { SigningKeys } from '../domains/signing-keys.js';
import type { CampaignRepository } from './campaign.repository.js';
import { canPerform } from './lifecycle.js';

export interface TestSendResult {
  email: string;
  status: 'sent' | 'failed';
  messageId?: string;
  error?: string;
}

export interface TestSendDeps {
  campaigns: CampaignRepository;
  templates: TemplateRepository;
  projects: ProjectRepository;
  contacts: ContactRepository;
  suppressions: SuppressionRepository;
  tenants: TenantRepository;
  transports: TransportRegistry;
  mail: CampaignMailBuilder;
  transaction: Transaction;
  usage: UsageRepository;
  testSendCounts: TestSendCountRepository;
  /** The tenant's verified domains' DKIM keys: test sends are signed as campaign mail is. */
  signingKeys: SigningKeys;
  clock: Clock;
  /** Test sends per tenant per UTC hour (TEST_SENDS_PER_HOUR). */
  perHour: number;
  /** Told when the tenant's usage changed (the quota headers' cache). */
  onUsageChanged?: (tenantId: string) => void;
}

/**
 * Sends a campaign's email to 1–5 addresses now, subject prefixed with
 * "[Test] ": with the contact's data and locale variant when the address is
 * a contact, sample data otherwise — built by the same CampaignMailBuilder
 * as real deliveries. Status and counters do not change; each address counts
 * toward the month's quota (same 110 % ceiling as campaigns) and toward the
 * tenant's test sends of the hour (`perHour`), both taken before anything is sent.
 */
export class TestSendService {
  constructor(private readonly deps: TestSendDeps) {}

  /** `locale`, when given, picks every copy's variant (as for a contact of that locale) instead of each address's own. */
  async test(tenantId: string, id: string, emails: string[], mode: KeyMode, locale?: string): Promise<TestSendResult[]> {
    const chosenLocale = locale === undefined ? undefined : normaliseLocale(locale);
    if (locale !== undefined && !chosenLocale) {
      throw validationError('Invalid test send', [{ field: 'locale', message: `"${locale}" is not a BCP 47 language tag` }]);
    }
    const campaign = isId(id) ? await this.deps.campaigns.getById(tenantId, id) : undefined;
    if (!campaign) throw notFound('Campaign');
    if (!canPerform('test', campaign.status)) throw invalidState('campaign', campaign.status, 'test');
    if (!campaign.template_version_id) {
      throw new AppError(422, 'TEMPLATE_REQUIRED', 'The campaign has no templateVersionId: attach a template version first');
    }
    const base = await this.deps.templates.getVersion(tenantId, campaign.template_version_id);
    if (!base) throw new AppError(422, 'INVALID_REFERENCE', 'The campaign’s template version no longer exists');
    const project = campaign.project_id ? await this.deps.projects.getById(tenantId, campaign.project_id) : undefined;
    if (campaign.project_id && !project) throw new AppError(422, 'INVALID_REFERENCE', 'The campaign’s SMTP project no longer exists');
    const [variants, tenant] = await Promise.all([
      this.deps.templates.publishedVariants(tenantId, base.id),
      this.deps.tenants.getById(tenantId),
    ]);
    const route = this.deps.transports.route(project, mode === 'test');
    const signingKeys = await this.deps.signingKeys.of(tenantId);

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
    await this.take(tenantId, tenant?.monthly_quota ?? 0, addresses.length);
    const results: TestSendResult[] = [];
    for (const [index, email] of addresses.entries()) {
      try {
        const contact = await this.deps.contacts.getByEmail(tenantId, email);
        const recipient: Recipient = {
          email,
          contact: contact
            ? { id: contact.id, locale: contact.locale, externalId: contact.external_id, attributes: parseJsonObject(contact.attributes) }
            : null,
        };
        const recipientLocale = chosenLocale ?? contact?.locale;
        const chosen =
          recipientLocale !== undefined ? resolveVariant(recipientLocale, variants, tenant?.fallback_locale ?? null, base.id) : { versionId: base.id };
        const version = variants.find((v) => v.id === chosen.versionId) ?? base;
        const mail = await this.deps.mail.build({
          tenantId,
          campaign: { id: campaign.id, subject: campaign.subject, name: campaign.name },
          senderId: campaign.project_id ?? 'default',
          version: renderable(version),
          recipient,
          sender: route.sender,
          signingKeys,
          messageKey: `test.${campaign.id}.${Date.now()}.${index}`,
          test: true,
        });
        const info = await route.mailer.send(mail, { folder: CaptureMailer.testSendFolder(tenantId, email), name: `${campaign.id}-${Date.now()}-${index}` });
        results.push({ email, status: 'sent', messageId: info.messageId });
      } catch (error) {
        results.push({ email, status: 'failed', error: (error as Error).message.slice(0, 500) });
      }
    }
    if (results.some((r) => r.status === 'sent')) await this.deps.campaigns.recordTestSend(tenantId, campaign.id, this.deps.clock().toISOString());
    return results;
  }

  /**
   * In one transaction, with the month's usage row locked: 429 QUOTA_EXCEEDED
   * past the ceiling, 429 TEST_SEND_LIMIT past the hour's allowance (with
   * `retryAfter`, the seconds to the next hour), else both counted.
   */
  private async take(tenantId: string, limit: number, count: number): Promise<void> {
    const now = this.deps.clock();
    const month = monthOf(now);
    const hour = now.toISOString().slice(0, 13);
    await this.deps.transaction(async (trx) => {
      const usage = this.deps.usage.in(trx);
      const used = await usage.lockMonth(tenantId, month);
      if (wouldExceed(limit, used, count)) {
        throw new AppError(
          429,
          'QUOTA_EXCEEDED',
          `Sending ${count} test emails would exceed the monthly quota (limit ${limit}, used ${used}, at most ${GRACE_PERCENT} % allowed)`,
          undefined,
          { quota: { limit, used, percentage: percentageOf(limit, used) } },
        );
      }
      if (!(await this.deps.testSendCounts.in(trx).take(tenantId, hour, count, this.deps.perHour))) {
        const nextHour = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), now.getUTCHours() + 1);
        const retryAfter = Math.max(1, Math.ceil((nextHour - now.getTime()) / 1000));
        throw new AppError(
          429,
          'TEST_SEND_LIMIT',
          `At most ${this.deps.perHour} test emails per hour per tenant; retry in ${retryAfter} s`,
          undefined,
          { retryAfter },
        );
      }
      await usage.add(tenantId, month, count);
    });
    this.deps.onUsageChanged?.(tenantId);
  }
}

const renderable = (row: VersionRow) => ({
  id: row.id,
  subject: row.subject,
  htmlBody: row.html_body,
  textBody: row.text_body,
  variables: parseVariables(row.variables),
});
