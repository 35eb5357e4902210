import type { Kysely } from 'kysely';
import { columnTypes, type DialectMigration, type MigrationDialect } from './helpers.js';

/** SMTP projects: where a tenant's campaigns are sent from. The password is stored sealed (SecretBox). */
export function projects(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('projects')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('smtp_host', 'text', (c) => c.notNull())
        .addColumn('smtp_port', 'integer', (c) => c.notNull())
        .addColumn('smtp_secure', 'integer', (c) => c.notNull())
        .addColumn('smtp_user', 'text')
        .addColumn('smtp_pass_encrypted', 'text')
        .addColumn('from_email', 'text', (c) => c.notNull())
        .addColumn('from_name', 'text')
        .addColumn('reply_to', 'text')
        .addColumn('rate_limit_per_second', 'integer')
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute();
      // Listing newest first within a tenant (ids are time-ordered UUIDv7).
      await db.schema.createIndex('projects_tenant_id_idx').on('projects').columns(['tenant_id', 'id']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('projects').execute();
    },
  };
}
