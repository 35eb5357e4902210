import type { Kysely } from 'kysely';
import { columnTypes, type DialectMigration, type MigrationDialect } from './helpers.js';

/**
 * Reports that came back to a bounce address (docs/DELIVERABILITY.md):
 * `inbound_reports` has one row per message and kind (`bounce`, `delayed`,
 * `complaint`), so a duplicate DSN or complaint is counted once;
 * `bounces_unmatched` keeps what could not be attributed or acted on, with
 * the first 64 KiB of the raw message.
 */
export function inboundReports(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('inbound_reports')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('message_id', t.bigint, (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('received_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('inbound_reports_pk', ['tenant_id', 'message_id', 'kind'])
        .execute();
      await db.schema
        .createTable('bounces_unmatched')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text') // the token's tenant, which may have been deleted since
        .addColumn('received_at', t.timestamp, (c) => c.notNull())
        .addColumn('remote_address', 'text')
        .addColumn('mail_from', 'text')
        .addColumn('rcpt_to', 'text')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('raw', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('bounces_unmatched_received_idx').on('bounces_unmatched').column('received_at').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('bounces_unmatched').execute();
      await db.schema.dropTable('inbound_reports').execute();
    },
  };
}
