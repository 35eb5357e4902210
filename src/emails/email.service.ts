import { createHash } from 'node:crypto';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { KeyMode } from '../auth/api-key.js';
import { coveringDomain } from '../campaigns/preflight.js';
import type { ContactRepository } from '../contacts/contact.repository.js';
import type { Transaction } from '../db/database.js';
import type { MessageStatus } from '../db/enums.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Sender } from '../delivery/compose.js';
import type { CaptureMailer } from '../delivery/mailer.js';
import type { MessageRepository } from '../delivery/message.repository.js';
import type { QueueSignal } from '../delivery/worker.js';
import type { SendingDomainRepository } from '../domains/sending-domain.repository.js';
import { toPublicEvent } from '../events/event-log.js';
import type { EventRepository } from '../events/event.repository.js';
import type { ProjectRepository, ProjectRow } from '../projects/project.repository.js';
import { GRACE_PERCENT, monthOf, percentageOf, wouldExceed } from '../quota/quota.js';
import type { UsageRepository } from '../quota/usage.repository.js';
import { AppError, notFound, type ErrorDetail } from '../shared/errors.js';
import { newId, isId } from '../shared/ids.js';
import { parseJsonColumn, parseJsonObject } from '../shared/json.js';
import { toPage, type Page, type PageRequest } from '../shared/pagination.js';
import type { Clock } from '../shared/time.js';
import type { SuppressionRepository } from '../suppressions/suppression.repository.js';
import { resolveVariant } from '../templates/locale-routing.js';
import { buildContext, inert, TemplateRenderError, TemplateSyntaxError, type RenderableVersion, type RenderedEmail, type TemplateRenderer } from '../templates/render.js';
import type { TemplateRepository, VersionRow } from '../templates/template.repository.js';
import { parseVariables } from '../templates/variables.js';
import type { TenantRepository } from '../tenants/tenant.repository.js';
import { createUnsubscribeToken } from '../unsubscribe/token.js';
import { validationDetails } from '../http/validation.js';
import { checkEmailInput, idempotencyKeyOf, LIMITS, requestFingerprint, type EmailInput } from './email-input.js';
import type { BatchResult, EmailAccepted, EmailDetail, EmailLogItem, EmailLogQuery, EmailStatus, SendEmailBody } from './email.schemas.js';
import type { EmailWithMessage, NewTransactionalEmailRow, TransactionalEmailRepository } from './transactional-email.repository.js';
import { normaliseEmail } from '../shared/email.js';

export interface EmailServiceDeps {
  transaction: Transaction;
  emails: TransactionalEmailRepository;
  messages: MessageRepository;
  contacts: ContactRepository;
  suppressions: SuppressionRepository;
  templates: TemplateRepository;
  tenants: TenantRepository;
  projects: ProjectRepository;
  domains: SendingDomainRepository;
  usage: UsageRepository;
  events: EventRepository;
  renderer: TemplateRenderer;
  capture: CaptureMailer;
  /** The operator's From (MAIL_FROM): always allowed. */
  defaultSender: Sender;
  /** Signs the unsubscribe links of emails to contacts. */
  secret: string;
  publicUrl: string;
  clock: Clock;
  /** Woken after each accept: a worker in this process looks at once. */
  queued: QueueSignal;
  /** The batch item schema, compiled (the route's body validator for `POST /emails/send`). */
  validateItem: ValidateFunction;
  /** Told when the tenant's usage changed (the quota headers' cache). */
  onUsageChanged?: (tenantId: string) => void;
  /** How long `?sync=true` waits (default 10 s) and how often it looks. */
  syncWaitMs?: number;
  syncPollMs?: number;
}

/** The answer to a send, and whether it is the replay of an earlier one (`Idempotent-Replayed`). */
export interface SendAnswer {
  statusCode: 200 | 202;
  body: EmailAccepted;
  replayed: boolean;
}

/** One email ready to be queued: its content row (without the queue row's id) and its queue row. */
interface PreparedEmail {
  row: Omit<NewTransactionalEmailRow, 'message_id' | 'created_at'>;
  contactId: string | null;
  to: string;
  locale: string | null;
  templateVersionId: string | null;
  scheduledAt: string | null;
}

