import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { SharedCounter } from './token-blocks.js';
import { forgetEndedWindows } from './window.js';

/** Counts one request of `key` in the window starting at `windowStart`; returns its number in the window. */
export interface RateLimitStore {
  hit(key: string, windowStart: number, windowMs: number, max: number): Promise<number>;
  close(): Promise<void>;
}

/** One process's own counts: right for the embedded SQLite default (one host, usually one process). */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly counts = new Map<string, { windowStart: number; count: number }>();

  async hit(key: string, windowStart: number): Promise<number> {
    const entry = this.counts.get(key);
    if (entry && entry.windowStart === windowStart) return ++entry.count;
    forgetEndedWindows(this.counts, windowStart);
    this.counts.set(key, { windowStart, count: 1 });
    return 1;
  }

  async close() {}
}

/**
 * Counts shared by every API process on one PostgreSQL: an upsert on a small
 * table per block of requests (TokenBlocks); old windows are deleted now and then.
 */
export class DatabaseCounter implements SharedCounter {
  private lastCleanup = 0;

  constructor(private readonly db: Kysely<DB>) {}

  async add(key: string, windowStart: number, windowMs: number, n: number): Promise<number> {
    const row = await this.db
      .insertInto('rate_limit_hits')
      .values({ key, window_start: windowStart, count: n })
      .onConflict((oc) => oc.columns(['key', 'window_start']).doUpdateSet({ count: sql`rate_limit_hits.count + ${n}` }))
      .returning('count')
      .executeTakeFirstOrThrow();
    if (windowStart - this.lastCleanup > windowMs) {
      this.lastCleanup = windowStart;
      await this.db.deleteFrom('rate_limit_hits').where('window_start', '<', windowStart - windowMs).execute();
    }
    return Number(row.count);
  }

  async close() {}
}

interface RedisPipeline {
  incrby(key: string, n: number): RedisPipeline;
  pexpire(key: string, ms: number): RedisPipeline;
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** The part of an ioredis client this store uses. */
export interface RedisLike {
  multi(): RedisPipeline;
  quit(): Promise<unknown>;
}

/** Counts shared through Redis (REDIS_URL): INCRBY on a key per window, expiring with it. */
export class RedisCounter implements SharedCounter {
  constructor(private readonly redis: RedisLike) {}

  async add(key: string, windowStart: number, windowMs: number, n: number): Promise<number> {
    const redisKey = `mailingcore:rl:${key}:${windowStart}`;
    const results = await this.redis.multi().incrby(redisKey, n).pexpire(redisKey, windowMs * 2).exec();
    const first: [Error | null, unknown] = results?.[0] ?? [new Error('no reply from Redis'), 0];
    if (first[0]) throw first[0];
    return Number(first[1]);
  }

  async close() {
    await this.redis.quit();
  }
}
