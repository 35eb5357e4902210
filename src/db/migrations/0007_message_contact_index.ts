import type { Kysely } from 'kysely';
import type { DialectMigration, MigrationDialect } from './helpers.js';

/** GDPR erasure finds a contact's messages by contact id as well as by address. */
export function messageContactIndex(_dialect: MigrationDialect): DialectMigration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('messages_contact_idx').on('messages').column('contact_id').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('messages_contact_idx').execute();
    },
  };
}
