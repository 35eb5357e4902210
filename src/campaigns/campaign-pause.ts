import type { Kysely } from 'kysely';
import type { Transaction } from '../db/database.js';
import type { DB } from '../db/schema.js';
import type { MessageRepository } from '../delivery/message.repository.js';
import type { EventLog } from '../events/event-log.js';
import type { CampaignStatsRepository } from '../stats/campaign-stats.repository.js';
import type { CampaignRepository } from './campaign.repository.js';
import { campaignEvent } from './campaign-events.js';
import type { BreakerCounts } from './circuit-breaker.js';

export interface CampaignPausesDeps {
  transaction: Transaction;
  campaigns: CampaignRepository;
  messages: MessageRepository;
  stats: CampaignStatsRepository;
  eventLog: EventLog;
}

/**
 * SENDING ⇄ PAUSED, each move in one transaction with its messages and its
 * event. Pausing parks the campaign's queued messages (MessageRepository.park)
 * so the claim never looks at them; resuming makes them due at once. Used by
 * the API (manual) and by the circuit breaker (campaign-breaker.ts).
 */
export class CampaignPauses {
  constructor(private readonly deps: CampaignPausesDeps) {}

  /** False when the campaign was not SENDING (nothing written). */
  pause(tenantId: string, id: string, reason: string, at: string): Promise<boolean> {
    return this.deps.transaction(async (trx) => {
      if (!(await this.deps.campaigns.in(trx).move(tenantId, id, 'pause', { paused_reason: reason, updated_at: at }))) return false;
      await this.deps.messages.in(trx).park(tenantId, id, at);
      await this.deps.eventLog.in(trx).record([campaignEvent('pause', tenantId, id, at, { reason })!]);
      return true;
    });
  }

  /**
   * False when the campaign was not PAUSED. The breaker's baseline becomes
   * the counts so far: whoever resumes has seen them, and the breaker judges
   * what is sent from now on. A fan-out that was running when the campaign
   * was paused rolled back; its lease is cleared so the scheduler's sweep
   * runs it again at once.
   */
  resume(tenantId: string, id: string, at: string): Promise<boolean> {
    return this.deps.transaction(async (trx) => {
      const campaigns = this.deps.campaigns.in(trx);
      const baseline = JSON.stringify(await this.counts(trx, tenantId, id));
      const patch = { paused_reason: null, breaker_baseline: baseline, fanout_lease_until: null, updated_at: at };
      if (!(await campaigns.move(tenantId, id, 'resume', patch))) return false;
      await this.deps.messages.in(trx).unpark(tenantId, id, at);
      await this.deps.eventLog.in(trx).record([campaignEvent('resume', tenantId, id, at)!]);
      return true;
    });
  }

  /**
   * The breaker's counts of the campaign so far, from its aggregates (a row
   * per minute and locale). A late bounce (a DSN) is of a message counted as
   * sent too: it counts as bounced, not sent, so every message a receiving
   * server answered is counted once (as the stats' bounce rate does).
   */
  async counts(db: Kysely<DB> | undefined, tenantId: string, id: string): Promise<BreakerCounts> {
    const stats = db ? this.deps.stats.in(db) : this.deps.stats;
    const totals = await stats.totals(tenantId, id);
    return { sent: totals.sent - totals.bounced_late, bouncedHard: totals.bounced_hard, bouncedSoft: totals.bounced_soft, complained: totals.complained };
  }
}
