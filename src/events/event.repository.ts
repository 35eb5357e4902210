import type { Kysely, Selectable } from 'kysely';
import type { DB, EventsTable } from '../db/schema.js';
import { uuidFloorAt } from '../shared/ids.js';
import { parseJsonObject } from '../shared/json.js';

export type EventRow = Selectable<EventsTable>;

export interface EventFilter {
  type?: string;
  campaignId?: string;
  contactId?: string;
  /** ISO 8601: events at or after this time. */
  since?: string;
  /** Keyset: events after (or before, newest first) this id. */
  after?: string;
  order: 'asc' | 'desc';
  limit: number;
}

/**
 * The only writer of the events table: appended in the transaction of the
 * change recorded (EventLog), rewritten only by erasure, pruned by age.
 * Bound to a transaction with `in(trx)`.
 */
export class EventRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): EventRepository {
    return new EventRepository(trx);
  }

  async insertMany(rows: readonly EventRow[]): Promise<void> {
    // 200 rows × 8 columns stays far below either engine's bound-parameter limit.
    for (let i = 0; i < rows.length; i += 200) {
      await this.db.insertInto('events').values(rows.slice(i, i + 200)).execute();
    }
  }

  list(tenantId: string, filter: EventFilter): Promise<EventRow[]> {
    let query = this.db.selectFrom('events').selectAll().where('tenant_id', '=', tenantId);
    if (filter.type) query = query.where('type', '=', filter.type);
    if (filter.campaignId) query = query.where('campaign_id', '=', filter.campaignId);
    if (filter.contactId) query = query.where('contact_id', '=', filter.contactId);
    if (filter.since) query = query.where('id', '>=', uuidFloorAt(new Date(filter.since))).where('created_at', '>=', filter.since);
    if (filter.after) query = query.where('id', filter.order === 'asc' ? '>' : '<', filter.after);
    return query.orderBy('id', filter.order).limit(filter.limit).execute();
  }

  /** Erasure: the contact's events keep their type and ids of things, lose what names the person. */
  async anonymiseContact(tenantId: string, contactId: string, anonymise: (data: Record<string, unknown>) => Record<string, unknown>): Promise<number> {
    const rows = await this.db
      .selectFrom('events')
      .select(['id', 'data'])
      .where('contact_id', '=', contactId)
      .where('tenant_id', '=', tenantId)
      .orderBy('id') // one lock order with every other writer of these rows
      .execute();
    for (const row of rows) {
      await this.db
        .updateTable('events')
        .set({ data: JSON.stringify(anonymise(parseJsonObject(row.data))), contact_id: null })
        .where('id', '=', row.id)
        .execute();
    }
    return rows.length;
  }

  /** Retention: deletes up to `limit` events older than `before`; returns how many. */
  async pruneBefore(before: Date, limit: number): Promise<number> {
    const result = await this.db
      .deleteFrom('events')
      .where('id', 'in', (eb) => eb.selectFrom('events').select('id').where('id', '<', uuidFloorAt(before)).limit(limit))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
