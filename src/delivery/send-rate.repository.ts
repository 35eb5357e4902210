import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB } from '../db/schema.js';
import type { SendRate, SharedSendBudget } from './rate-limiter.js';

/**
 * `send_rate_windows`: a project's rate limit shared by every worker process
 * (the rule: delivery/rate-limiter.ts). One row per project holds its current
 * one-second window and the sends granted in it; a grant is one upsert, so
 * two workers can never both take the last sends of a window.
 */
export class SendRateRepository implements SharedSendBudget {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  /**
   * One statement: a window older than the row's counts as the row's (another
   * process's clock is ahead); a newer one starts over at zero. Of the window,
   * grants min(want, what is left), and says how much in `last_grant` (the
   * SET expressions all read the row as it was).
   */
  async reserve(rate: SendRate, windowStart: number, want: number): Promise<{ windowStart: number; granted: number }> {
    const least = sql.raw(this.dialect === 'postgres' ? 'least' : 'min');
    const greatest = sql.raw(this.dialect === 'postgres' ? 'greatest' : 'max');
    const limit = rate.perSecond;
    const first = Math.min(want, limit);
    const sameWindow = sql`send_rate_windows.window_start >= excluded.window_start`;
    const more = sql`${greatest}(0, ${least}(${want}, ${limit} - send_rate_windows.granted))`;
    const row = await this.db
      .insertInto('send_rate_windows')
      .values({ project_id: rate.key, tenant_id: rate.tenantId, window_start: windowStart, granted: first, last_grant: first })
      .onConflict((oc) =>
        oc.column('project_id').doUpdateSet({
          window_start: sql`case when ${sameWindow} then send_rate_windows.window_start else excluded.window_start end`,
          granted: sql`case when ${sameWindow} then send_rate_windows.granted + ${more} else excluded.granted end`,
          last_grant: sql`case when ${sameWindow} then ${more} else excluded.granted end`,
        }),
      )
      .returning(['window_start', 'last_grant'])
      .executeTakeFirstOrThrow();
    return { windowStart: Number(row.window_start), granted: Number(row.last_grant) };
  }
}
