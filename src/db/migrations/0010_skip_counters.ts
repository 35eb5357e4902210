import { sql, type Kysely } from 'kysely';
import type { DialectMigration, MigrationDialect } from './helpers.js';

/**
 * `skipped_suppressed` counted every message skipped at send time, whether
 * the address was suppressed, the contact had opted out or had been erased.
 * Each reason gets its own counter; existing campaigns are recounted from
 * their messages' skip_reason (rows whose campaign skipped nothing are left
 * alone, so this reads only the messages of campaigns that skipped some).
 */
export function skipCounters(_dialect: MigrationDialect): DialectMigration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('campaigns').addColumn('skipped_opted_out', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('campaigns').addColumn('skipped_erased', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      const count = (reason: string) =>
        sql`(select count(*) from messages where messages.campaign_id = campaigns.id and messages.skip_reason = ${reason})`;
      await sql`update campaigns set
          skipped_suppressed = ${count('suppressed')},
          skipped_opted_out = ${count('opted_out')},
          skipped_erased = ${count('contact_erased')}
        where skipped_suppressed > 0`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`update campaigns set skipped_suppressed = skipped_suppressed + skipped_opted_out + skipped_erased`.execute(db);
      await db.schema.alterTable('campaigns').dropColumn('skipped_erased').execute();
      await db.schema.alterTable('campaigns').dropColumn('skipped_opted_out').execute();
    },
  };
}
