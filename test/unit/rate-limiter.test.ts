import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { burstOf, RateLimiter, type SendRate, type SharedSendBudget } from '../../src/delivery/rate-limiter.js';

describe('rate limiter', () => {
  it('allows a second of burst, then spaces takes at the rate', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const waits = Array.from({ length: 7 }, () => limiter.reserve('p', 5));
    expect(waits).toEqual([0, 0, 0, 0, 0, 200, 400]);
    now = 1000;
    // One second later: 5 tokens earned, 2 owed → 3 free takes.
    expect([limiter.reserve('p', 5), limiter.reserve('p', 5), limiter.reserve('p', 5), limiter.reserve('p', 5)]).toEqual([0, 0, 0, 200]);
  });

  it('keeps one bucket per key', () => {
    const limiter = new RateLimiter(() => 0);
    expect(limiter.reserve('a', 1)).toBe(0);
    expect(limiter.reserve('a', 1)).toBe(1000);
    expect(limiter.reserve('b', 1)).toBe(0);
  });
});

/** The database's rule in memory (GCRA, as send-rate.repository.ts writes it), on the (fake) system clock. */
class MemoryBudget implements SharedSendBudget {
  private readonly tat = new Map<string, number>();
  granted = 0;
  calls = 0;

  async reserve(rate: SendRate, want: number) {
    this.calls++;
    const now = Date.now() * 1000;
    const interval = Math.ceil(1_000_000 / rate.perSecond);
    const burst = burstOf(rate.perSecond) * interval;
    const base = Math.max(this.tat.get(rate.key) ?? now, now);
    const granted = Math.min(want, Math.max(0, Math.floor((now + burst - base) / interval)));
    this.tat.set(rate.key, base + granted * interval);
    this.granted += granted;
    const missing = Math.min(want, burstOf(rate.perSecond)) - granted;
    const tat = base + granted * interval;
    return { granted, retryInMs: missing > 0 ? Math.max(1, Math.ceil((tat + missing * interval - burst - now) / 1000)) : 0 };
  }
}

/** The most takes within any span of `ms` (sorted times). */
function mostWithin(times: number[], ms: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('rate limiter shared by processes', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-11-30T10:00:00.300Z'));
  });
  afterEach(() => vi.useRealTimers());

  const rate: SendRate = { tenantId: 't', key: 'project', perSecond: 10 };

  it('two processes on one budget take at most the rate per second between them (plus one burst), evenly', async () => {
    const budget = new MemoryBudget();
    const processes = [new RateLimiter(undefined, budget), new RateLimiter(undefined, budget)];
    const takenAt: number[] = [];
    const takes = processes.flatMap((limiter) => Array.from({ length: 25 }, () => limiter.take(rate).then(() => takenAt.push(Date.now()))));
    let all = false;
    void Promise.all(takes).then(() => (all = true));
    for (let i = 0; i < 100 && !all; i++) await vi.advanceTimersByTimeAsync(50);
    expect(all).toBe(true);
    expect(takenAt).toHaveLength(50);
    takenAt.sort((a, b) => a - b);
    // Alone, each process's own bucket would have let 20 go in the first second (a burst of 10, then 10 more): 40 together.
    expect(mostWithin(takenAt, 1000)).toBeLessThanOrEqual(rate.perSecond + burstOf(rate.perSecond));
    expect(mostWithin(takenAt, 3000)).toBeLessThanOrEqual(3 * rate.perSecond + burstOf(rate.perSecond));
    // Evenly: never more than a burst at once.
    expect(mostWithin(takenAt, 1)).toBeLessThanOrEqual(burstOf(rate.perSecond));
  });

  it('asks the budget for a slice of what waits (at most a burst), not once per send', async () => {
    const budget = new MemoryBudget();
    const limiter = new RateLimiter(undefined, budget);
    const fast: SendRate = { tenantId: 't', key: 'fast', perSecond: 1000 };
    const takes = Array.from({ length: 300 }, () => limiter.take(fast));
    let all = false;
    void Promise.all(takes).then(() => (all = true));
    for (let i = 0; i < 100 && !all; i++) await vi.advanceTimersByTimeAsync(10);
    expect(all).toBe(true);
    expect(budget.granted).toBe(300);
    expect(budget.calls).toBeLessThanOrEqual(6);
    expect(burstOf(1000)).toBe(100);
    expect(burstOf(1)).toBe(1);
    expect(burstOf(15)).toBe(2);
  });

  it('waits as long as the budget says when nothing is left; a failing budget fails the take', async () => {
    const budget = new MemoryBudget();
    const slow: SendRate = { tenantId: 't', key: 'slow', perSecond: 2 };
    const other = new RateLimiter(undefined, budget);
    await other.take(slow); // another process took the one-send burst
    const limiter = new RateLimiter(undefined, budget);
    let done = false;
    void limiter.take(slow).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(450);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toBe(true);

    const broken = new RateLimiter(undefined, { reserve: () => Promise.reject(new Error('database down')) });
    await expect(broken.take(slow)).rejects.toThrow('database down');
  });
});
