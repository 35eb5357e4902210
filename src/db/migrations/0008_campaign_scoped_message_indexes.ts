import type { Kysely } from 'kysely';
import type { DialectMigration, MigrationDialect } from './helpers.js';

/**
 * Erasure used to find a contact's messages through two indexes over the
 * whole history — (tenant_id, email) and (contact_id). Every fan-out to an
 * audience that was mailed before inserts its entries between the earlier
 * ones, dirtying a page per recipient: a 10,000-contact send on SQLite took
 * 89 ms after one earlier campaign and 231 ms after twenty. Erasure now
 * probes each of the tenant's campaigns instead, by (campaign_id,
 * contact_id) — the existing unique key — and by this (campaign_id, email)
 * index, whose entries for a new campaign land in pages of their own.
 */
export function campaignScopedMessageIndexes(_dialect: MigrationDialect): DialectMigration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('messages_campaign_email_idx').on('messages').columns(['campaign_id', 'email']).execute();
      await db.schema.dropIndex('messages_contact_idx').execute();
      await db.schema.dropIndex('messages_tenant_email_idx').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.createIndex('messages_tenant_email_idx').on('messages').columns(['tenant_id', 'email']).execute();
      await db.schema.createIndex('messages_contact_idx').on('messages').column('contact_id').execute();
      await db.schema.dropIndex('messages_campaign_email_idx').execute();
    },
  };
}
