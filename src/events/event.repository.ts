import { sql, type Kysely, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB, EventsTable } from '../db/schema.js';
import { uuidFloorAt } from '../shared/ids.js';
import { parseJsonObject } from '../shared/json.js';
import type { Anonymise } from './event-types.js';

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
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  in(trx: Kysely<DB>): EventRepository {
    return new EventRepository(trx, this.dialect);
  }

  /**
   * One statement for a batch, its rows passed as one JSON document
   * (SQLite) or as column arrays (PostgreSQL): a multi-row VALUES would be
   * built and compiled by Kysely for every batch, most of the CPU this costs
   * the delivery worker (the same reason as MessageRepository.recordSent).
   */
  async insertMany(rows: readonly EventRow[]): Promise<void> {
    if (rows.length === 0) return;
    if (this.dialect === 'postgres') {
      const column = <K extends keyof EventRow>(key: K) => rows.map((row) => row[key]);
      await sql`
        insert into events (id, tenant_id, type, campaign_id, contact_id, message_id, data, created_at)
        select * from unnest(${column('id')}::text[], ${column('tenant_id')}::text[], ${column('type')}::text[], ${column('campaign_id')}::text[],
          ${column('contact_id')}::text[], ${column('message_id')}::bigint[], ${column('data')}::text[], ${column('created_at')}::timestamptz[])`.execute(this.db);
      return;
    }
    const json = JSON.stringify(rows.map((r) => [r.id, r.tenant_id, r.type, r.campaign_id, r.contact_id, r.message_id, r.data, r.created_at]));
    await sql`
      insert into events (id, tenant_id, type, campaign_id, contact_id, message_id, data, created_at)
      select value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7 from json_each(${json})`.execute(this.db);
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

  /**
   * The events of one queued message (`message_id`), oldest first: read
   * from `since` (the message's creation) so the tenant's index bounds the scan.
   */
  forMessage(tenantId: string, messageId: number, since: string, limit = 100): Promise<EventRow[]> {
    return this.db
      .selectFrom('events')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '>=', uuidFloorAt(new Date(since)))
      .where('message_id', '=', messageId)
      .orderBy('id', 'asc')
      .limit(limit)
      .execute();
  }

  /** Erasure of messages that named no contact: their events lose what names the person, as anonymiseContact does. Returns their ids. */
  async anonymiseMessages(tenantId: string, messageIds: readonly number[], anonymise: Anonymise): Promise<string[]> {
    if (messageIds.length === 0) return [];
    return this.anonymiseWhere(tenantId, (query) => query.where('message_id', 'in', [...messageIds]), anonymise);
  }

  /** Erasure: the contact's events keep their type and ids of things, lose what names the person. */
  async anonymiseContact(tenantId: string, contactId: string, anonymise: Anonymise): Promise<number> {
    return (await this.anonymiseWhere(tenantId, (query) => query.where('contact_id', '=', contactId), anonymise)).length;
  }

  private async anonymiseWhere(
    tenantId: string,
    which: (query: SelectQueryBuilder<DB, 'events', { id: string; data: string }>) => SelectQueryBuilder<DB, 'events', { id: string; data: string }>,
    anonymise: Anonymise,
  ): Promise<string[]> {
    const rows = await which(this.db.selectFrom('events').select(['id', 'data']).where('tenant_id', '=', tenantId))
      .orderBy('id') // one lock order with every other writer of these rows
      .execute();
    for (const row of rows) {
      await this.db
        .updateTable('events')
        .set({ data: JSON.stringify(anonymise(parseJsonObject(row.data))), contact_id: null })
        .where('id', '=', row.id)
        .execute();
    }
    return rows.map((row) => row.id);
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
