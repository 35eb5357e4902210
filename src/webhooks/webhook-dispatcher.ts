import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { WebhookSettings } from '../config.js';
import { SecretBoxError, type SecretBox } from '../shared/secret-box.js';
import type { Clock } from '../shared/time.js';
import type { ClaimedEndpoint } from './webhook-endpoint.repository.js';
import type { RecordResult, WebhookQueue } from './webhook-queue.js';
import { outcomeOfAttempt } from './webhook-retry.js';
import type { WebhookResult, WebhookSender } from './webhook-sender.js';
import { webhookSecretContext } from './webhook-secret.js';

export type DispatcherOptions = Pick<
  WebhookSettings,
  'retryScheduleMs' | 'jitter' | 'disableAfterMs' | 'endpointsPerWorker' | 'deliveriesPerClaim' | 'leaseMs' | 'idlePollMs'
>;

/** What the dispatcher reports (Prometheus metrics): outcomes and timings only, never endpoints, tenants or payloads. */
export interface WebhookObserver {
  /** One attempt, once recorded: the delivery's new status, whether the receiver answered 2xx, the request's duration. */
  attempted(status: 'pending' | 'delivered' | 'failed', ok: boolean, seconds: number): void;
  /** An endpoint was disabled automatically. */
  disabled(): void;
}

/**
 * Delivers queued webhook deliveries, in worker processes (docs/WEBHOOKS.md,
 * "How deliveries are sent").
 *
 * It leases endpoints, not deliveries: up to `endpointsPerWorker` endpoints
 * at once, each served on its own — its due deliveries sent one at a time in
 * id (queue) order, up to `deliveriesPerClaim`, each read just before it is
 * sent and its outcome recorded under the lease before the next is read; then the lease is released and the
 * endpoint goes to the back of the line (least recently claimed first). So
 * an endpoint has at most one request in flight anywhere, first attempts
 * reach it in queue order, a slow or failing endpoint holds only its own
 * slot, and a worker killed mid-request can have sent at most one
 * unrecorded delivery per endpoint it held — sent again, with the same
 * delivery id, once its lease runs out.
 *
 * After a failed attempt the endpoint's claim ends: a receiver that hangs
 * costs one timeout per claim, not one per queued delivery.
 */
