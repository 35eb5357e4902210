import { LruMap } from './lru-map.js';

/** Where a page ended: enough to know the total without counting when the page is the last one. */
export interface PageSeen {
  offset: number;
  limit: number;
  /** Rows the page query returned. */
  rows: number;
}

interface Entry {
  tenantId: string;
  total: number;
  at: number;
  /** How long it is kept: the TTL, or longer for a count that took long. */
  keepMs: number;
}

/** A count is kept at least this many times as long as it took: counting takes at most 1 % of the time per (tenant, filter). */
const KEEP_PER_COUNT_MS = 100;

/**
 * The `total` of list pages (`meta.total`): a COUNT(*) over every row a
 * tenant's filter matches, which at 100,000 contacts costs more than the
 * page itself by two orders of magnitude (11 ms on SQLite, 45–60 ms on
 * PostgreSQL against 0.1–0.6 ms for 50 rows). So:
 *
 * - a page that is not full is the last one: its total is `offset + rows`,
 *   exact, without counting;
 * - otherwise the count is kept per (tenant, filter) for `ttlMs`
 *   (LIST_TOTAL_CACHE_MS), or 100 times as long as it took if that is longer
 *   (a 100 ms count over a million contacts is kept 10 s: on SQLite each
 *   count holds the process's event loop, so it may take at most 1 % of it),
 *   and shared by the requests that need it meanwhile (one count in flight
 *   per key); a total smaller than what the page itself shows is never
 *   answered;
 * - a write of the table through its repository forgets the tenant's totals
 *   in this process at once; another process's writes show within `ttlMs`.
 *
 * `ttlMs` 0 counts on every full page, as before.
 */
export class ListTotals {
  private readonly entries = new LruMap<string, Entry>(2000);
  private readonly counting = new Map<string, Promise<number>>();
  /** Bumped by every write of a tenant's rows: a count begun before it is not kept. */
  private readonly generations = new LruMap<string, number>(10_000);

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async total(tenantId: string, filterKey: string, page: PageSeen | undefined, count: () => Promise<number>): Promise<number> {
    const key = `${tenantId}\u0000${filterKey}`;
    if (page && page.rows < page.limit && (page.rows > 0 || page.offset === 0)) {
      const total = page.offset + page.rows;
      if (this.ttlMs > 0) this.entries.set(key, { tenantId, total, at: this.now(), keepMs: this.ttlMs });
      return total;
    }
    const atLeast = page ? page.offset + page.rows : 0;
    if (this.ttlMs <= 0) return count();
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.at <= entry.keepMs && entry.total >= atLeast) return entry.total;
    const running = this.counting.get(key);
    if (running) {
      const total = await running;
      if (total >= atLeast) return total;
    }
    return this.count(tenantId, key, count);
  }

  /** The tenant's rows changed (in this process): its totals are counted again. */
  forget(tenantId: string): void {
    if (this.ttlMs <= 0) return;
    this.generations.set(tenantId, (this.generations.get(tenantId) ?? 0) + 1);
    this.entries.deleteWhere((entry) => entry.tenantId === tenantId);
    for (const key of this.counting.keys()) if (key.startsWith(`${tenantId}\u0000`)) this.counting.delete(key);
  }

  private async count(tenantId: string, key: string, count: () => Promise<number>): Promise<number> {
    const generation = this.generations.get(tenantId) ?? 0;
    const started = this.now();
    const running = count();
    this.counting.set(key, running);
    try {
      const total = await running;
      const keepMs = Math.max(this.ttlMs, KEEP_PER_COUNT_MS * (this.now() - started));
      if ((this.generations.get(tenantId) ?? 0) === generation) this.entries.set(key, { tenantId, total, at: started, keepMs });
      return total;
    } finally {
      if (this.counting.get(key) === running) this.counting.delete(key);
    }
  }
}
