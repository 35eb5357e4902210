import { sql, type Kysely } from 'kysely';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FanOutObserver } from '../campaigns/fanout.js';
import type { DB } from '../db/schema.js';
import type { MessageOutcome } from '../delivery/delivery-store.js';
import type { DeliveryObserver } from '../delivery/worker.js';
import type { WebhookObserver } from '../webhooks/webhook-dispatcher.js';

/**
 * The Prometheus metrics of one process, in a registry of its own (never
 * prom-client's global one, so that several containers in one process —
 * tests — do not collide). Every label is bounded: route patterns, methods,
 * status codes, outcomes and reasons from fixed lists; never a tenant,
 * campaign, contact or address.
 */
export class Metrics {
  readonly registry = new Registry();

  /** Per route pattern (`/campaigns/:id`), never the raw URL. */
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly messagesSent: Counter;
  readonly messagesFailed: Counter<'reason'>;
  readonly messagesRetried: Counter;
  readonly messagesSkipped: Counter<'reason'>;
  readonly smtpSendDuration: Histogram<'transport' | 'result'>;
  readonly fanoutDuration: Histogram<'result'>;
  readonly webhookAttempts: Counter<'result'>;
  readonly webhookRequestDuration: Histogram<'result'>;
  readonly webhookEndpointsDisabled: Counter;

  constructor(options: { db: Kysely<DB>; processMetrics?: boolean }) {
    const registers = [this.registry];
    this.httpRequestDuration = new Histogram({
      name: 'mailingcore_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern, method and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.messagesSent = new Counter({
      name: 'mailingcore_messages_sent_total',
      help: 'Emails accepted by the SMTP server (or captured)',
      registers,
    });
    this.messagesFailed = new Counter({
      name: 'mailingcore_messages_failed_total',
      help: 'Emails failed for good: reason is bounce (hard bounce, address suppressed), soft_bounce, blocked (policy, 5.7.x) or error',
      labelNames: ['reason'],
      registers,
    });
    this.messagesRetried = new Counter({
      name: 'mailingcore_messages_retried_total',
      help: 'Emails put back in the queue after a temporary failure',
      registers,
    });
    this.messagesSkipped = new Counter({
      name: 'mailingcore_messages_skipped_total',
      help: 'Emails not sent after a send-time re-check (suppressed, opted_out, contact_erased) or cancelled',
      labelNames: ['reason'],
      registers,
    });
    this.smtpSendDuration = new Histogram({
      name: 'mailingcore_smtp_send_duration_seconds',
      help: 'Time to hand one email to the transport (smtp or capture), by result',
      labelNames: ['transport', 'result'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.fanoutDuration = new Histogram({
      name: 'mailingcore_fanout_duration_seconds',
      help: 'Duration of one campaign fan-out (audience to queued messages), by result',
      labelNames: ['result'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.webhookAttempts = new Counter({
      name: 'mailingcore_webhook_attempts_total',
      help: 'Webhook delivery attempts by the dispatcher, by result: delivered, retry (backing off) or failed (schedule spent)',
      labelNames: ['result'],
      registers,
    });
    this.webhookRequestDuration = new Histogram({
      name: 'mailingcore_webhook_request_duration_seconds',
      help: 'Time of one webhook request, connect to answer, by result (ok: a 2xx; error: anything else)',
      labelNames: ['result'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.webhookEndpointsDisabled = new Counter({
      name: 'mailingcore_webhook_endpoints_disabled_total',
      help: 'Webhook endpoints disabled automatically after failing for WEBHOOK_DISABLE_AFTER_MS',
      registers,
    });
    const { db } = options;
    new Gauge({
      name: 'mailingcore_webhook_deliveries_pending',
      help: 'Webhook deliveries waiting to be sent or retried, across all workers; read from the database on scrape',
      registers,
      async collect() {
        // Answered by the partial index of pending deliveries.
        const { rows } = await sql<{ n: number | string }>`select count(*) as n from webhook_deliveries where status = 'pending'`.execute(db);
        this.set(Number(rows[0]?.n ?? 0));
      },
    });
    new Gauge({
      name: 'mailingcore_messages_queue_depth',
      help: 'Messages waiting (QUEUED) or in flight (SENDING), across all workers; read from the database on scrape',
      labelNames: ['status'],
      registers,
      async collect() {
        // One statement; each branch is answered by its partial index (status literal), not a table scan.
        const { rows } = await sql<{ status: string; n: number | string }>`
          select 'QUEUED' as status, count(*) as n from messages where status = 'QUEUED'
          union all
          select 'SENDING' as status, count(*) as n from messages where status = 'SENDING'`.execute(db);
        for (const row of rows) this.set({ status: row.status }, Number(row.n));
      },
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** For the delivery workers (src/delivery/worker.ts). */
  readonly delivery: DeliveryObserver = {
    recorded: (outcomes) => this.recordOutcomes(outcomes),
    sent: (transport, result, seconds) => this.smtpSendDuration.observe({ transport, result }, seconds),
  };

  /** For the webhook dispatcher (src/webhooks/webhook-dispatcher.ts). */
  readonly webhooks: WebhookObserver = {
    attempted: (status, ok, seconds) => {
      this.webhookAttempts.inc({ result: status === 'pending' ? 'retry' : status });
      this.webhookRequestDuration.observe({ result: ok ? 'ok' : 'error' }, seconds);
    },
    disabled: () => this.webhookEndpointsDisabled.inc(),
  };

  /** For the fan-out (src/campaigns/fanout.ts). */
  readonly fanout: FanOutObserver = {
    fannedOut: (result, seconds) => this.fanoutDuration.observe({ result }, seconds),
  };

  /** Counts the outcomes a delivery round recorded. */
  recordOutcomes(outcomes: readonly MessageOutcome[]): void {
    for (const outcome of outcomes) {
      switch (outcome.kind) {
        case 'sent':
          this.messagesSent.inc();
          break;
        case 'failed':
          this.messagesFailed.inc({ reason: failureReason(outcome) });
          break;
        case 'retry':
          this.messagesRetried.inc();
          break;
        case 'skipped':
          this.messagesSkipped.inc({ reason: SKIP_REASONS.has(outcome.reason) ? outcome.reason : 'other' });
          break;
        case 'cancelled':
          this.messagesSkipped.inc({ reason: 'cancelled' });
          break;
      }
    }
  }

  /** The text exposition format, and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** Skip reasons the worker produces; anything else is counted as `other` to keep the label bounded. */
const SKIP_REASONS = new Set(['suppressed', 'opted_out', 'contact_erased']);

/** The `reason` label of a failed message (docs/SENDING.md, "Bounce classification"). */
function failureReason(outcome: Extract<MessageOutcome, { kind: 'failed' }>): 'bounce' | 'soft_bounce' | 'blocked' | 'error' {
  if (outcome.bounce) return outcome.bounce.type === 'hard' ? 'bounce' : 'soft_bounce';
  return outcome.blocked ? 'blocked' : 'error';
}
