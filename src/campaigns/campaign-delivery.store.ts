import { parseAudienceFilter, requiresOptIn } from '../audience/audience-filter.js';
import type { Transaction } from '../db/database.js';
import type { CampaignRef, ClaimedMessage, DeliverableVersion, DeliveryStore, MessageOutcome, SendTimeState } from '../delivery/delivery-store.js';
import type { MessageRepository } from '../delivery/message.repository.js';
import type { SigningKey } from '../delivery/dkim.js';
import type { SigningKeys } from '../domains/signing-keys.js';
import type { EventLog } from '../events/event-log.js';
import { messageEvent, personalNeedles, scrubText, type NewEvent } from '../events/event-types.js';
import type { ProjectRepository, ProjectRow } from '../projects/project.repository.js';
import type { SuppressionRepository } from '../suppressions/suppression.repository.js';
import type { TemplateRepository } from '../templates/template.repository.js';
import { parseVariables } from '../templates/variables.js';
import type { CampaignCounts, CampaignRepository } from './campaign.repository.js';
import { campaignEvent } from './campaign-events.js';

export interface CampaignDeliveryStoreDeps {
  transaction: Transaction;
  messages: MessageRepository;
  campaigns: CampaignRepository;
  suppressions: SuppressionRepository;
  templates: TemplateRepository;
  projects: ProjectRepository;
  eventLog: EventLog;
  signingKeys: SigningKeys;
}

/**
 * The delivery worker's store for campaign messages, over the repositories
 * that own each table: messages change in MessageRepository, counters and
 * completion in CampaignRepository, hard bounces in SuppressionRepository —
 * in one transaction per batch of outcomes.
 */
export class CampaignDeliveryStore implements DeliveryStore {
  constructor(private readonly deps: CampaignDeliveryStoreDeps) {}

  async claimDue(owner: string, limit: number, now: Date, leaseMs: number): Promise<ClaimedMessage[]> {
    const rows = await this.deps.messages.claimDue(owner, limit, now, leaseMs);
    const optInRule = new Map<string | null, boolean>(); // one parse per campaign filter, not per message
    return rows.map(({ campaignAudienceFilter, ...row }) => {
      let required = optInRule.get(campaignAudienceFilter);
      if (required === undefined) {
        required = requiresOptIn(parseAudienceFilter(campaignAudienceFilter));
        optInRule.set(campaignAudienceFilter, required);
      }
      return { ...row, campaignRequiresOptIn: required };
    });
  }

  extendLeases(owner: string, now: Date, leaseMs: number): Promise<void> {
    return this.deps.messages.extendLeases(owner, now, leaseMs);
  }

  releaseLeases(now: Date, owner?: string): Promise<number> {
    return this.deps.messages.releaseLeases(now, owner);
  }

  /**
   * One transaction: each message's outcome guarded by its lease, hard
   * bounces suppressed, and the counters of the campaigns moved by the
   * outcomes actually applied. Messages are locked in id order, then
   * campaigns in id order, so two workers never wait on each other in a cycle.
   */
  async recordOutcomes(owner: string, outcomes: readonly MessageOutcome[], now: Date): Promise<CampaignRef[]> {
    if (outcomes.length === 0) return [];
    const at = now.toISOString();
    return this.deps.transaction(async (trx) => {
      const applied = await this.deps.messages.in(trx).recordOutcomes(owner, outcomes, at);
      const suppressions = this.deps.suppressions.in(trx);
      const counts = new Map<string, { ref: CampaignRef; counts: Required<CampaignCounts> }>();
      for (const outcome of applied) {
        const entry = counts.get(outcome.campaignId) ?? {
          ref: { tenantId: outcome.tenantId, campaignId: outcome.campaignId },
          counts: { sent: 0, failed: 0, cancelled: 0, skippedSuppressed: 0, skippedOptedOut: 0, skippedErased: 0 },
        };
        counts.set(outcome.campaignId, entry);
        countOutcome(entry.counts, outcome);
        if (outcome.kind === 'failed' && outcome.bounce) await suppressions.suppress(outcome.tenantId, outcome.bounce.email, 'bounce', at);
      }
      const campaigns = this.deps.campaigns.in(trx);
      const ordered = [...counts.values()].sort((a, b) => (a.ref.campaignId < b.ref.campaignId ? -1 : 1));
      for (const { ref, counts: c } of ordered) await campaigns.addCounts(ref.tenantId, ref.campaignId, c);
      const told = applied.filter((outcome) => outcome.kind === 'sent' || outcome.kind === 'failed');
      const now = await this.deps.messages.in(trx).recipientsNow(told.map((outcome) => outcome.id));
      await this.deps.eventLog.in(trx).record(told.flatMap((outcome) => eventOf(outcome, now.get(outcome.id), at) ?? []));
      return ordered.map(({ ref }) => ref);
    });
  }

