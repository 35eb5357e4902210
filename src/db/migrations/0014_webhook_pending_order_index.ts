import { sql, type Kysely } from 'kysely';
import type { DialectMigration, MigrationDialect } from './helpers.js';

/**
 * The dispatcher reads an endpoint's next due delivery right before sending
 * it: `endpoint_id = ? AND status = 'pending' AND next_attempt_at <= now
 * ORDER BY next_attempt_at, id LIMIT 1`. This index answers it as a range
 * scan that stops at the first row, however many of the endpoint's
 * deliveries wait for a retry (an endpoint that keeps failing piles up
 * deliveries in backoff; walking them in id order cost ~35 ms per read at
 * 100k waiting on SQLite). It replaces 0013's (endpoint_id, next_attempt_at)
 * index, which left the tie on id to a sort.
 */
export function webhookPendingOrderIndex(_dialect: MigrationDialect): DialectMigration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.dropIndex('webhook_deliveries_due_idx').execute();
      await db.schema
        .createIndex('webhook_deliveries_next_due_idx')
        .on('webhook_deliveries')
        .columns(['endpoint_id', 'next_attempt_at', 'id'])
        .where(sql.ref('status'), '=', 'pending')
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('webhook_deliveries_next_due_idx').execute();
      await db.schema
        .createIndex('webhook_deliveries_due_idx')
        .on('webhook_deliveries')
        .columns(['endpoint_id', 'next_attempt_at'])
        .where(sql.ref('status'), '=', 'pending')
        .execute();
    },
  };
}
