import { sql, type Kysely } from 'kysely';
import { columnTypes, type DialectMigration, type MigrationDialect } from './helpers.js';

export function foundation(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tenants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('monthly_quota', t.bigint, (c) => c.notNull())
        .addColumn('fallback_locale', 'text')
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('last_used_at', t.timestamp)
        .addColumn('revoked_at', t.timestamp)
        .execute();
      await db.schema.createIndex('api_keys_tenant_idx').on('api_keys').columns(['tenant_id', 'created_at']).execute();

      await db.schema
        .createTable('campaigns')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('template_version_id', 'text')
        .addColumn('subject', 'text')
        .addColumn('audience_filter', 'text')
        .addColumn('project_id', 'text')
        .addColumn('timezone', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('scheduled_at', t.timestamp)
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .addColumn('cancelled_at', t.timestamp)
        .execute();
      // Listing: newest first within a tenant, optionally by status (ids are time-ordered UUIDv7).
      await db.schema.createIndex('campaigns_tenant_id_idx').on('campaigns').columns(['tenant_id', 'id']).execute();
      await db.schema
        .createIndex('campaigns_tenant_status_idx')
        .on('campaigns')
        .columns(['tenant_id', 'status', 'id'])
        .execute();
      // The scheduler's question: which SCHEDULED campaigns are due?
      await db.schema
        .createIndex('campaigns_due_idx')
        .on('campaigns')
        .columns(['scheduled_at'])
        .where(sql.ref('status'), '=', 'SCHEDULED')
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('campaigns').execute();
      await db.schema.dropTable('api_keys').execute();
      await db.schema.dropTable('tenants').execute();
      await db.schema.dropTable('settings').execute();
    },
  };
}
