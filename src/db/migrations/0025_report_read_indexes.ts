import { sql, type Kysely } from 'kysely';
import type { DialectMigration, MigrationDialect } from './helpers.js';

/**
 * The reads after a send stay flat as a campaign grows (issue 18, target 7;
 * docs/BENCHMARKS.md). Found at a million recipients:
 * - the recipients log (`GET /campaigns/{id}/messages`, oldest first) had no
 *   index in its order: both engines read and sorted every message of the
 *   campaign for a page of 50 (0.46 s SQLite, 0.64 s PostgreSQL).
 *   `(campaign_id, id)` gives the page in order;
 * - the event log of a campaign (`GET /events?campaignId=`, newest first)
 *   on PostgreSQL, with statistics not yet caught up after a big send,
 *   combined the tenant and campaign indexes and sorted every event of the
 *   campaign (0.89 s). One index with the tenant, the campaign and the order
 *   serves it whatever the statistics say; it replaces `(campaign_id, id)`,
 *   which no query uses without the tenant.
 */
export function reportReadIndexes(_dialect: MigrationDialect): DialectMigration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('messages_campaign_order_idx').on('messages').columns(['campaign_id', 'id']).execute();
      await db.schema.dropIndex('events_campaign_idx').execute();
      await db.schema
        .createIndex('events_tenant_campaign_idx')
        .on('events')
        .columns(['tenant_id', 'campaign_id', 'id'])
        .where(sql.ref('campaign_id'), 'is not', null)
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('events_tenant_campaign_idx').execute();
      await db.schema.createIndex('events_campaign_idx').on('events').columns(['campaign_id', 'id']).where(sql.ref('campaign_id'), 'is not', null).execute();
      await db.schema.dropIndex('messages_campaign_order_idx').execute();
    },
  };
}
