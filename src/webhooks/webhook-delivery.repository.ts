import { sql, type Kysely, type Selectable, type SelectQueryBuilder, type Updateable } from 'kysely';
import type { WebhookDeliveryStatus } from '../db/enums.js';
import type { DB, WebhookDeliveriesTable } from '../db/schema.js';
import { uuidFloorAt } from '../shared/ids.js';
import { parseJsonObject } from '../shared/json.js';
import type { Anonymise } from '../events/event-types.js';

export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;


/** What an attempt changes on its delivery. */
export type DeliveryAttemptPatch = Pick<
  Updateable<WebhookDeliveriesTable>,
  'status' | 'attempt' | 'next_attempt_at' | 'status_code' | 'response_body' | 'last_error' | 'delivered_at' | 'updated_at'
>;

/** A delivery about to be sent, with where and how to sign it. */
export interface DueDelivery {
  id: string;
  eventType: string;
  /** The exact body to send. */
  payload: string;
  /** Attempts made so far. */
  attempt: number;
  url: string;
  secretEncrypted: string;
}

export interface DeliveryListFilter {
  status?: WebhookDeliveryStatus;
  /** Keyset: deliveries older than this id (newest first). */
  before?: string;
  limit: number;
}

/**
 * The only writer of webhook_deliveries: the webhook queue. Deliveries are
 * created with the event they carry (EventLog), claimed endpoint by endpoint
 * by the workers, and pruned by age. Bound to a transaction with `in(trx)`.
 */
export class WebhookDeliveryRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): WebhookDeliveryRepository {
    return new WebhookDeliveryRepository(trx);
  }

  async insertMany(rows: readonly WebhookDeliveryRow[]): Promise<void> {
    // 100 rows × 16 columns stays far below either engine's bound-parameter limit.
    for (let i = 0; i < rows.length; i += 100) {
      await this.db.insertInto('webhook_deliveries').values(rows.slice(i, i + 100)).execute();
    }
  }

  async insert(row: WebhookDeliveryRow): Promise<void> {
    await this.db.insertInto('webhook_deliveries').values(row).execute();
  }

  getById(tenantId: string, endpointId: string, id: string): Promise<WebhookDeliveryRow | undefined> {
    return this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('id', '=', id)
      .where('endpoint_id', '=', endpointId)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
  }

  /** An endpoint's deliveries, newest first. */
  list(tenantId: string, endpointId: string, filter: DeliveryListFilter): Promise<WebhookDeliveryRow[]> {
    let query = this.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).where('tenant_id', '=', tenantId);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.before) query = query.where('id', '<', filter.before);
    return query.orderBy('id', 'desc').limit(filter.limit).execute();
  }

  /**
   * A claimed endpoint's next due pending delivery — first attempts in event
   * order (a delivery is due from its event's time), a retry when its backoff
   * ends — with the endpoint's URL and sealed secret as they are now: read
   * right before it is sent, so neither a payload erased nor a URL changed a
   * moment ago is sent stale, nor anything once the endpoint is disabled.
   * One range scan of webhook_deliveries_next_due_idx, stopping at the first
   * row however many deliveries wait in backoff (migration 0014). A NULL
   * next attempt (a test send in progress) is never due.
   */
  async nextDue(endpointId: string, now: Date): Promise<DueDelivery | undefined> {
    const row = await this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .select(['d.id', 'd.event_type', 'd.payload', 'd.attempt', 'e.url', 'e.secret_encrypted'])
      .where('d.endpoint_id', '=', endpointId)
      .where('d.status', '=', 'pending')
      .where('d.next_attempt_at', '<=', now.toISOString())
      .where('e.enabled', '=', 1)
      .orderBy('d.next_attempt_at')
      .orderBy('d.id')
      .limit(1)
      .executeTakeFirst();
    return row && { id: row.id, eventType: row.event_type, payload: row.payload, attempt: row.attempt, url: row.url, secretEncrypted: row.secret_encrypted };
  }

  /** Writes an attempt's outcome on a delivery that is still pending; false if it is not (anymore). */
  async recordAttempt(id: string, patch: DeliveryAttemptPatch): Promise<boolean> {
    const result = await this.db.updateTable('webhook_deliveries').set(patch).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Manual retry: a failed delivery, or a pending one waiting for its next
   * attempt, becomes due now. A pending one with no next attempt (a test
   * send in progress) or a delivered one is left alone (false).
   */
  async requeue(tenantId: string, endpointId: string, id: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', next_attempt_at: at, updated_at: at })
      .where('id', '=', id)
      .where('endpoint_id', '=', endpointId)
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('status', '=', 'failed'), eb.and([eb('status', '=', 'pending'), eb('next_attempt_at', 'is not', null)])]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Retention: deletes up to `limit` deliveries created before `before` that
   * are finished — delivered, failed, or a test send whose API process died
   * mid-send (pending with no next attempt: nothing will ever send it).
   */
  async pruneFinishedBefore(before: Date, limit: number): Promise<number> {
    const result = await this.db
      .deleteFrom('webhook_deliveries')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('id', '<', uuidFloorAt(before))
          .where((eb) => eb.or([eb('status', 'in', ['delivered', 'failed']), eb('next_attempt_at', 'is', null)]))
          .limit(limit),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Erasure: payloads holding the contact keep the event's shape, lose what names the person. */
  async anonymiseContact(tenantId: string, contactId: string, anonymise: Anonymise): Promise<number> {
    return this.anonymiseWhere(tenantId, (query) => query.where('contact_id', '=', contactId), anonymise);
  }

  /** Erasure of events that named no contact (a transactional email to a bare address): their deliveries, as anonymiseContact. */
  async anonymiseEvents(tenantId: string, eventIds: readonly string[], anonymise: Anonymise): Promise<number> {
    if (eventIds.length === 0) return 0;
    return this.anonymiseWhere(tenantId, (query) => query.where('event_id', 'in', [...eventIds]), anonymise);
  }

  private async anonymiseWhere(
    tenantId: string,
    which: (query: SelectQueryBuilder<DB, 'webhook_deliveries', { id: string; payload: string }>) => SelectQueryBuilder<DB, 'webhook_deliveries', { id: string; payload: string }>,
    anonymise: Anonymise,
  ): Promise<number> {
    const rows = await which(this.db.selectFrom('webhook_deliveries').select(['id', 'payload']).where('tenant_id', '=', tenantId))
      .orderBy('id') // one lock order with every other writer of these rows
      .execute();
    for (const row of rows) {
      const payload = parseJsonObject(row.payload);
      const data = anonymise(parseJsonObject(payload.data));
      await this.db
        .updateTable('webhook_deliveries')
        .set({ payload: JSON.stringify({ ...payload, data }), contact_id: null, response_body: null })
        .where('id', '=', row.id)
        .execute();
    }
    return rows.length;
  }
}
