import { sql, type Kysely } from 'kysely';
import type { DialectMigration, MigrationDialect } from './helpers.js';

/**
 * The dispatcher reads an endpoint's next due delivery, oldest first, right
 * before sending it: `endpoint_id = ? AND status = 'pending' AND
 * next_attempt_at <= now ORDER BY id LIMIT 1`. With only the due index
 * (endpoint_id, next_attempt_at) both engines sorted every due row of the
 * endpoint for each delivery — quadratic in a backlog. This index walks the
 * endpoint's pending deliveries in id order and stops at the first due one.
 */
export function webhookPendingOrderIndex(_dialect: MigrationDialect): DialectMigration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createIndex('webhook_deliveries_pending_order_idx')
        .on('webhook_deliveries')
        .columns(['endpoint_id', 'id'])
        .where(sql.ref('status'), '=', 'pending')
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('webhook_deliveries_pending_order_idx').execute();
    },
  };
}
