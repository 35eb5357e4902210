import type { Kysely } from 'kysely';
import { columnTypes, type DialectMigration, type MigrationDialect } from './helpers.js';

/**
 * What the pre-send check reads and nothing else records: a project's last
 * SMTP verify (when, and whether it succeeded) and its first delivered
 * email; a campaign's last test send.
 */
export function preflight(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('projects').addColumn('last_verify_at', t.timestamp).execute();
      await db.schema.alterTable('projects').addColumn('last_verify_ok', 'integer').execute();
      await db.schema.alterTable('projects').addColumn('first_delivered_at', t.timestamp).execute();
      await db.schema.alterTable('campaigns').addColumn('last_test_send_at', t.timestamp).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('campaigns').dropColumn('last_test_send_at').execute();
      await db.schema.alterTable('projects').dropColumn('first_delivered_at').execute();
      await db.schema.alterTable('projects').dropColumn('last_verify_ok').execute();
      await db.schema.alterTable('projects').dropColumn('last_verify_at').execute();
    },
  };
}
