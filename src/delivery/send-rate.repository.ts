import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { burstOf, type SendRate, type SharedSendBudget } from './rate-limiter.js';

/**
 * `send_rate_limits`: a project's rate limit shared by every worker process
 * (the rule: delivery/rate-limiter.ts). One row per project holds when its
 * next send falls due at the limit's pace (`tat_us`); a grant is one upsert
 * judged by the database's clock, so two workers can never both take the
 * last sends of a burst, and their clocks do not matter.
 */
export class SendRateRepository implements SharedSendBudget {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  /**
   * With T = 1 s / perSecond (µs, rounded up: never faster) and the burst
   * B × T: the free sends are those that fit between max(tat, now) and
   * now + burst; k = min(want, free) are granted and tat moves k × T later.
   * Every SET expression reads the row as it was; `now` is the statement's
   * time (`statement_timestamp()`; SQLite's 'now' is fixed per statement).
   */
  async reserve(rate: SendRate, want: number): Promise<{ granted: number; retryInMs: number }> {
    const postgres = this.dialect === 'postgres';
    const least = sql.raw(postgres ? 'least' : 'min');
    const greatest = sql.raw(postgres ? 'greatest' : 'max');
    const now = postgres
      ? sql`cast(extract(epoch from statement_timestamp()) * 1000000 as bigint)`
      : sql`cast((julianday('now') - 2440587.5) * 86400000000.0 as integer)`;
    const interval = Math.ceil(1_000_000 / rate.perSecond);
    const burst = burstOf(rate.perSecond) * interval;
    const first = Math.max(0, Math.min(want, burstOf(rate.perSecond)));
    const base = sql`${greatest}(send_rate_limits.tat_us, ${now})`;
    const fits = sql`(${now} + ${burst} - ${base})`;
    // Whole sends only: better-sqlite3 may bind a number as a real, so SQLite's quotient is cast.
    const free = postgres ? sql`div(${fits}, ${interval})` : sql`cast(${fits} / ${interval} as integer)`;
    const granted = sql`${least}(${want}, ${greatest}(0, ${free}))`;
    const row = await this.db
      .insertInto('send_rate_limits')
      .values({ project_id: rate.key, tenant_id: rate.tenantId, tat_us: sql`${now} + ${first * interval}`, last_grant: first })
      .onConflict((oc) =>
        oc.column('project_id').doUpdateSet({
          tat_us: sql`${base} + ${granted} * ${interval}`,
          last_grant: sql<number>`${granted}`,
        }),
      )
      .returning(['last_grant', 'tat_us', sql<number>`${now}`.as('now_us')])
      .executeTakeFirstOrThrow();
    const grant = Math.floor(Number(row.last_grant));
    // Fewer than asked: the rest fits once tat is that many sends within one burst of the clock.
    const missing = Math.min(want, burstOf(rate.perSecond)) - grant;
    const retryInMs = missing > 0 ? Math.max(1, Math.ceil((Number(row.tat_us) + missing * interval - burst - Number(row.now_us)) / 1000)) : 0;
    return { granted: grant, retryInMs };
  }
}
