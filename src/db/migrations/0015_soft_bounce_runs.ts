import type { Kysely } from 'kysely';
import { columnTypes, type DialectMigration, type MigrationDialect } from './helpers.js';

/**
 * Soft bounces in a row per tenant and address, across campaigns: at
 * SOFT_BOUNCE_LIMIT the address is suppressed (`bounce`) and its row goes;
 * a delivered message deletes it too. Only addresses in a run have a row.
 */
export function softBounceRuns(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('soft_bounce_runs')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('bounces', 'integer', (c) => c.notNull())
        .addColumn('last_bounce_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('soft_bounce_runs_pk', ['tenant_id', 'email'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('soft_bounce_runs').execute();
    },
  };
}
