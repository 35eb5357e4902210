import type { Kysely } from 'kysely';
import type { DialectMigration, MigrationDialect } from './helpers.js';

/**
 * The PAUSED status's reason (manual, or the circuit breaker's rule), and
 * the breaker's baseline: the campaign's counts when it was last resumed
 * (JSON), so a resumed campaign is judged on what it sends afterwards. The
 * status column is plain text, so PAUSED itself needs no change; a paused
 * campaign's queued messages are parked by moving `next_attempt_at`
 * (MessageRepository.park), which needs no index of its own.
 */
export function campaignPaused(_dialect: MigrationDialect): DialectMigration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('campaigns').addColumn('paused_reason', 'text').execute();
      await db.schema.alterTable('campaigns').addColumn('breaker_baseline', 'text').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('campaigns').dropColumn('breaker_baseline').execute();
      await db.schema.alterTable('campaigns').dropColumn('paused_reason').execute();
    },
  };
}
