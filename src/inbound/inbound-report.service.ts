import type { Transaction } from '../db/database.js';
import type { ContactRepository } from '../contacts/contact.repository.js';
import { classifyRefusal } from '../delivery/bounce-classification.js';
import type { BounceClaims } from '../delivery/bounce-address.js';
import type { MessageRepository } from '../delivery/message.repository.js';
import type { EventLog } from '../events/event-log.js';
import { messageEvent, type NewEvent } from '../events/event-types.js';
import type { Clock } from '../shared/time.js';
import { NO_CAMPAIGN } from '../tracking/token.js';
import type { SoftBounceRepository } from '../suppressions/soft-bounce.repository.js';
import type { SuppressionRepository } from '../suppressions/suppression.repository.js';
import type { InboundReportRepository, ReportKind } from './inbound-report.repository.js';
import { parseReport, plainBounceOf, type InboundReport, type PlainRefusal } from './report-parser.js';

/** What a report asks of its message's address, decided from the report alone (pure). */
export type ReportEffect =
  | { kind: ReportKind; action: 'hard' | 'soft' | 'complaint'; diagnostic: string | null }
  | { kind: null; reason: string };

export function effectOf(report: InboundReport): ReportEffect {
  if (report.kind === 'unrecognised') return { kind: null, reason: report.reason };
  if (report.kind === 'complaint') return { kind: 'complaint', action: 'complaint', diagnostic: null };
  const { recipient } = report;
  const delayed = recipient.action === 'delayed';
  const classification = classifyRefusal({
    stage: 'dsn',
    ...(recipient.status ? { enhanced: recipient.status } : {}),
    ...(recipient.diagnostic ? { text: recipient.diagnostic } : {}),
    // No status at all: the Action field is the verdict.
    ...(!recipient.status ? { basic: delayed ? 450 : 550 } : {}),
  });
  const diagnostic = recipient.diagnostic ?? recipient.status;
  // A delay notice is never final, whatever code it quotes.
  if (delayed) return { kind: 'delayed', action: 'soft', diagnostic };
  if (classification.class === 'hard') return { kind: 'bounce', action: 'hard', diagnostic };
  if (classification.class === 'soft') return { kind: 'bounce', action: 'soft', diagnostic };
  return { kind: null, reason: `DSN ${recipient.status ?? ''} classified ${classification.class}: not a bounce of the address`.replace(/\s+/g, ' ') };
}

/**
 * A plain-text bounce's quoted status, classified like a DSN's `Status`
 * (stage `dsn`): hard or soft is a bounce of the address; anything else
 * (policy blocks, content, protocol) is not.
 */
export function plainEffectOf(refusal: PlainRefusal): ReportEffect {
  const classification = classifyRefusal({
    stage: 'dsn',
    ...(refusal.basic !== undefined ? { basic: refusal.basic } : {}),
    ...(refusal.enhanced ? { enhanced: refusal.enhanced } : {}),
    text: refusal.text,
  });
  if (classification.class === 'hard') return { kind: 'bounce', action: 'hard', diagnostic: refusal.text };
  if (classification.class === 'soft') return { kind: 'bounce', action: 'soft', diagnostic: refusal.text };
  const code = [refusal.basic, refusal.enhanced].filter((c) => c !== undefined).join(' ');
  return { kind: null, reason: `plain-text bounce ${code} classified ${classification.class}: not a bounce of the address` };
}

export interface InboundMail {
  /** The verified claims of the bounce address it was sent to. */
  claims: BounceClaims;
  rcptTo: string;
  mailFrom: string | null;
  remoteAddress: string | null;
  raw: Buffer;
}

/**
 * The message a report is about, as its source names it. The tenant is
 * the one the report came in for (a bounce address's token, a provider
 * integration's owner); the message must be that tenant's.
 */
export interface ReportTarget {
  tenantId: string;
  messageId: number;
  /** The campaign a quoted Message-ID names: it must be the message's. */
  campaignId?: string;
  /** The address the report names (provider webhooks): it must be the one the message was sent to. */
  email?: string;
  /**
   * Attributed by our Message-ID alone (no signed token): a message whose
   * address is gone (erased) cannot be checked against the report's, so it
   * is not acted on.
   */
  unsigned?: boolean;
}

