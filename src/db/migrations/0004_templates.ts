import { sql, type Kysely } from 'kysely';
import { columnTypes, type DialectMigration, type MigrationDialect } from './helpers.js';

export function templates(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('templates')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute();
      // Listing: newest first within a tenant (ids are time-ordered UUIDv7).
      await db.schema.createIndex('templates_tenant_id_idx').on('templates').columns(['tenant_id', 'id']).execute();

      await db.schema
        .createTable('template_versions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('template_id', 'text', (c) => c.notNull().references('templates.id').onDelete('cascade'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('html_body', 'text', (c) => c.notNull())
        .addColumn('text_body', 'text')
        .addColumn('locale', 'text')
        .addColumn('locale_group_id', 'text')
        .addColumn('variables', t.json)
        .addColumn('published_at', t.timestamp)
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('template_versions_template_idx')
        .on('template_versions')
        .columns(['tenant_id', 'template_id'])
        .execute();
      await db.schema
        .createIndex('template_versions_group_idx')
        .on('template_versions')
        .columns(['tenant_id', 'locale_group_id'])
        .execute();
      // One published variant per locale in a locale group (the group is the
      // anchor's own id when locale_group_id is null), so routing is never
      // ambiguous even when two publishes race.
      await sql`CREATE UNIQUE INDEX template_versions_published_locale_uq
        ON template_versions (tenant_id, (COALESCE(locale_group_id, id)), locale)
        WHERE status = 'PUBLISHED'`.execute(db);
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('template_versions').execute();
      await db.schema.dropTable('templates').execute();
    },
  };
}
