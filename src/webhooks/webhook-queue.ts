import type { Transaction } from '../db/database.js';
import type { EventLog } from '../events/event-log.js';
import type { Clock } from '../shared/time.js';
import type { DueDelivery, WebhookDeliveryRepository } from './webhook-delivery.repository.js';
import type { ClaimedEndpoint, WebhookEndpointRepository } from './webhook-endpoint.repository.js';
import type { AttemptOutcome } from './webhook-retry.js';

export type RecordResult = 'recorded' | 'lease-lost' | 'disabled';

/**
 * What the webhook dispatcher stores through: leases on endpoints, their due
 * deliveries, and each attempt's outcome — written in one transaction with
 * the endpoint's failure clock and, when that clock passes
 * WEBHOOK_DISABLE_AFTER_MS, the endpoint's automatic disabling and its
 * `webhook.endpoint_disabled` event. The dispatcher itself knows no SQL.
 */
export class WebhookQueue {
  constructor(
    private readonly deps: {
      transaction: Transaction;
      endpoints: WebhookEndpointRepository;
      deliveries: WebhookDeliveryRepository;
      eventLog: EventLog;
      clock: Clock;
    },
  ) {}

  claim(owner: string, limit: number, leaseMs: number): Promise<ClaimedEndpoint[]> {
    return this.deps.endpoints.claimDue(owner, limit, this.deps.clock(), leaseMs);
  }

  next(endpointId: string): Promise<DueDelivery | undefined> {
    return this.deps.deliveries.nextDue(endpointId, this.deps.clock());
  }

  extendLeases(owner: string, leaseMs: number): Promise<void> {
    return this.deps.endpoints.extendLeases(owner, this.deps.clock(), leaseMs);
  }

  release(owner: string, endpointId?: string): Promise<void> {
    return this.deps.endpoints.release(owner, endpointId);
  }

  /**
   * Records an attempt while `owner` holds the endpoint's lease (a dispatcher
   * that lost it — its lease ran out and another took over — writes nothing).
   * A failure is one transaction: the failure clock, the delivery, and the
   * endpoint's disabling with its event when the clock has run long enough.
   */
  async record(
    owner: string,
    endpoint: ClaimedEndpoint & { url: string },
    deliveryId: string,
    outcome: AttemptOutcome,
    disableAfterMs: number,
  ): Promise<RecordResult> {
    const now = this.deps.clock();
    const at = now.toISOString();
    if (outcome.status === 'delivered') {
      // A success changes nothing that must move together: the failure clock is cleared under the lease,
      // then the delivery is recorded (a crash in between only means it is sent again, same id). Two
      // statements, without a transaction's two extra round trips.
      if (!(await this.deps.endpoints.noteAttempt(owner, endpoint.id, true, at))) return 'lease-lost';
      await this.deps.deliveries.recordAttempt(deliveryId, outcome);
      return 'recorded';
    }
    return this.deps.transaction(async (trx) => {
      const endpoints = this.deps.endpoints.in(trx);
      const noted = await endpoints.noteAttempt(owner, endpoint.id, outcome.status === 'delivered', at);
      if (!noted) return 'lease-lost';
      await this.deps.deliveries.in(trx).recordAttempt(deliveryId, outcome);
      const since = noted.failingSince;
      if (since === null || now.getTime() - Date.parse(since) < disableAfterMs) return 'recorded';
      const reason = `every delivery failed since ${since} (the last: ${outcome.last_error ?? 'failed'}); disabled automatically`;
      // Already disabled (by hand, meanwhile): nothing to announce.
      if (!(await endpoints.disable(endpoint.id, reason, at))) return 'recorded';
      await this.deps.eventLog.in(trx).record([
        {
          type: 'webhook.endpoint_disabled',
          tenantId: endpoint.tenantId,
          at,
          data: { endpointId: endpoint.id, url: endpoint.url, reason, failingSince: since },
        },
      ]);
      return 'disabled';
    });
  }
}
