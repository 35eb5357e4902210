import type { Kysely } from 'kysely';
import { columnTypes, type DialectMigration, type MigrationDialect } from './helpers.js';

/**
 * Provider bounce webhooks (docs/DELIVERABILITY.md, "Provider webhooks"):
 * `bounce_providers` is a tenant's integration with Postmark or Mailgun —
 * Postmark's basic-auth user and the SHA-256 of its generated password,
 * Mailgun's webhook signing key sealed with the secret box (context
 * `bounce-provider:<id>`); `bounce_provider_tokens` remembers the Mailgun
 * signature tokens seen in the last minutes, so a captured request cannot
 * be replayed.
 */
export function bounceProviders(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('bounce_providers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('username', 'text')
        .addColumn('password_hash', 'text')
        .addColumn('signing_key_encrypted', 'text')
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('last_received_at', t.timestamp)
        .execute();
      await db.schema.createIndex('bounce_providers_tenant_idx').on('bounce_providers').columns(['tenant_id', 'id']).execute();
      await db.schema
        .createTable('bounce_provider_tokens')
        .addColumn('integration_id', 'text', (c) => c.notNull().references('bounce_providers.id').onDelete('cascade'))
        .addColumn('token', 'text', (c) => c.notNull())
        .addColumn('seen_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('bounce_provider_tokens_pk', ['integration_id', 'token'])
        .execute();
      await db.schema.createIndex('bounce_provider_tokens_seen_idx').on('bounce_provider_tokens').column('seen_at').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('bounce_provider_tokens').execute();
      await db.schema.dropTable('bounce_providers').execute();
    },
  };
}
