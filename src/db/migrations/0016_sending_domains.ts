import type { Kysely } from 'kysely';
import { columnTypes, type DialectMigration, type MigrationDialect } from './helpers.js';

/**
 * A tenant's sending domains: the DKIM key that signs its mail (private key
 * sealed with the secret box, context `domain:<id>`), the key a rotation is
 * moving to (`next_*`, published beside the current one until it verifies),
 * and the outcome of the last verify (`checks`, JSON).
 */
export function sendingDomains(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('sending_domains')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('PENDING'))
        .addColumn('selector', 'text', (c) => c.notNull())
        .addColumn('dkim_public_key', 'text', (c) => c.notNull())
        .addColumn('dkim_private_key_encrypted', 'text', (c) => c.notNull())
        .addColumn('next_selector', 'text')
        .addColumn('next_dkim_public_key', 'text')
        .addColumn('next_dkim_private_key_encrypted', 'text')
        .addColumn('checks', t.json)
        .addColumn('verified_at', t.timestamp)
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .addUniqueConstraint('sending_domains_tenant_name_key', ['tenant_id', 'name'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('sending_domains').execute();
    },
  };
}