  async settle(campaigns: readonly CampaignRef[], now: Date): Promise<void> {
    const at = now.toISOString();
    for (const { tenantId, campaignId } of campaigns) {
      // A retry recorded after its campaign was cancelled left a message queued that nobody will claim.
      await this.deps.transaction(async (trx) => {
        const cancelled = await this.deps.messages.in(trx).cancelStragglers(tenantId, campaignId, at);
        await this.deps.campaigns.in(trx).addCounts(tenantId, campaignId, { cancelled });
      });
    }
    for (const ref of campaigns) await this.completeIfDone(ref, now);
  }

  /**
   * SENDING → SENT once the fan-out is done and nothing is queued or in
   * flight. The campaign row is locked first and the pending check runs as a
   * later statement, so it sees whatever a concurrent retry-failed committed
   * (one statement with NOT EXISTS would judge by a snapshot taken before it
   * waited for the lock).
   */
  async completeIfDone({ tenantId, campaignId }: CampaignRef, now: Date): Promise<boolean> {
    const at = now.toISOString();
    return this.deps.transaction(async (trx) => {
      const campaigns = this.deps.campaigns.in(trx);
      if (!(await campaigns.lockFor(tenantId, campaignId, 'complete'))) return false;
      if (await this.deps.messages.in(trx).hasPending(campaignId)) return false;
      if (!(await campaigns.move(tenantId, campaignId, 'complete', { completed_at: at, updated_at: at }))) return false;
      await this.deps.eventLog.in(trx).record([campaignEvent('complete', tenantId, campaignId, at)!]);
      return true;
    });
  }

  currentState(messageIds: readonly number[]): Promise<SendTimeState[]> {
    return this.deps.messages.currentState(messageIds);
  }

  async loadVersion(tenantId: string, versionId: string): Promise<DeliverableVersion | undefined> {
    const row = await this.deps.templates.getVersion(tenantId, versionId);
    if (!row) return undefined;
    return {
      id: row.id,
      status: row.status,
      subject: row.subject,
      htmlBody: row.html_body,
      textBody: row.text_body,
      variables: parseVariables(row.variables),
    };
  }

  loadProject(tenantId: string, projectId: string): Promise<ProjectRow | undefined> {
    return this.deps.projects.getById(tenantId, projectId);
  }

  loadSigningKeys(tenantId: string): Promise<SigningKey[]> {
    return this.deps.signingKeys.of(tenantId);
  }
}

/**
 * The event an applied outcome writes: sent, bounced (a 5xx to RCPT TO:
 * hard) or failed; none for the others. Named by the message row as it is
 * now (`recipientsNow`), not as the claim read it.
 */
function eventOf(outcome: MessageOutcome, row: { contactId: string | null; email: string | null } | undefined, at: string): NewEvent | undefined {
  const claimed = outcome.recipient;
  if (!claimed || !row) return undefined;
  // The row as it is now: a contact erased since the claim leaves nobody named in the event.
  const erased = row.email === null || row.contactId === null;
  const recipient = erased ? { ...claimed, contactId: null, email: null, externalId: null } : claimed;
  const subject = { tenantId: outcome.tenantId, campaignId: outcome.campaignId, messageId: outcome.id, ...recipient };
  // A diagnostic may quote the address (`550 <ana@…>: no such user`).
  const text = (value: string) => (erased && claimed.email ? scrubText(value, personalNeedles({ email: claimed.email, externalId: claimed.externalId })) : value);
  switch (outcome.kind) {
    case 'sent':
      return messageEvent('email.sent', subject, at, { providerMessageId: outcome.providerMessageId });
    case 'failed':
      return outcome.bounce
        ? messageEvent('email.bounced', subject, at, { bounceType: 'hard', diagnostic: text(outcome.error) })
        : messageEvent('email.failed', subject, at, { error: text(outcome.error) });
    default:
      return undefined;
  }
}

function countOutcome(counts: Required<CampaignCounts>, outcome: MessageOutcome): void {
  switch (outcome.kind) {
    case 'sent':
      counts.sent++;
      break;
    case 'failed':
      counts.failed++;
      break;
    case 'cancelled':
      counts.cancelled++;
      break;
    case 'skipped':
      if (outcome.reason === 'suppressed') counts.skippedSuppressed++;
      else if (outcome.reason === 'opted_out') counts.skippedOptedOut++;
      else counts.skippedErased++;
      break;
    case 'retry':
      break;
  }
}
