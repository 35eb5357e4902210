import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../shared/time.js';
import type { TrackingFirstRepository } from '../tracking/tracking-first.repository.js';
import type { WebhookDeliveryRepository } from '../webhooks/webhook-delivery.repository.js';
import type { EventRepository } from './event.repository.js';

export interface RetentionOptions {
  /** EVENTS_RETENTION_DAYS. */
  days: number;
  /** Between two passes (default 15 minutes: a few times an hour). */
  intervalMs?: number;
  /** Rows per statement (default 1000): short statements, so writers are never held up for long. */
  batchSize?: number;
  /** Statements per table per pass (default 50); what is left waits for the next pass. */
  maxBatches?: number;
}

/**
 * Keeps the event log, finished webhook deliveries (pending ones are never
 * pruned) and tracking firsts EVENTS_RETENTION_DAYS, in every worker
 * process: a pass every `intervalMs` deletes what is older, `batchSize`
 * rows per statement. Several workers pruning at once only share the work.
 */
export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly deps: {
      events: EventRepository;
      webhookDeliveries: WebhookDeliveryRepository;
      trackingFirsts: TrackingFirstRepository;
      clock: Clock;
      logger: FastifyBaseLogger;
    },
    private readonly options: RetentionOptions,
  ) {}

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.runOnce()
        .catch((err: unknown) => this.deps.logger.error({ err }, 'retention pass failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.options.intervalMs ?? 15 * 60_000);
        });
    };
    // The first pass waits an interval too: a process that restarts often does not prune at every start.
    this.timer = setTimeout(loop, this.options.intervalMs ?? 15 * 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; how many rows of each kind were deleted. */
  async runOnce(): Promise<{ events: number; webhookDeliveries: number; trackingFirsts: number }> {
    const before = new Date(this.deps.clock().getTime() - this.options.days * 86_400_000);
    const batch = this.options.batchSize ?? 1000;
    const pruneAll = async (prune: (before: Date, limit: number) => Promise<number>) => {
      let total = 0;
      for (let i = 0; i < (this.options.maxBatches ?? 50); i++) {
        const n = await prune(before, batch);
        total += n;
        if (n < batch || this.stopped) break;
      }
      return total;
    };
    const pruned = {
      events: await pruneAll((b, n) => this.deps.events.pruneBefore(b, n)),
      webhookDeliveries: await pruneAll((b, n) => this.deps.webhookDeliveries.pruneFinishedBefore(b, n)),
      trackingFirsts: await pruneAll((b, n) => this.deps.trackingFirsts.pruneBefore(b, n)),
    };
    if (pruned.events + pruned.webhookDeliveries + pruned.trackingFirsts > 0) this.deps.logger.info({ pruned, before: before.toISOString() }, 'retention: pruned old rows');
    return pruned;
  }
}
