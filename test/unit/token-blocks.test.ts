import { describe, expect, it } from 'vitest';
import { blockSize, TokenBlocks, type SharedCounter } from '../../src/ratelimit/token-blocks.js';

/** A shared counter in memory, as PostgreSQL or Redis would keep it, recording each write. */
class CounterInMemory implements SharedCounter {
  totals = new Map<string, number>();
  adds: number[] = [];
  inFlight = 0;
  maxInFlight = 0;
  fail = false;

  async add(key: string, windowStart: number, _windowMs: number, n: number): Promise<number> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    this.inFlight--;
    if (this.fail) throw new Error('counter unreachable');
    this.adds.push(n);
    const id = `${key}:${windowStart}`;
    const total = (this.totals.get(id) ?? 0) + n;
    this.totals.set(id, total);
    return total;
  }

  async close() {}
}

describe('rate-limit token blocks', () => {
  it('reserve an eighth of what is left, between 1 and 100', () => {
    expect(blockSize(5, 0)).toBe(1);
    expect(blockSize(300, 0)).toBe(37);
    expect(blockSize(300, 290)).toBe(1);
    expect(blockSize(300, 400)).toBe(1);
    expect(blockSize(1_000_000, 0)).toBe(100);
  });

  it('count one by one near a small limit, and stop writing once it is spent', async () => {
    const counter = new CounterInMemory();
    const store = new TokenBlocks(counter);
    const numbers = [];
    for (let i = 0; i < 8; i++) numbers.push(await store.hit('k', 0, 60_000, 5));
    expect(numbers).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(counter.adds).toEqual([1, 1, 1, 1, 1]);
  });

  it('serve many requests per shared write far from the limit, numbering them exactly in one process', async () => {
    const counter = new CounterInMemory();
    const store = new TokenBlocks(counter);
    const numbers = [];
    for (let i = 0; i < 250; i++) numbers.push(await store.hit('k', 0, 60_000, 1_000_000));
    expect(numbers).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(counter.adds).toEqual([100, 100, 100]);
  });

  it('let concurrent requests wait for one reservation, never handing out a number twice', async () => {
    const counter = new CounterInMemory();
    const store = new TokenBlocks(counter);
    const numbers = await Promise.all(Array.from({ length: 500 }, () => store.hit('k', 0, 60_000, 1_000_000)));
    expect(new Set(numbers).size).toBe(500);
    expect(Math.max(...numbers)).toBeLessThanOrEqual(counter.totals.get('k:0')!);
    expect(counter.maxInFlight).toBe(1);
  });

  it('never admit more than the limit across processes, and refuse little early', async () => {
    const counter = new CounterInMemory();
    const processes = [new TokenBlocks(counter), new TokenBlocks(counter), new TokenBlocks(counter)];
    const max = 300;
    let admitted = 0;
    for (let i = 0; i < 600; i++) {
      if ((await processes[i % 3]!.hit('k', 0, 60_000, max)) <= max) admitted++;
    }
    expect(admitted).toBeLessThanOrEqual(max);
    // Unused numbers held by the other processes are the only loss: at most an eighth of what was left, per process.
    expect(admitted).toBeGreaterThanOrEqual(max - 2 * Math.ceil(max / 8));
  });

  it('start again in a new window, and keep keys apart', async () => {
    const store = new TokenBlocks(new CounterInMemory());
    expect(await store.hit('a', 0, 60_000, 5)).toBe(1);
    expect(await store.hit('a', 0, 60_000, 5)).toBe(2);
    expect(await store.hit('b', 0, 60_000, 5)).toBe(1);
    expect(await store.hit('a', 60_000, 60_000, 5)).toBe(1);
  });

  it('fail every waiting request when the counter fails, and try again on the next', async () => {
    const counter = new CounterInMemory();
    const store = new TokenBlocks(counter);
    counter.fail = true;
    const results = await Promise.allSettled([store.hit('k', 0, 60_000, 5), store.hit('k', 0, 60_000, 5)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    counter.fail = false;
    expect(await store.hit('k', 0, 60_000, 5)).toBe(1);
  });
});
