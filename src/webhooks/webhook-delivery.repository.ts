import type { Kysely, Selectable } from 'kysely';
import type { DB, WebhookDeliveriesTable } from '../db/schema.js';
import { parseJsonObject } from '../shared/json.js';

export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;

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

  /** Erasure: payloads holding the contact keep the event's shape, lose what names the person. */
  async anonymiseContact(tenantId: string, contactId: string, anonymise: (data: Record<string, unknown>) => Record<string, unknown>): Promise<number> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .select(['id', 'payload'])
      .where('contact_id', '=', contactId)
      .where('tenant_id', '=', tenantId)
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
