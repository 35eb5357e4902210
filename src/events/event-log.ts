import type { CampaignStatsRepository } from '../stats/campaign-stats.repository.js';
import { incrementOfEvent, type StatIncrement } from '../stats/stat-increments.js';
import { newId } from '../shared/ids.js';
import { parseJsonObject } from '../shared/json.js';
import type { WebhookDeliveryRepository, WebhookDeliveryRow } from '../webhooks/webhook-delivery.repository.js';
import type { WebhookEndpointRepository } from '../webhooks/webhook-endpoint.repository.js';
import type { EventRepository, EventRow } from './event.repository.js';
import type { NewEvent, PublicEvent } from './event-types.js';

export interface EventLogDeps {
  events: EventRepository;
  endpoints: WebhookEndpointRepository;
  deliveries: WebhookDeliveryRepository;
  stats: CampaignStatsRepository;
}

/**
 * The outbox. `record` runs inside the transaction of the change it
 * records (bind it with `in(trx)`): the events are appended, a pending
 * webhook delivery is queued for every enabled endpoint subscribed to each
 * one, and the campaign counters they move are added — so there is no event
 * without its change, no change without its event, and no event a
 * subscribed endpoint is not sent. A batch of events costs a few statements,
 * not a round trip per event.
 */
export class EventLog {
  constructor(private readonly deps: EventLogDeps) {}

  in(trx: Parameters<EventRepository['in']>[0]): EventLog {
    const { events, endpoints, deliveries, stats } = this.deps;
    return new EventLog({ events: events.in(trx), endpoints: endpoints.in(trx), deliveries: deliveries.in(trx), stats: stats.in(trx) });
  }

  /**
   * `beforeStats`, when given, runs after the events and deliveries are
   * written and right before the stat counters: the caller's writes to rows
   * that every concurrent writer of a campaign touches (its counters) are
   * then locked last with the stat buckets, and held for the least time
   * (issue 18: workers sending one campaign queued on its row).
   */
  async record(events: readonly NewEvent[], extraStats: readonly StatIncrement[] = [], beforeStats?: () => Promise<void>): Promise<PublicEvent[]> {
    if (events.length === 0 && extraStats.length === 0) {
      await beforeStats?.();
      return [];
    }
    const rows: EventRow[] = events.map((event) => ({
      id: newId(),
      tenant_id: event.tenantId,
      type: event.type,
      campaign_id: event.campaignId ?? null,
      contact_id: event.contactId ?? null,
      message_id: event.messageId ?? null,
      data: JSON.stringify(event.data),
      created_at: event.at,
    }));
    await this.deps.events.insertMany(rows);
    const published = rows.map(toPublicEvent);
    await this.queueDeliveries(published, rows);
    const increments = events.map(incrementOfEvent).filter((inc): inc is StatIncrement => inc !== undefined);
    await beforeStats?.();
    await this.deps.stats.add([...increments, ...extraStats]);
    return published;
  }

  private async queueDeliveries(published: readonly PublicEvent[], rows: readonly EventRow[]): Promise<void> {
    if (published.length === 0) return;
    const subscriptions = await this.deps.endpoints.subscriptions([...new Set(published.map((e) => e.tenantId))]);
    if (subscriptions.length === 0) return;
    const deliveries: WebhookDeliveryRow[] = [];
    published.forEach((event, i) => {
      const row = rows[i]!;
      for (const sub of subscriptions) {
        if (sub.tenantId !== event.tenantId || !sub.events.includes(event.type)) continue;
        deliveries.push({
          id: newId(),
          tenant_id: event.tenantId,
          endpoint_id: sub.endpointId,
          event_id: event.id,
          event_type: event.type,
          contact_id: row.contact_id,
          payload: JSON.stringify(event),
          status: 'pending',
          attempt: 0,
          next_attempt_at: event.createdAt,
          status_code: null,
          response_body: null,
          last_error: null,
          delivered_at: null,
          created_at: event.createdAt,
          updated_at: event.createdAt,
        });
      }
    });
    await this.deps.deliveries.insertMany(deliveries);
  }
}

/** The event log over the repositories of its four tables (createRepositories' names). */
export function eventLogOf(repositories: {
  events: EventRepository;
  webhookEndpoints: WebhookEndpointRepository;
  webhookDeliveries: WebhookDeliveryRepository;
  campaignStats: CampaignStatsRepository;
}): EventLog {
  return new EventLog({
    events: repositories.events,
    endpoints: repositories.webhookEndpoints,
    deliveries: repositories.webhookDeliveries,
    stats: repositories.campaignStats,
  });
}

export function toPublicEvent(row: EventRow): PublicEvent {
  return {
    id: row.id,
    type: row.type,
    createdAt: row.created_at,
    tenantId: row.tenant_id,
    data: parseJsonObject(row.data),
  };
}