/** One report, from any source (SMTP listener, provider webhook), ready to be applied. */
export interface ReportToApply {
  /** The tenant it came in for; kept with it when unmatched. */
  tenantId: string;
  /** The message it is about, or why none could be named. */
  target: ReportTarget | { reason: string };
  effect: ReportEffect;
  /** What is kept in bounces_unmatched when it cannot be attributed or acted on. */
  original: { remoteAddress: string | null; mailFrom: string | null; rcptTo: string | null; raw: Buffer };
  /** Before the kept reason, e.g. `postmark: `. */
  source?: string;
}

export type InboundOutcome =
  | { outcome: 'applied'; effect: 'hard' | 'soft' | 'complaint'; tenantId: string; messageId: number }
  | { outcome: 'duplicate'; tenantId: string; messageId: number }
  | { outcome: 'unmatched'; reason: string; id: string };

export interface InboundReportServiceDeps {
  transaction: Transaction;
  reports: InboundReportRepository;
  messages: MessageRepository;
  suppressions: SuppressionRepository;
  softBounces: SoftBounceRepository;
  contacts: ContactRepository;
  eventLog: EventLog;
  softBounceLimit: number;
  /**
   * The circuit breaker (campaigns/campaign-breaker.ts, structurally: inbound
   * imports no campaign code), asked again after a late hard bounce or a
   * complaint: it pauses the message's campaign if it is still SENDING and
   * now passes the line.
   */
  breaker: { tripIfNeeded(tenantId: string, campaignId: string, at: string): Promise<unknown> };
  clock: Clock;
}

/**
 * Applies one report that came back to a bounce address, in one
 * transaction through the owners of each table: hard bounce → suppression
 * `bounce` and `email.bounced` hard; soft (or delayed) → `email.bounced`
 * soft and one more in the address's run of soft bounces; complaint →
 * suppression `complaint`, the contact opted out, `email.complained`. The
 * address acted on is the message row's, never one the report names (a
 * recipient could forge a report to its own bounce address). A message
 * never sent writes no event; an erased contact (no address on the row)
 * is neither resurrected nor named. A second report of the same kind for
 * the same message changes nothing. A report with no DSN or ARF structure
 * is applied like a DSN only when it quotes the Message-ID of the token's
 * own message (same number, same campaign) and an SMTP status in its text
 * (`plainBounceOf`). What cannot be attributed or acted on is kept in
 * bounces_unmatched.
 */
export class InboundReportService {
  constructor(private readonly deps: InboundReportServiceDeps) {}

  /** A message that came to a bounce address (the SMTP listener). */
  receive(mail: InboundMail): Promise<InboundOutcome> {
    const report = parseReport(mail.raw);
    let effect = effectOf(report);
    let campaignId: string | undefined;
    // No DSN or ARF structure: the fallback by the quoted Message-ID of the token's own message.
    if (report.kind === 'unrecognised') {
      const plain = plainBounceOf(mail.raw, mail.claims.messageId);
      if (plain.kind === 'plain') {
        effect = plainEffectOf(plain.refusal);
        campaignId = plain.campaignId;
      } else effect = { kind: null, reason: `${report.reason}; ${plain.reason}` };
    }
    return this.record({
      tenantId: mail.claims.tenantId,
      target: { ...mail.claims, ...(campaignId !== undefined ? { campaignId } : {}) },
      effect,
      original: { remoteAddress: mail.remoteAddress, mailFrom: mail.mailFrom, rcptTo: mail.rcptTo, raw: mail.raw },
    });
  }

