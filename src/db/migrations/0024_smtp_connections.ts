import type { Kysely } from 'kysely';
import { columnTypes, type DialectMigration, type MigrationDialect } from './helpers.js';

/**
 * Delivery across worker processes (issue 18):
 * - `projects.max_connections`: the SMTP connections each worker process
 *   opens to the project's server (null: the process default,
 *   SMTP_MAX_CONNECTIONS);
 * - `send_rate_limits`: a project's `rate_limit_per_second` shared by every
 *   worker. One row per project: when its next send is due at the limit's
 *   pace (`tat_us`, the "theoretical arrival time" of GCRA, microseconds of
 *   the database's clock) and what the last grant was; workers take small
 *   slices with one upsert (delivery/send-rate.repository.ts).
 */
export function smtpConnections(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('projects').addColumn('max_connections', 'integer').execute();
      await db.schema
        .createTable('send_rate_limits')
        .addColumn('project_id', 'text', (c) => c.primaryKey().references('projects.id').onDelete('cascade'))
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('tat_us', t.bigint, (c) => c.notNull())
        .addColumn('last_grant', 'integer', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('send_rate_limits').execute();
      await db.schema.alterTable('projects').dropColumn('max_connections').execute();
    },
  };
}
