import { sql, type Kysely } from 'kysely';
import { columnTypes, type DialectMigration, type MigrationDialect } from './helpers.js';

export function contacts(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  const emptyObject = dialect === 'postgres' ? sql`'{}'::jsonb` : sql`'{}'`;
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('contacts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text')
        .addColumn('locale', 'text')
        .addColumn('opt_in', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('attributes', t.json, (c) => c.notNull().defaultTo(emptyObject))
        .addColumn('consent_version', 'text')
        .addColumn('source', 'text')
        .addColumn('project_id', 'text')
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        // Upserts match on these; NULL external ids do not collide on either engine.
        .addUniqueConstraint('contacts_tenant_email_key', ['tenant_id', 'email'])
        .addUniqueConstraint('contacts_tenant_external_id_key', ['tenant_id', 'external_id'])
        .execute();
      // Listing and cursor pagination (UUIDv7 ids are time-ordered).
      await db.schema.createIndex('contacts_tenant_id_idx').on('contacts').columns(['tenant_id', 'id']).execute();
      await db.schema
        .createIndex('contacts_tenant_updated_idx')
        .on('contacts')
        .columns(['tenant_id', 'updated_at'])
        .execute();
      // Audience filters.
      await db.schema.createIndex('contacts_tenant_locale_idx').on('contacts').columns(['tenant_id', 'locale']).execute();
      await db.schema
        .createIndex('contacts_tenant_project_idx')
        .on('contacts')
        .columns(['tenant_id', 'project_id'])
        .execute();
      if (dialect === 'postgres') {
        // Serves `attributes @> $1::jsonb`, the audience filter's attribute match.
        await sql`create index contacts_attributes_gin on contacts using gin (attributes jsonb_path_ops)`.execute(db);
      }

      await db.schema
        .createTable('suppressions')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('suppressions_pkey', ['tenant_id', 'email'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('suppressions').execute();
      await db.schema.dropTable('contacts').execute();
    },
  };
}
