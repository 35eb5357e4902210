import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { parseAudienceFilter, requiresOptIn } from '../audience/audience-filter.js';
import type { Transaction } from '../db/database.js';
import type { CampaignRef, ClaimedMessage, DeliverableVersion, DeliveryStore, Lane, MessageOutcome, SendTimeState } from '../delivery/delivery-store.js';
import type { MessageRepository } from '../delivery/message.repository.js';
import type { SigningKey } from '../delivery/dkim.js';
import type { SigningKeys } from '../domains/signing-keys.js';
import type { EventLog } from '../events/event-log.js';
import { messageEvent, personalNeedles, scrubText, type NewEvent } from '../events/event-types.js';
import type { ProjectRepository, ProjectRow } from '../projects/project.repository.js';
import { LruMap } from '../shared/lru-map.js';
import type { SuppressionRepository } from '../suppressions/suppression.repository.js';
import type { AddressRef, SoftBounceRepository } from '../suppressions/soft-bounce.repository.js';
import type { TemplateRepository } from '../templates/template.repository.js';
import { parseVariables } from '../templates/variables.js';
import type { CampaignCounts, CampaignRepository } from './campaign.repository.js';
import { campaignEvent } from './campaign-events.js';
import type { CampaignBreaker } from './campaign-breaker.js';

export interface CampaignDeliveryStoreDeps {
  transaction: Transaction;
  messages: MessageRepository;
  campaigns: CampaignRepository;
  suppressions: SuppressionRepository;
  softBounces: SoftBounceRepository;
  /** Soft bounces in a row, across campaigns, that suppress an address (SOFT_BOUNCE_LIMIT). */
  softBounceLimit: number;
  /** Judges each settled campaign and pauses it when it trips (the same judge the inbound path calls). */
  breaker: CampaignBreaker;
  templates: TemplateRepository;
  projects: ProjectRepository;
  eventLog: EventLog;
  signingKeys: SigningKeys;
}

/**
 * The delivery worker's store for campaign messages, over the repositories
 * that own each table: messages change in MessageRepository, counters and
 * completion in CampaignRepository, hard bounces in SuppressionRepository,
 * runs of soft bounces in SoftBounceRepository — in one transaction per
 * batch of outcomes.
 */
export class CampaignDeliveryStore implements DeliveryStore {
  /** Campaigns whose project's first delivery is noted already (by this process): about one UPDATE per campaign. */
  private readonly delivering = new LruMap<string, true>(1000);

  constructor(private readonly deps: CampaignDeliveryStoreDeps) {}

  anyDue(now: Date, lane: Lane): Promise<boolean> {
    return this.deps.messages.anyDue(now, lane);
  }