/** What a batch or a send loads once per request. */
interface RequestScope {
  tenantId: string;
  mode: KeyMode;
  now: Date;
  verifiedDomains: () => Promise<string[]>;
  project: (id: string) => Promise<ProjectRow | undefined>;
  fallbackLocale: () => Promise<string | null>;
}

const FINAL: ReadonlySet<MessageStatus> = new Set(['SENT', 'FAILED', 'CANCELLED', 'SKIPPED']);

/**
 * Transactional email (docs/SENDING.md): checked, rendered and queued when
 * accepted — one transaction per accept, with the month's quota taken in it
 * — then sent by the priority lane of any worker. The content is rendered
 * now (templates through the render pool; raw content passed through it
 * inert, so its text part is derived there), so what a worker sends is
 * exactly what was accepted.
 */
export class EmailService {
  constructor(private readonly deps: EmailServiceDeps) {}

  async send(tenantId: string, mode: KeyMode, body: SendEmailBody, header: string | string[] | undefined, sync: boolean): Promise<SendAnswer> {
    const key = idempotencyKeyOf(body.idempotencyKey, header);
    const fingerprint = key === undefined ? null : requestFingerprint(body, mode);
    if (key !== undefined) {
      const existing = await this.deps.emails.getByIdempotencyKey(tenantId, key);
      if (existing) return replay(existing, fingerprint!);
    }
    const scope = this.scopeOf(tenantId, mode);
    const prepared = await this.prepare(scope, checkEmailInput(body, scope.now), body);
    prepared.row.idempotency_key = key ?? null;
    prepared.row.request_fingerprint = fingerprint;
    try {
      await this.accept(scope, [prepared]);
    } catch (error) {
      if (key !== undefined && isUniqueViolation(error)) {
        // Another request with this key won the race: its email is the answer.
        const winner = await this.deps.emails.getByIdempotencyKey(tenantId, key);
        if (winner) return replay(winner, fingerprint!);
      }
      throw error;
    }
    const accepted: EmailAccepted = { id: prepared.row.id, status: prepared.scheduledAt ? 'SCHEDULED' : 'QUEUED', queued: true };
    if (sync && !prepared.scheduledAt) return this.waitForOutcome(tenantId, accepted);
    return { statusCode: 202, body: accepted, replayed: false };
  }

