import type { ContactRepository } from '../contacts/contact.repository.js';
import type { Transaction } from '../db/database.js';
import type { MessageRepository } from '../delivery/message.repository.js';
import type { TransactionalEmailRepository } from '../emails/transactional-email.repository.js';
import type { IdempotencyRepository } from '../http/idempotency.repository.js';
import type { EventLog } from '../events/event-log.js';
import type { EventRepository } from '../events/event.repository.js';
import { anonymisedData, personalNeedles } from '../events/event-types.js';
import { notFound } from '../shared/errors.js';
import type { CampaignStatsRepository } from '../stats/campaign-stats.repository.js';
import type { WebhookDeliveryRepository } from '../webhooks/webhook-delivery.repository.js';
import type { Clock } from '../shared/time.js';
import type { SuppressionRepository } from '../suppressions/suppression.repository.js';
import type { InboundReportRepository } from '../inbound/inbound-report.repository.js';
import type { SoftBounceRepository } from '../suppressions/soft-bounce.repository.js';

/** Where copies of a contact's emails are kept outside the database (the capture outbox: CaptureMailer). */
export interface CapturedCopies {
  erase(tenantId: string, email: string, paths: readonly string[]): Promise<void>;
}

export interface ErasureDeps {
  transaction: Transaction;
  contacts: ContactRepository;
  suppressions: SuppressionRepository;
  /** The address's run of soft bounces. */
  softBounces: SoftBounceRepository;
  /** Kept bounces that were not attributed: those quoting the address go. */
  inboundReports: InboundReportRepository;
  messages: MessageRepository;
  /** The contact's transactional emails, and those sent to its address. */
  transactionalEmails: TransactionalEmailRepository;
  idempotencyKeys: IdempotencyRepository;
  /** The event log: the contact's events anonymised, `contact.unsubscribed` and `contact.erased` recorded. */
  eventLog: EventLog;
  events: EventRepository;
  webhookDeliveries: WebhookDeliveryRepository;
  campaignStats: CampaignStatsRepository;
  /** The captured .eml files of the contact's messages and test sends. */
  capturedCopies?: CapturedCopies;
  clock: Clock;
}

/**
 * GDPR erasure, the one place that knows everywhere a person is stored. The
 * contact row goes, and its address is suppressed (reason `manual` unless a
 * suppression already exists) in the same transaction, so it is never mailed
 * again. Every other copy joins this transaction: the message history, its
 * run of soft bounces,
 * stored Idempotency-Key answers holding the address or the id, its events
 * and webhook payloads (anonymised: `anonymisedData`), and — last,
 * so that a file that cannot be deleted rolls the erasure back and a retry
 * finds the contact again — the captured .eml files of its messages and
 * test sends. A new place that stores contact data adds its step here.
 */
export class ErasureService {
  constructor(private readonly deps: ErasureDeps) {}

  async eraseContact(tenantId: string, ref: string): Promise<void> {
    await this.deps.transaction(async (trx) => {
      const contacts = this.deps.contacts.in(trx);
      const contact = await contacts.getByRef(tenantId, ref);
      if (!contact) throw notFound('Contact');
      // A concurrent erasure may have deleted it since the read: that one answers 204, this one 404.
      if (!(await contacts.deleteById(tenantId, contact.id))) throw notFound('Contact');
      const captured = await this.deps.messages.in(trx).eraseContact(tenantId, contact.id, contact.email);
      // Transactional emails keep their rows (counts) without the address, the contact, the content or the metadata.
      const emailMessages = await this.deps.transactionalEmails.in(trx).erase(tenantId, { contactId: contact.id, email: contact.email });
      captured.push(...(await this.deps.messages.in(trx).eraseMessages(tenantId, emailMessages)));
      await this.deps.idempotencyKeys.in(trx).eraseAnswersHolding(tenantId, [contact.email, contact.id]);
      const at = this.deps.clock().toISOString();
      await this.deps.suppressions.in(trx).suppress(tenantId, contact.email, 'manual', at);
      await this.deps.softBounces.in(trx).erase(tenantId, contact.email);
      await this.deps.inboundReports.in(trx).eraseUnmatchedQuoting(tenantId, contact.email);
      const person = { email: contact.email, externalId: contact.external_id };
      const anonymise = (data: Record<string, unknown>) => anonymisedData(data, person);
      await this.deps.events.in(trx).anonymiseContact(tenantId, contact.id, anonymise);
      // Events of emails sent to the bare address before it was a contact name no contact: found by their message.
      const emailEvents = await this.deps.events.in(trx).anonymiseMessages(tenantId, emailMessages, anonymise);
      await this.deps.webhookDeliveries.in(trx).anonymiseContact(tenantId, contact.id, anonymise);
      await this.deps.webhookDeliveries.in(trx).anonymiseEvents(tenantId, emailEvents, anonymise);
      // Personalised links (`?e={{ email }}`) are counted by URL: the address leaves the link counters too.
      await this.deps.campaignStats.in(trx).eraseFromLinks(tenantId, personalNeedles(person));
      // Receivers are told to forget the person too; neither event carries the address.
      const ids = { contactId: contact.id, externalId: contact.external_id };
      await this.deps.eventLog.in(trx).record([
        { type: 'contact.unsubscribed', tenantId, at, data: { ...ids, campaignId: null, how: 'erasure' } },
        { type: 'contact.erased', tenantId, at, data: ids },
      ]);
      await this.deps.capturedCopies?.erase(tenantId, contact.email, captured);
    });
  }
}
