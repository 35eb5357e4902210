import { sql, type Kysely } from 'kysely';
import { columnTypes, type DialectMigration, type MigrationDialect } from './helpers.js';

/**
 * What comes back after "send": the event log (an outbox written in the
 * transaction of the change it records), outbound webhook endpoints and their
 * deliveries (a queue like messages: leases, retries), per-campaign stats
 * aggregated as events are written (minute buckets per locale, per-link
 * click counts), the firsts of open/click tracking (one row per first open,
 * first click and first click per link of a message), and the campaign's
 * tracking switches.
 */
export function eventsWebhooksTracking(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('campaigns').addColumn('track_opens', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('campaigns').addColumn('track_clicks', 'integer', (c) => c.notNull().defaultTo(0)).execute();

      // Ids are UUIDv7 (time-ordered): paging, per-endpoint order and retention all range over the id.
      await db.schema
        .createTable('events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('type', 'text', (c) => c.notNull())
        // No foreign keys: a campaign's or contact's events outlive it (erasure anonymises them instead).
        .addColumn('campaign_id', 'text')
        .addColumn('contact_id', 'text')
        .addColumn('message_id', t.bigint)
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_tenant_idx').on('events').columns(['tenant_id', 'id']).execute();
      await db.schema.createIndex('events_tenant_type_idx').on('events').columns(['tenant_id', 'type', 'id']).execute();
      await db.schema.createIndex('events_campaign_idx').on('events').columns(['campaign_id', 'id']).where(sql.ref('campaign_id'), 'is not', null).execute();
      await db.schema.createIndex('events_contact_idx').on('events').columns(['contact_id', 'id']).where(sql.ref('contact_id'), 'is not', null).execute();

      await db.schema
        .createTable('webhook_endpoints')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('url', 'text', (c) => c.notNull())
        /** JSON array of event types. */
        .addColumn('events', 'text', (c) => c.notNull())
        /** SecretBox-sealed, bound to `webhook:<id>`. */
        .addColumn('secret_encrypted', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('disabled_reason', 'text')
        /** First failure since the last success: the endpoint is disabled once this is old enough. */
        .addColumn('failing_since', t.timestamp)
        /** One worker delivers an endpoint's events at a time, in order. */
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', t.timestamp)
        .addColumn('last_claimed_at', t.timestamp)
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_endpoints_tenant_idx').on('webhook_endpoints').columns(['tenant_id', 'id']).execute();

      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('endpoint_id', 'text', (c) => c.notNull().references('webhook_endpoints.id').onDelete('cascade'))
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        /** Whose data the payload holds: erasure finds the payloads to anonymise by it. */
        .addColumn('contact_id', 'text')
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', t.timestamp)
        .addColumn('status_code', 'integer')
        .addColumn('response_body', 'text')
        .addColumn('last_error', 'text')
        .addColumn('delivered_at', t.timestamp)
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_deliveries_endpoint_idx').on('webhook_deliveries').columns(['endpoint_id', 'id']).execute();
      await db.schema
        .createIndex('webhook_deliveries_due_idx')
        .on('webhook_deliveries')
        .columns(['endpoint_id', 'next_attempt_at'])
        .where(sql.ref('status'), '=', 'pending')
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_contact_idx')
        .on('webhook_deliveries')
        .column('contact_id')
        .where(sql.ref('contact_id'), 'is not', null)
        .execute();

      const counters = [
        'sent', 'failed', 'bounced_hard', 'bounced_soft', 'complained', 'unsubscribed',
        'opened_unique', 'opened_total', 'opened_machine', 'clicked_unique', 'clicked_total',
        // Bounces that came back after the message was sent (DSNs): already in `sent`.
        'bounced_late',
      ];
      let stats = db.schema
        .createTable('campaign_stats')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
        /** UTC minute, `YYYY-MM-DDTHH:MM`. */
        .addColumn('bucket', 'text', (c) => c.notNull())
        /** The message's locale; '' for none. */
        .addColumn('locale', 'text', (c) => c.notNull());
      for (const name of counters) stats = stats.addColumn(name, 'integer', (c) => c.notNull().defaultTo(0));
      await stats.addPrimaryKeyConstraint('campaign_stats_pk', ['campaign_id', 'bucket', 'locale']).execute();

      await db.schema
        .createTable('campaign_link_stats')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
        .addColumn('url_hash', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('clicks', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('unique_clicks', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('campaign_link_stats_pk', ['campaign_id', 'url_hash'])
        .execute();

      await db.schema
        .createTable('tracking_firsts')
        .addColumn('message_id', t.bigint, (c) => c.notNull())
        /** `open` (first human open), `click` (first click), `link` (first click on the link `key`). */
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('tracking_firsts_pk', ['message_id', 'kind', 'key'])
        .execute();
      await db.schema.createIndex('tracking_firsts_created_idx').on('tracking_firsts').column('created_at').execute();
    },
    async down(db: Kysely<any>) {
      for (const table of ['tracking_firsts', 'campaign_link_stats', 'campaign_stats', 'webhook_deliveries', 'webhook_endpoints', 'events']) {
        await db.schema.dropTable(table).execute();
      }
      await db.schema.alterTable('campaigns').dropColumn('track_clicks').execute();
      await db.schema.alterTable('campaigns').dropColumn('track_opens').execute();
    },
  };
}
