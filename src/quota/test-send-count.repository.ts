import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DB } from '../db/schema.js';

/**
 * The only writer of test_send_counts: test sends per tenant and UTC hour.
 * `take` is one conditional UPDATE after making sure the row exists, so two
 * processes cannot both take the last of an hour's allowance. Bound to a
 * transaction with `in(trx)`.
 */
export class TestSendCountRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): TestSendCountRepository {
    return new TestSendCountRepository(trx);
  }

  /** Adds `count` to the hour's test sends if that keeps them at most `max`; false (nothing added) otherwise. */
  async take(tenantId: string, hour: string, count: number, max: number): Promise<boolean> {
    await this.db
      .insertInto('test_send_counts')
      .values({ tenant_id: tenantId, hour, sent: 0 })
      .onConflict((oc) => oc.columns(['tenant_id', 'hour']).doNothing())
      .execute();
    const result = await this.db
      .updateTable('test_send_counts')
      .set({ sent: sql`sent + ${count}` })
      .where('tenant_id', '=', tenantId)
      .where('hour', '=', hour)
      .where(sql<boolean>`sent + ${count} <= ${max}`)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    // Earlier hours are of no use any more.
    await this.db.deleteFrom('test_send_counts').where('tenant_id', '=', tenantId).where('hour', '<', hour).execute();
    return true;
  }
}
