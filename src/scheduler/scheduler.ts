import type { FastifyBaseLogger } from 'fastify';
import type { CampaignDeliveryStore } from '../campaigns/campaign-delivery.store.js';
import type { CampaignRepository } from '../campaigns/campaign.repository.js';
import type { FanOut } from '../campaigns/fanout.js';
import { campaignEvent } from '../campaigns/campaign-events.js';
import type { Transaction } from '../db/database.js';
import type { EventLog } from '../events/event-log.js';
import type { Clock } from '../shared/time.js';

/**
 * Once a tick (a second by default), in every worker process:
 * 1. starts SCHEDULED campaigns whose time has come — SCHEDULED → SENDING is
 *    a conditional update, so of several processes exactly one wins — and
 *    fans them out;
 * 2. resumes fan-outs that never committed (their process died);
 * 3. returns messages whose lease expired (their worker died) to the queue;
 * 4. completes SENDING campaigns with nothing left queued or in flight.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly deps: {
      transaction: Transaction;
      campaigns: CampaignRepository;
      eventLog: EventLog;
      store: Pick<CampaignDeliveryStore, 'releaseLeases' | 'completeIfDone'>;
      fanout: FanOut;
      clock: Clock;
      logger: FastifyBaseLogger;
    },
    private readonly tickMs = 1000,
  ) {}

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((err: unknown) => this.deps.logger.error({ err }, 'scheduler tick failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.tickMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  async tick(): Promise<void> {
    const { campaigns, store, clock, logger } = this.deps;
    const now = clock();
    const iso = now.toISOString();
    for (const due of await campaigns.listDue(iso, 20)) {
      const started = await this.deps.transaction(async (trx) => {
        if (!(await campaigns.in(trx).move(due.tenant_id, due.id, 'start', { started_at: iso, updated_at: iso }))) return false;
        await this.deps.eventLog.in(trx).record([campaignEvent('start', due.tenant_id, due.id, iso)!]);
        return true;
      });
      if (!started) continue; // another process won it, or it was cancelled meanwhile
      logger.info({ campaignId: due.id }, 'scheduled campaign started');
      await this.fanOut(due.tenant_id, due.id);
    }
    for (const stalled of await campaigns.listStalledFanOuts(iso, 20)) {
      await this.fanOut(stalled.tenant_id, stalled.id);
    }
    const released = await store.releaseLeases(now);
    if (released > 0) logger.warn({ released }, 'returned messages with expired leases to the queue');
    // Workers complete campaigns as their last batch settles; this catches one whose worker died just then.
    for (const sending of await campaigns.listSendingFannedOut(50)) {
      const ref = { tenantId: sending.tenant_id, campaignId: sending.id };
      if (await store.completeIfDone(ref, clock())) logger.info({ campaignId: sending.id }, 'campaign completed');
    }
  }

  private async fanOut(tenantId: string, campaignId: string): Promise<void> {
    try {
      const result = await this.deps.fanout.run(tenantId, campaignId);
      if (result) this.deps.logger.info({ campaignId, ...result }, 'fan-out done');
    } catch (err) {
      this.deps.logger.error({ err, campaignId }, 'fan-out failed; will retry');
    }
  }
}
