import type { Kysely } from 'kysely';
import type { DialectMigration, MigrationDialect } from './helpers.js';

/**
 * Test sends per tenant and UTC hour (`hour` is `YYYY-MM-DDTHH`), capped by
 * TEST_SENDS_PER_HOUR; a table rather than memory so the cap holds across
 * processes. Old hours are deleted as new ones are written.
 */
export function testSendCounts(_dialect: MigrationDialect): DialectMigration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('test_send_counts')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('hour', 'text', (c) => c.notNull())
        .addColumn('sent', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('test_send_counts_pk', ['tenant_id', 'hour'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('test_send_counts').execute();
    },
  };
}