export class WebhookDispatcher {
  readonly owner = `webhooks-${randomUUID()}`;
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly active = new Set<Promise<number>>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly deps: {
      queue: WebhookQueue;
      sender: WebhookSender;
      secretBox: SecretBox;
      clock: Clock;
      logger: FastifyBaseLogger;
      random?: () => number;
      observer?: WebhookObserver;
    },
    private readonly options: DispatcherOptions,
  ) {}

  start(): void {
    this.heartbeat = setInterval(() => {
      this.deps.queue.extendLeases(this.owner, this.options.leaseMs).catch((err: unknown) => this.deps.logger.error({ err }, 'webhook lease renewal failed'));
    }, Math.max(250, Math.floor(this.options.leaseMs / 3)));
    this.heartbeat.unref();
    this.loopDone = this.loop();
  }

  /** Stops claiming, lets each endpoint's request in flight finish and be recorded, then releases every lease. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of this.sleepers) wake();
    await this.loopDone;
    await Promise.all(this.active);
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.deps.queue.release(this.owner).catch((err: unknown) => this.deps.logger.error({ err }, 'releasing webhook leases failed'));
  }

  /** One round: claims what is due (up to `endpointsPerWorker` endpoints) and serves them; the number of attempts made (tests, bench). */
  async runOnce(): Promise<number> {
    const claimed = await this.deps.queue.claim(this.owner, this.options.endpointsPerWorker, this.options.leaseMs);
    const counts = await Promise.all(claimed.map((endpoint) => this.serve(endpoint)));
    return counts.reduce((a, b) => a + b, 0);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const free = this.options.endpointsPerWorker - this.active.size;
      let claimed: ClaimedEndpoint[] = [];
      if (free > 0) {
        try {
          claimed = await this.deps.queue.claim(this.owner, free, this.options.leaseMs);
        } catch (err) {
          this.deps.logger.error({ err }, 'claiming webhook endpoints failed; retrying');
          await this.sleep(Math.max(this.options.idlePollMs, 1000));
          continue;
        }
      }
      for (const endpoint of claimed) {
        const serving: Promise<number> = this.serve(endpoint).finally(() => {
          this.active.delete(serving);
          this.wake();
        });
        this.active.add(serving);
      }
      // Nothing new was due, or every slot is busy: wait for a slot to free up or for the next poll.
      if (claimed.length === 0 || this.active.size >= this.options.endpointsPerWorker) await this.sleep(this.options.idlePollMs);
    }
  }

  /** Sends one claimed endpoint's due deliveries in order; never throws. */
  private async serve(endpoint: ClaimedEndpoint): Promise<number> {
    const { queue, sender, logger } = this.deps;
    const session = sender.openSession();
    let attempts = 0;
    try {
      for (let turn = 0; turn < this.options.deliveriesPerClaim && !this.stopping; turn++) {
        const delivery = await queue.next(endpoint.id);
        if (!delivery) break;
        const secret = this.secretOf(endpoint.id, delivery.secretEncrypted);
        const started = performance.now();
        const result: WebhookResult =
          secret === undefined
            ? { ok: false, statusCode: null, responseBody: null, error: 'the endpoint secret cannot be decrypted (was MAILINGCORE_SECRET changed?)' }
            : await sender.send({ url: delivery.url, deliveryId: delivery.id, eventType: delivery.eventType, body: delivery.payload, secret }, session);
        const outcome = outcomeOfAttempt(delivery.attempt + 1, result, this.deps.clock(), this.options, this.deps.random);
        const seconds = (performance.now() - started) / 1000;
        const recorded = await this.record({ id: endpoint.id, tenantId: endpoint.tenantId, url: delivery.url }, delivery.id, outcome);
        attempts++;
        if (recorded !== 'lease-lost') this.deps.observer?.attempted(outcome.status, result.ok, seconds);
        if (recorded === 'disabled') {
          this.deps.observer?.disabled();
          logger.warn({ endpointId: endpoint.id, tenantId: endpoint.tenantId }, 'webhook endpoint disabled after failing too long');
        }
        if (recorded !== 'recorded' || !result.ok) break;
      }
    } catch (err) {
      logger.error({ err, endpointId: endpoint.id }, 'webhook delivery round failed');
    } finally {
      session.close();
      await queue.release(this.owner, endpoint.id).catch((err: unknown) => logger.error({ err }, 'releasing a webhook endpoint failed'));
    }
    return attempts;
  }

  private secretOf(endpointId: string, sealed: string): string | undefined {
    try {
      return this.deps.secretBox.decrypt(sealed, webhookSecretContext(endpointId));
    } catch (error) {
      if (error instanceof SecretBoxError) return undefined;
      throw error;
    }
  }

  /**
   * The request went out: its outcome must be written, or it is sent again
   * once the lease runs out. A failed write is retried (the write is guarded
   * by the lease, so a repeat is harmless) while the heartbeat keeps the
   * lease alive.
   */
  private async record(
    endpoint: Parameters<WebhookQueue['record']>[1],
    deliveryId: string,
    outcome: Parameters<WebhookQueue['record']>[3],
  ): Promise<RecordResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.queue.record(this.owner, endpoint, deliveryId, outcome, this.options.disableAfterMs);
      } catch (err) {
        if (attempt >= 20) throw err;
        this.deps.logger.warn({ err, attempt }, 'recording a webhook delivery failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 50 * 2 ** attempt)));
      }
    }
  }

  private wake(): void {
    for (const wake of this.sleepers) wake();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
