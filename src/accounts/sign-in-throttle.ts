import { LruMap } from '../shared/lru-map.js';

/**
 * Sign-in attempts per account (the normalised address, known or not) and
 * per client IP, with exponential backoff: the first `free` failures in a
 * row cost nothing; each one after that locks the key for
 * `baseMs · 2^(failures − free − 1)`, capped at `maxLockMs`. A lock refuses
 * every attempt (right password included) with 429 and Retry-After, before
 * any hashing. A success clears the account's count (not the IP's: signing
 * in to one's own account must not reset a guessing run against others);
 * failures are forgotten after `forgetAfterMs` without one.
 *
 * Kept in the process (bounded LRU): with several API processes each counts
 * its own attempts, which multiplies the budget by the number of processes
 * but keeps the backoff (docs/ACCOUNTS.md).
 */
export interface ThrottleRule {
  free: number;
  baseMs: number;
  maxLockMs: number;
  forgetAfterMs: number;
}

export interface ThrottleSettings {
  account: ThrottleRule;
  ip: ThrottleRule;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  account: { free: 5, baseMs: 1_000, maxLockMs: 15 * 60_000, forgetAfterMs: 60 * 60_000 },
  ip: { free: 20, baseMs: 1_000, maxLockMs: 15 * 60_000, forgetAfterMs: 60 * 60_000 },
};

interface Entry {
  failures: number;
  lastFailureAt: number;
  lockedUntil: number;
}

/** Pure arithmetic: the entry after one more failure at `now`. */
export function afterFailure(entry: Entry | undefined, rule: ThrottleRule, now: number): Entry {
  const failures = entry && now - entry.lastFailureAt < rule.forgetAfterMs ? entry.failures + 1 : 1;
  const over = failures - rule.free;
  const lockedUntil = over > 0 ? now + Math.min(rule.maxLockMs, rule.baseMs * 2 ** Math.min(over - 1, 30)) : 0;
  return { failures, lastFailureAt: now, lockedUntil };
}

export class SignInThrottle {
  private readonly entries = new LruMap<string, Entry>(100_000);

  constructor(
    private readonly settings: ThrottleSettings = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds to wait before the next attempt, 0 when one may be made now. */
  retryAfterMs(account: string, ip: string): number {
    const now = this.now();
    const wait = (key: string) => Math.max(0, (this.entries.get(key)?.lockedUntil ?? 0) - now);
    return Math.max(wait(`a:${account}`), wait(`i:${ip}`));
  }

  failed(account: string, ip: string): void {
    const now = this.now();
    for (const [key, rule] of [[`a:${account}`, this.settings.account], [`i:${ip}`, this.settings.ip]] as const) {
      this.entries.set(key, afterFailure(this.entries.get(key), rule, now));
    }
  }

  succeeded(account: string): void {
    this.entries.delete(`a:${account}`);
  }
}