  /**
   * 1–100 emails, each judged on its own; the valid ones queued in one
   * transaction (429 for the whole batch past the quota ceiling). An item's
   * `idempotencyKey` works as on `POST /emails/send`.
   */
  async batch(tenantId: string, mode: KeyMode, items: readonly unknown[]): Promise<BatchResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.batchOnce(tenantId, mode, items);
      } catch (error) {
        // A key taken by a concurrent request since we looked: judge the batch again (that item is now a replay).
        if (attempt < 3 && isUniqueViolation(error)) continue;
        throw error;
      }
    }
  }

  private async batchOnce(tenantId: string, mode: KeyMode, items: readonly unknown[]): Promise<BatchResult> {
    const scope = this.scopeOf(tenantId, mode);
    const results: BatchResult['data'] = [];
    const toQueue: PreparedEmail[] = [];
    const keys = new Set<string>();
    for (const [index, item] of items.entries()) {
      try {
        if (!this.deps.validateItem(item)) {
          throw new AppError(400, 'VALIDATION_ERROR', 'Invalid email', validationDetails((this.deps.validateItem.errors ?? []) as ErrorObject[], 'body'));
        }
        const body = item as SendEmailBody;
        const key = body.idempotencyKey;
        const fingerprint = key === undefined ? null : requestFingerprint(body, mode);
        if (key !== undefined) {
          if (keys.has(key)) throw new AppError(409, 'IDEMPOTENCY_KEY_REUSED', 'This idempotencyKey is used by another item of the batch');
          keys.add(key);
          const existing = await this.deps.emails.getByIdempotencyKey(tenantId, key);
          if (existing) {
            const answer = replay(existing, fingerprint!);
            results.push({ index, id: answer.body.id, status: answer.body.status });
            continue;
          }
        }
        const prepared = await this.prepare(scope, checkEmailInput(body, scope.now), body);
        prepared.row.idempotency_key = key ?? null;
        prepared.row.request_fingerprint = fingerprint;
        toQueue.push(prepared);
        results.push({ index, id: prepared.row.id, status: prepared.scheduledAt ? 'SCHEDULED' : 'QUEUED' });
      } catch (error) {
        if (!(error instanceof AppError) || error.statusCode === 429) throw error;
        results.push({ index, error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } });
      }
    }
    if (toQueue.length > 0) await this.accept(scope, toQueue);
    return { data: results, meta: { queued: toQueue.length, failed: results.filter((r) => r.error).length } };
  }

  async logs(tenantId: string, query: EmailLogQuery): Promise<Page<EmailLogItem>> {
    const page = { page: query.page, limit: query.limit };
    const now = this.deps.clock().toISOString();
    const to = query.to === undefined ? undefined : (normaliseEmail(query.to) ?? query.to.trim());
    const { rows, total } = await this.deps.emails.list(
      tenantId,
      {
        now,
        ...(query.status ? { status: query.status } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(query.tag !== undefined ? { tag: query.tag } : {}),
        ...(query.since !== undefined ? { since: new Date(query.since).toISOString() } : {}),
        ...(query.until !== undefined ? { until: new Date(query.until).toISOString() } : {}),
      },
      page,
    );
    return toPage(
      rows.map((row) => logItem(row, now)),
      total,
      page,
    );
  }

  async get(tenantId: string, id: string): Promise<EmailDetail> {
    const row = await this.find(tenantId, id);
    // Events carry the queue row's id; read from a little before the email was accepted (clocks of several hosts).
    const since = new Date(Date.parse(row.created_at) - 3_600_000).toISOString();
    const events = await this.deps.events.forMessage(tenantId, row.message_id, since);
    const now = this.deps.clock().toISOString();
    return {
      ...logItem(row, now),
      contactId: row.contact_id,
      fromEmail: row.from_email,
      fromName: row.from_name,
      replyTo: row.reply_to,
      projectId: row.project_id,
      templateVersionId: row.template_version_id,
      locale: row.locale,
      metadata: row.metadata === null ? null : parseJsonObject(row.metadata),
      tracking: { opens: row.track_opens === 1, clicks: row.track_clicks === 1 },
      bypassUnsubscribe: row.bypass_unsubscribe === 1,
      mode: row.send_mode,
      attempts: row.attempts,
      events: events.map(toPublicEvent),
    };
  }

  /** A captured email (an `mc_test_` key, or no SMTP transport) as it would have been sent. */
  async raw(tenantId: string, id: string): Promise<Buffer> {
    const row = await this.find(tenantId, id);
    const captured = row.provider_response?.match(/^captured (.+)$/)?.[1];
    if (!captured) throw notFound('Captured email (the email was not captured, or not sent yet)');
    try {
      return await this.deps.capture.read(captured);
    } catch {
      throw notFound('Captured email (the file is gone from the outbox)');
    }
  }

  async scheduled(tenantId: string, page: PageRequest): Promise<Page<EmailLogItem>> {
    const now = this.deps.clock().toISOString();
    const { rows, total } = await this.deps.emails.scheduled(tenantId, page);
    return toPage(
      rows.map((row) => logItem(row, now)),
      total,
      page,
    );
  }

  /**
   * A scheduled email that has not gone yet → CANCELLED, and its quota
   * given back to the month it was counted in. 409 once a worker took it
   * (or it was cancelled already).
   */
  async cancelScheduled(tenantId: string, id: string): Promise<EmailAccepted> {
    const row = await this.find(tenantId, id);
    if (row.scheduled_at === null) throw notFound('Scheduled email');
    const at = this.deps.clock().toISOString();
    const cancelled = await this.deps.transaction(async (trx) => {
      if (!(await this.deps.messages.in(trx).cancelTransactional(tenantId, row.message_id, at))) return false;
      const month = row.created_at.slice(0, 7);
      const usage = this.deps.usage.in(trx);
      const used = await usage.lockMonth(tenantId, month);
      if (used > 0) await usage.add(tenantId, month, -1);
      return true;
    });
    if (!cancelled) {
      const current = (await this.deps.emails.statusOf(tenantId, row.message_id)) ?? row.status;
      throw new AppError(409, 'INVALID_STATE', `Cannot cancel a scheduled email in status ${current}`, undefined, { currentStatus: current });
    }
    this.deps.onUsageChanged?.(tenantId);
    return { id: row.id, status: 'CANCELLED', queued: false };
  }

  private async find(tenantId: string, id: string): Promise<EmailWithMessage> {
    const row = isId(id) ? await this.deps.emails.getById(tenantId, id) : undefined;
    if (!row) throw notFound('Email');
    return row;
  }

  private scopeOf(tenantId: string, mode: KeyMode): RequestScope {
    const once = <T>(load: () => Promise<T>) => {
      let value: Promise<T> | undefined;
      return () => (value ??= load());
    };
    const projects = new Map<string, Promise<ProjectRow | undefined>>();
    return {
      tenantId,
      mode,
      now: this.deps.clock(),
      verifiedDomains: once(async () => (await this.deps.domains.verifiedKeys(tenantId)).map((d) => d.name)),
      fallbackLocale: once(async () => (await this.deps.tenants.getById(tenantId))?.fallback_locale ?? null),
      project: (id) => {
        if (!projects.has(id)) projects.set(id, isId(id) ? this.deps.projects.getById(tenantId, id) : Promise.resolve(undefined));
        return projects.get(id)!;
      },
    };
  }

  /** Looks up, checks and renders one email; throws the AppError that refuses it. */
  private async prepare(scope: RequestScope, input: EmailInput, body: SendEmailBody): Promise<PreparedEmail> {
    const { tenantId } = scope;
    const project = input.projectId === null ? undefined : await scope.project(input.projectId);
    if (input.projectId !== null && !project) {
      throw new AppError(422, 'INVALID_REFERENCE', 'projectId names no SMTP project of this tenant', [{ field: 'projectId', message: 'does not exist' }]);
    }

    const suppression = await this.deps.suppressions.get(tenantId, input.to);
    if (suppression && !(input.bypassUnsubscribe && suppression.reason === 'unsubscribe')) {
      throw new AppError(
        422,
        'SUPPRESSED_RECIPIENT',
        `${input.to} is suppressed (${suppression.reason})${suppression.reason === 'unsubscribe' ? '; bypassUnsubscribe: true sends to it anyway' : ''}`,
        [{ field: 'to', message: `is suppressed (${suppression.reason})` }],
      );
    }

    const sender = await this.senderOf(scope, input, project);
    const contact = await this.deps.contacts.getByEmail(tenantId, input.to);

    let rendered: RenderedEmail;
    let subject: string;
    let templateVersionId: string | null = null;
    let locale: string | null = input.locale ?? contact?.locale ?? null;
    let unsubscribeUrl: string | null = null;
    if (input.templateVersionId !== null) {
      const base = isId(input.templateVersionId) ? await this.deps.templates.getVersion(tenantId, input.templateVersionId) : undefined;
      if (!base) {
        throw new AppError(422, 'INVALID_REFERENCE', 'templateVersionId names no template version of this tenant', [
          { field: 'templateVersionId', message: 'does not exist' },
        ]);
      }
      if (base.status !== 'PUBLISHED') {
        throw new AppError(422, 'TEMPLATE_NOT_PUBLISHED', 'Only a PUBLISHED template version can be sent', [
          { field: 'templateVersionId', message: `is ${base.status}` },
        ]);
      }
      const variants = await this.deps.templates.publishedVariants(tenantId, base.id);
      const chosen = resolveVariant(locale, variants, await scope.fallbackLocale(), base.id);
      const version = variants.find((v) => v.id === chosen.versionId) ?? base;
      templateVersionId = version.id;
      locale = chosen.locale ?? locale;
      const url = contact ? this.unsubscribeUrl(tenantId, contact.id, input.unsubscribeLang) : '';
      const context = buildContext({
        contact: { email: input.to, locale, externalId: contact?.external_id ?? null, attributes: contact ? parseJsonObject(contact.attributes) : {} },
        unsubscribeUrl: url,
        data: input.variables,
      });
      rendered = await this.render(renderable(version), context);
      subject = input.subject ?? rendered.subject.replace(/[\r\n]+/g, ' ').trim();
      if (subject.length === 0) throw new AppError(422, 'RENDER_FAILED', 'The template rendered an empty subject', [{ field: 'subject', message: 'is empty' }]);
      if (subject.length > LIMITS.subjectChars) {
        throw new AppError(422, 'RENDER_FAILED', `The rendered subject is longer than ${LIMITS.subjectChars} characters`, [{ field: 'subject', message: 'too long' }]);
      }
      // The one-click headers go only with an email that shows the link.
      if (url && (rendered.html.includes(url) || rendered.text.includes(url))) unsubscribeUrl = url;
    } else {
      const sources = `${input.subject}\n${input.htmlBody}\n${input.textBody ?? ''}`;
      const version: RenderableVersion = {
        id: `tx:${createHash('sha256').update(sources).digest('hex').slice(0, 32)}`,
        subject: inert(input.subject!),
        htmlBody: inert(input.htmlBody!),
        textBody: input.textBody === null ? null : inert(input.textBody),
      };
      rendered = await this.render(version, {}, true);
      subject = input.subject!;
      if (input.textBody !== null) rendered = { ...rendered, text: input.textBody };
    }

    const id = newId();
    return {
      to: input.to,
      contactId: contact?.id ?? null,
      locale,
      templateVersionId,
      scheduledAt: input.scheduledAt,
      row: {
        id,
        tenant_id: tenantId,
        to_email: input.to,
        contact_id: contact?.id ?? null,
        from_email: sender.fromEmail,
        from_name: sender.fromName,
        reply_to: sender.replyTo,
        project_id: project?.id ?? null,
        subject,
        html_body: rendered.html,
        text_body: rendered.text,
        template_version_id: templateVersionId,
        locale,
        unsubscribe_url: unsubscribeUrl,
        tags: JSON.stringify(input.tags),
        metadata: input.metadata === null ? null : JSON.stringify(input.metadata),
        track_opens: input.trackOpens ? 1 : 0,
        track_clicks: input.trackClicks ? 1 : 0,
        bypass_unsubscribe: input.bypassUnsubscribe ? 1 : 0,
        send_mode: scope.mode,
        scheduled_at: input.scheduledAt,
        idempotency_key: body.idempotencyKey ?? null,
        request_fingerprint: null,
      },
    };
  }

  /**
   * From: the given address when a VERIFIED sending domain of the tenant
   * covers it (exactly or as its organisational domain) or it is the
   * project's or the operator's From; default the project's From, else the
   * operator's. Name and Reply-To default to that sender's own.
   */
  private async senderOf(scope: RequestScope, input: EmailInput, project: ProjectRow | undefined): Promise<Sender> {
    const base: Sender = project
      ? { fromEmail: project.from_email, fromName: project.from_name, replyTo: project.reply_to }
      : this.deps.defaultSender;
    if (input.fromEmail === null) {
      return { fromEmail: base.fromEmail, fromName: input.fromName ?? base.fromName, replyTo: input.replyTo ?? base.replyTo };
    }
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    const known = [base.fromEmail, this.deps.defaultSender.fromEmail].some((address) => same(address, input.fromEmail!));
    if (!known && coveringDomain(input.fromEmail, await scope.verifiedDomains()) === undefined) {
      throw new AppError(
        422,
        'FROM_NOT_VERIFIED',
        `${input.fromEmail} is on no VERIFIED sending domain of this tenant (POST /domains, then verify) and is not the project's or the default From`,
        [{ field: 'fromEmail', message: 'is not on a verified sending domain' }],
      );
    }
    const isBase = same(base.fromEmail, input.fromEmail);
    return {
      fromEmail: input.fromEmail,
      fromName: input.fromName ?? (isBase ? base.fromName : null),
      replyTo: input.replyTo ?? (isBase ? base.replyTo : null),
    };
  }

  private unsubscribeUrl(tenantId: string, contactId: string, lang: string | null): string {
    const token = createUnsubscribeToken(this.deps.secret, { tenantId, contactId, campaignId: null });
    return `${this.deps.publicUrl}/u/${token}${lang ? `?lang=${encodeURIComponent(lang)}` : ''}`;
  }

  /** `once`: raw content, rendered without being cached (TemplateRenderer.renderOnce). */
  private async render(version: RenderableVersion, context: Record<string, unknown>, once = false): Promise<RenderedEmail> {
    try {
      return await (once ? this.deps.renderer.renderOnce(version, context) : this.deps.renderer.render(version, context));
    } catch (error) {
      if (error instanceof TemplateRenderError || error instanceof TemplateSyntaxError) {
        throw new AppError(422, 'RENDER_FAILED', `The email could not be rendered: ${error.message}`.slice(0, 1000));
      }
      throw error;
    }
  }

  /**
   * Queues the emails in one transaction with the month's usage row locked
   * (as test sends and fan-outs take quota): 429 QUOTA_EXCEEDED past the
   * ceiling, nothing queued; else each email's queue row and content row,
   * and the usage counted.
   */
  private async accept(scope: RequestScope, emails: PreparedEmail[]): Promise<void> {
    const { tenantId, now } = scope;
    const at = now.toISOString();
    const month = monthOf(now);
    const limit = (await this.deps.tenants.getById(tenantId))?.monthly_quota ?? 0;
    await this.deps.transaction(async (trx) => {
      const usage = this.deps.usage.in(trx);
      const used = await usage.lockMonth(tenantId, month);
      if (wouldExceed(limit, used, emails.length)) {
        throw new AppError(
          429,
          'QUOTA_EXCEEDED',
          `Sending ${emails.length} email${emails.length === 1 ? '' : 's'} would exceed the monthly quota (limit ${limit}, used ${used}, at most ${GRACE_PERCENT} % allowed)`,
          undefined,
          { quota: { limit, used, percentage: percentageOf(limit, used) } },
        );
      }
      const messages = this.deps.messages.in(trx);
      const rows = this.deps.emails.in(trx);
      for (const email of emails) {
        const messageId = await messages.queueTransactional({
          tenantId,
          contactId: email.contactId,
          email: email.to,
          locale: email.locale,
          templateVersionId: email.templateVersionId,
          dueAt: email.scheduledAt ?? at,
          at,
        });
        await rows.insert({ ...email.row, message_id: messageId, created_at: at });
      }
      await usage.add(tenantId, month, emails.length);
    });
    this.deps.onUsageChanged?.(tenantId);
    this.deps.queued.notify('transactional');
  }

  /** `?sync=true`: the outcome a worker records within the wait (200), else the email still queued (202). */
  private async waitForOutcome(tenantId: string, accepted: EmailAccepted): Promise<SendAnswer> {
    const row = await this.deps.emails.getById(tenantId, accepted.id);
    const deadline = Date.now() + (this.deps.syncWaitMs ?? 10_000);
    while (row) {
      const status = await this.deps.emails.statusOf(tenantId, row.message_id);
      if (status && FINAL.has(status)) return { statusCode: 200, body: { ...accepted, status }, replayed: false };
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, this.deps.syncPollMs ?? 50));
    }
    return { statusCode: 202, body: accepted, replayed: false };
  }
}

