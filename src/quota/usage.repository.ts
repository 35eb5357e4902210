import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB } from '../db/schema.js';

/** The only writer of the usage table: emails queued per tenant and month. Bound to a transaction with `in(trx)`. */
export class UsageRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  in(trx: Kysely<DB>): UsageRepository {
    return new UsageRepository(trx, this.dialect);
  }

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
   * Inside a transaction: makes sure the month's row exists, then reads it
   * locked (PostgreSQL `FOR UPDATE`; on SQLite the insert has already made
   * this a write transaction), so two fan-outs of one tenant cannot both
   * spend the same remaining quota.
   */
  async lockMonth(tenantId: string, month: string): Promise<number> {
    await this.db
      .insertInto('usage')
      .values({ tenant_id: tenantId, month, used: 0 })
      .onConflict((oc) => oc.columns(['tenant_id', 'month']).doNothing())
      .execute();
    let query = this.db.selectFrom('usage').select('used').where('tenant_id', '=', tenantId).where('month', '=', month);
    if (this.dialect === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirstOrThrow();
    return Number(row.used);
  }

  /** Adds to a month locked by `lockMonth` in the same transaction. */
  async add(tenantId: string, month: string, count: number): Promise<void> {
    if (count === 0) return;
    await this.db
      .updateTable('usage')
      .set({ used: sql`used + ${count}` })
      .where('tenant_id', '=', tenantId)
      .where('month', '=', month)
      .execute();
  }
}
