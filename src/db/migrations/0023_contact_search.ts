import { sql, type Kysely } from 'kysely';
import type { DialectMigration, MigrationDialect } from './helpers.js';

/**
 * Contact search (`GET /contacts?q=`, a case-insensitive prefix of the email
 * or the externalId): one expression index per column, tenant first, that the
 * search's range condition uses (contacts/contact-search.ts, checked with
 * EXPLAIN by test/api/contact-search.test.ts).
 *
 * Case folding is ASCII only on both engines, so both answer alike: SQLite's
 * `lower()` folds ASCII only; on PostgreSQL `lower(x collate "C")` does the
 * same whatever the database's locale, and the result's "C" collation makes
 * the index's order bytewise, which a prefix range needs (what
 * `text_pattern_ops` gives LIKE).
 */
export function contactSearch(dialect: MigrationDialect): DialectMigration {
  return {
    async up(db: Kysely<any>) {
      if (dialect === 'postgres') {
        await sql`create index contacts_email_search_idx on contacts (tenant_id, (lower(email collate "C")))`.execute(db);
        await sql`create index contacts_external_id_search_idx on contacts (tenant_id, (lower(external_id collate "C")))`.execute(db);
      } else {
        await sql`create index contacts_email_search_idx on contacts (tenant_id, lower(email))`.execute(db);
        await sql`create index contacts_external_id_search_idx on contacts (tenant_id, lower(external_id))`.execute(db);
      }
      // A contact's messages, newest first (GET /contacts/{id}/messages).
      await db.schema.createIndex('messages_contact_recent_idx').on('messages').columns(['tenant_id', 'contact_id', 'id']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('messages_contact_recent_idx').execute();
      await db.schema.dropIndex('contacts_external_id_search_idx').execute();
      await db.schema.dropIndex('contacts_email_search_idx').execute();
    },
  };
}