  async claimDue(owner: string, limit: number, now: Date, leaseMs: number, lane: Lane = 'campaign'): Promise<ClaimedMessage[]> {
    if (lane === 'transactional') return this.deps.messages.claimDueTransactional(owner, limit, now, leaseMs);
    const rows = await this.deps.messages.claimDue(owner, limit, now, leaseMs);
    const optInRule = new Map<string | null, boolean>(); // one parse per campaign filter, not per message
    return rows.map(({ campaignAudienceFilter, ...row }) => {
      let required = optInRule.get(campaignAudienceFilter);
      if (required === undefined) {
        required = requiresOptIn(parseAudienceFilter(campaignAudienceFilter));
        optInRule.set(campaignAudienceFilter, required);
      }
      return { ...row, campaignRequiresOptIn: required } satisfies ClaimedMessage;
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
   * bounces suppressed, runs of soft bounces ended (a delivery, a hard
   * bounce) or extended — an address reaching `softBounceLimit` is
   * suppressed — and the counters of the campaigns moved by the
   * outcomes actually applied. Messages are locked in id order, then
   * campaigns in id order, so two workers never wait on each other in a cycle.
   */
  async recordOutcomes(owner: string, outcomes: readonly MessageOutcome[], now: Date): Promise<CampaignRef[]> {
    if (outcomes.length === 0) return [];
    const at = now.toISOString();
    const refs = await this.recordInTransaction(owner, outcomes, at);
    await this.noteDelivering(outcomes, at);
    return refs;
  }

  /** Outside the outcome transaction: a fact for the pre-send check, not part of the outcome. */
  private async noteDelivering(outcomes: readonly MessageOutcome[], at: string): Promise<void> {
    const byTenant = new Map<string, Set<string>>();
    for (const outcome of outcomes) {
      if (outcome.kind !== 'sent' || outcome.campaignId === null || this.delivering.get(outcome.campaignId)) continue;
      const ids = byTenant.get(outcome.tenantId) ?? new Set<string>();
      byTenant.set(outcome.tenantId, ids.add(outcome.campaignId));
    }
    for (const [tenantId, ids] of byTenant) {
      await this.deps.projects.markDelivering(tenantId, [...ids], at);
      for (const id of ids) this.delivering.set(id, true);
    }
  }

  private async recordInTransaction(owner: string, outcomes: readonly MessageOutcome[], at: string): Promise<CampaignRef[]> {
    return this.deps.transaction(async (trx) => {
      const applied = await this.deps.messages.in(trx).recordOutcomes(owner, outcomes, at);
      const suppressions = this.deps.suppressions.in(trx);
      const counts = new Map<string, { ref: CampaignRef; counts: Required<CampaignCounts> }>();
      for (const outcome of applied) {
        if (outcome.kind === 'failed' && outcome.bounce?.type === 'hard') await suppressions.suppress(outcome.tenantId, outcome.bounce.email, 'bounce', at);
        if (outcome.campaignId === null) continue; // transactional: no campaign to count for
        const entry = counts.get(outcome.campaignId) ?? {
          ref: { tenantId: outcome.tenantId, campaignId: outcome.campaignId } as CampaignRef,
          counts: { sent: 0, failed: 0, cancelled: 0, skippedSuppressed: 0, skippedOptedOut: 0, skippedErased: 0 },
        };
        counts.set(outcome.campaignId, entry);
        if (outcome.kind === 'paused') entry.ref.parked = true;
        countOutcome(entry.counts, outcome);
      }
      await this.recordSoftBounces(trx, applied, at);
      const told = applied.filter((outcome) => outcome.kind === 'sent' || outcome.kind === 'failed');
      const now = await this.deps.messages.in(trx).recipientsNow(told.map((outcome) => outcome.id));
      const campaigns = this.deps.campaigns.in(trx);
      const ordered = [...counts.values()].sort((a, b) => (a.ref.campaignId < b.ref.campaignId ? -1 : 1));
      // The campaign row is the one row every worker sending the campaign writes: its counters are added last,
      // after the events, just before the stat buckets (also shared) and the commit, so it is locked the least time.
      await this.deps.eventLog.in(trx).record(told.flatMap((outcome) => eventOf(outcome, now.get(outcome.id), at) ?? []), [], async () => {
        for (const { ref, counts: c } of ordered) await campaigns.addCounts(ref.tenantId, ref.campaignId, c);
      });
      return ordered.map(({ ref }) => ref);
    });
  }

  /** A few statements per batch: one delete for the runs that end, one upsert for those that grow, then the addresses that reached the limit. */
  private async recordSoftBounces(trx: Kysely<DB>, applied: readonly MessageOutcome[], at: string): Promise<void> {
    const ended: AddressRef[] = [];
    const soft: AddressRef[] = [];
    for (const outcome of applied) {
      if (outcome.kind === 'sent' && outcome.recipient?.email) ended.push({ tenantId: outcome.tenantId, email: outcome.recipient.email });
      else if (outcome.kind === 'failed' && outcome.bounce) {
        (outcome.bounce.type === 'hard' ? ended : soft).push({ tenantId: outcome.tenantId, email: outcome.bounce.email });
      }
    }
    const runs = this.deps.softBounces.in(trx);
    await runs.clear(ended);
    const reached = (await runs.add(soft, at)).filter((run) => run.bounces >= this.deps.softBounceLimit);
    if (reached.length === 0) return;
    const suppressions = this.deps.suppressions.in(trx);
    for (const { tenantId, email } of reached) await suppressions.suppress(tenantId, email, 'bounce', at);
    await runs.clear(reached);
  }

  async settle(campaigns: readonly CampaignRef[], now: Date): Promise<void> {
    const at = now.toISOString();
    for (const { tenantId, campaignId, parked } of campaigns) {
      // A retry recorded after its campaign was cancelled left a message queued that nobody will claim.
      await this.deps.transaction(async (trx) => {
        const cancelled = await this.deps.messages.in(trx).cancelStragglers(tenantId, campaignId, at);
        await this.deps.campaigns.in(trx).addCounts(tenantId, campaignId, { cancelled });
      });
      // Parked by a send in flight while the campaign was paused: if it was resumed meanwhile, due now.
      if (parked) await this.deps.messages.unpark(tenantId, campaignId, at, true);
      await this.deps.breaker.tripIfNeeded(tenantId, campaignId, at);
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
    // Most settles come mid-send: a read without the lock says so, and the campaign row (which every worker's
    // outcome writes update) is not locked for nothing. Each worker settles after its own writes committed, so
    // the last of them sees nothing pending and takes the locked path.
    if (await this.deps.messages.hasPending(campaignId)) return false;
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
 * The event an applied outcome writes: sent, bounced (hard or soft, with
 * the server's answer as `diagnostic`) or failed (`reason: "blocked"` for a
 * policy refusal, 5.7.x); none for the others. Named by the message row as it is
 * now (`recipientsNow`), not as the claim read it.
 */
function eventOf(outcome: MessageOutcome, row: { contactId: string | null; email: string | null } | undefined, at: string): NewEvent | undefined {
  const claimed = outcome.recipient;
  if (!claimed || !row) return undefined;
  // The row as it is now: a contact erased since the claim leaves nobody named in the event. A transactional
  // email to a bare address never had a contact: only a contact the claim named and the row lost counts.
  const erased = row.email === null || (row.contactId === null && claimed.contactId !== null);
  const recipient = erased ? { ...claimed, contactId: null, email: null, externalId: null } : claimed;
  const subject = { tenantId: outcome.tenantId, campaignId: outcome.campaignId, messageId: outcome.id, ...recipient };
  // A diagnostic may quote the address (`550 <ana@…>: no such user`).
  const text = (value: string) => (erased && claimed.email ? scrubText(value, personalNeedles({ email: claimed.email, externalId: claimed.externalId })) : value);
  switch (outcome.kind) {
    case 'sent':
      return messageEvent('email.sent', subject, at, { providerMessageId: outcome.providerMessageId });
    case 'failed':
      if (outcome.bounce) return messageEvent('email.bounced', subject, at, { bounceType: outcome.bounce.type, diagnostic: text(outcome.error) });
      return messageEvent('email.failed', subject, at, outcome.blocked ? { error: text(outcome.error), reason: 'blocked' } : { error: text(outcome.error) });
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
    case 'paused':
      break;
  }
}