  /**
   * The one path every report takes, whatever brought it (the SMTP
   * listener, a provider webhook): applied to its message when it names
   * one and asks something of its address, else kept in bounces_unmatched
   * with the reason.
   */
  async record(report: ReportToApply): Promise<InboundOutcome> {
    const at = this.deps.clock().toISOString();
    const { effect, target } = report;
    const verdict = effect.kind === null ? { reason: effect.reason } : 'reason' in target ? target : await this.apply(target, effect, at);
    if ('outcome' in verdict) return verdict;
    const reason = `${report.source ?? ''}${verdict.reason}`;
    const id = await this.deps.reports.keepUnmatched({ tenantId: report.tenantId, receivedAt: at, reason, ...report.original });
    return { outcome: 'unmatched', reason, id };
  }

  private async apply(
    target: ReportTarget,
    effect: Extract<ReportEffect, { kind: ReportKind }>,
    at: string,
  ): Promise<Exclude<InboundOutcome, { outcome: 'unmatched' }> | { reason: string }> {
    let judge: string | undefined; // the campaign to judge again once the report is committed
    const verdict = await this.deps.transaction(async (trx) => {
      const [message] = await this.deps.messages.in(trx).trackedMessages([target.messageId]);
      // The source names the tenant: a message of another tenant is not this report's.
      if (!message || message.tenantId !== target.tenantId) return { reason: 'the message no longer exists' };
      if (target.campaignId !== undefined && (message.campaignId ?? NO_CAMPAIGN).toLowerCase() !== target.campaignId.toLowerCase()) {
        return { reason: 'the quoted Message-ID names another campaign than the message' };
      }
      if (target.email !== undefined) {
        if (message.email === null ? target.unsigned : message.email.toLowerCase() !== target.email.toLowerCase()) {
          return { reason: 'the report names another address than the message was sent to' };
        }
      }
      const { tenantId, id: messageId } = message;
      if (!(await this.deps.reports.in(trx).claim(tenantId, messageId, effect.kind, at))) return { outcome: 'duplicate' as const, tenantId, messageId };

      const email = message.email;
      const suppressions = this.deps.suppressions.in(trx);
      const runs = this.deps.softBounces.in(trx);
      if (email && effect.action === 'hard') {
        await suppressions.suppress(tenantId, email, 'bounce', at);
        await runs.clear([{ tenantId, email }]);
      } else if (email && effect.action === 'soft') {
        const [run] = await runs.add([{ tenantId, email }], at);
        if (run && run.bounces >= this.deps.softBounceLimit) {
          await suppressions.suppress(tenantId, email, 'bounce', at);
          await runs.clear([{ tenantId, email }]);
        }
      } else if (email && effect.action === 'complaint') {
        await suppressions.suppress(tenantId, email, 'complaint', at);
        if (message.contactId) await this.deps.contacts.in(trx).optOut(tenantId, message.contactId, at);
      }

      // Never sent: nothing to count and nobody to tell about.
      if (message.sentAt !== null) {
        const erased = email === null || message.contactId === null;
        const subject = {
          tenantId,
          campaignId: message.campaignId,
          messageId,
          contactId: erased ? null : message.contactId,
          email: erased ? null : email,
          externalId: erased ? null : message.externalId,
          locale: message.locale,
          templateVersionId: message.templateVersionId,
          ...(message.emailId ? { emailId: message.emailId } : {}),
        };
        // A diagnostic may quote the address: left out once the person is erased.
        const diagnostic = erased ? null : effect.diagnostic;
        const event: NewEvent =
          effect.action === 'complaint'
            ? messageEvent('email.complained', subject, at, { feedbackType: 'abuse' })
            : messageEvent('email.bounced', subject, at, { bounceType: effect.action, diagnostic, late: true, ...(effect.kind === 'delayed' ? { delayed: true } : {}) });
        await this.deps.eventLog.in(trx).record([event]);
        // Only these raise a rate the breaker reads; a soft bounce can only lower them.
        if (effect.action !== 'soft' && message.campaignId !== null) judge = message.campaignId; // a transactional email has no campaign to judge
      }
      return { outcome: 'applied' as const, effect: effect.action, tenantId, messageId };
    });
    // After the commit, as the settle step does. Should it fail, the listener answers 451 and the retry is a duplicate: the next batch's settle judges again.
    if (judge !== undefined) await this.deps.breaker.tripIfNeeded(target.tenantId, judge, at);
    return verdict;
  }
}