/** The status the API shows: the queue's, SCHEDULED while a scheduled email waits for its time. */
export function emailStatus(row: Pick<EmailWithMessage, 'status' | 'scheduled_at'>, now: string): EmailStatus {
  return row.status === 'QUEUED' && row.scheduled_at !== null && row.scheduled_at > now ? 'SCHEDULED' : row.status;
}

function logItem(row: EmailWithMessage, now: string): EmailLogItem {
  return {
    id: row.id,
    toEmail: row.to_email,
    subject: row.subject,
    status: emailStatus(row, now),
    messageId: row.provider_message_id,
    tags: parseJsonColumn<string[]>(row.tags) ?? [],
    createdAt: row.created_at,
    scheduledAt: row.scheduled_at,
    sentAt: row.sent_at,
    lastError: row.last_error,
  };
}

/** The answer to a key seen before: the original email's (same request), else 409. */
function replay(existing: EmailWithMessage, fingerprint: string): SendAnswer {
  if (existing.request_fingerprint === null) {
    throw new AppError(409, 'IDEMPOTENT_ANSWER_ERASED', 'The email sent with this idempotency key was erased since; it is not sent again');
  }
  if (existing.request_fingerprint !== fingerprint) {
    throw new AppError(409, 'IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used with a different request');
  }
  return { statusCode: 202, body: { id: existing.id, status: existing.scheduled_at ? 'SCHEDULED' : 'QUEUED', queued: true }, replayed: true };
}

const renderable = (row: VersionRow): RenderableVersion => ({
  id: row.id,
  subject: row.subject,
  htmlBody: row.html_body,
  textBody: row.text_body,
  variables: parseVariables(row.variables),
});

export type { ErrorDetail };
