import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB } from '../db/schema.js';

export class UsageRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Emails queued by the tenant in the month (0 when none yet). */
  async used(tenantId: string, month: string): Promise<number> {
    const row = await this.db
      .selectFrom('usage')
      .select('used')
      .where('tenant_id', '=', tenantId)
      .where('month', '=', month)
      .executeTakeFirst();
    return Number(row?.used ?? 0);
  }

  /**
   * Inside a fan-out transaction: makes sure the month's row exists, then
   * reads it locked (PostgreSQL `FOR UPDATE`; on SQLite the insert has already
   * made this a write transaction), so two fan-outs of one tenant cannot both
   * spend the same remaining quota.
   */
  static async lockMonth(trx: Kysely<DB>, dialect: Dialect, tenantId: string, month: string): Promise<number> {
    await trx
      .insertInto('usage')
      .values({ tenant_id: tenantId, month, used: 0 })
      .onConflict((oc) => oc.columns(['tenant_id', 'month']).doNothing())
      .execute();
    let query = trx.selectFrom('usage').select('used').where('tenant_id', '=', tenantId).where('month', '=', month);
    if (dialect === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirstOrThrow();
    return Number(row.used);
  }

  static async add(trx: Kysely<DB>, tenantId: string, month: string, count: number): Promise<void> {
    if (count === 0) return;
    await trx
      .updateTable('usage')
      .set({ used: sql`used + ${count}` })
      .where('tenant_id', '=', tenantId)
      .where('month', '=', month)
      .execute();
  }
}
