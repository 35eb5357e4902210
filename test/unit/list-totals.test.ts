import { describe, expect, it } from 'vitest';
import { ListTotals } from '../../src/shared/list-totals.js';

describe('ListTotals (the total of list pages)', () => {
  const setup = (ttlMs: number) => {
    let now = 0;
    let counted = 0;
    let rows = 100;
    const totals = new ListTotals(ttlMs, () => now);
    const count = async () => {
      counted++;
      return rows;
    };
    return {
      totals,
      count,
      counted: () => counted,
      advance: (ms: number) => (now += ms),
      setRows: (n: number) => (rows = n),
    };
  };
  const full = { offset: 0, limit: 20, rows: 20 };

  it('takes the total from a page that is not full, without counting', async () => {
    const t = setup(1000);
    expect(await t.totals.total('t1', '', { offset: 40, limit: 20, rows: 7 }, t.count)).toBe(47);
    expect(await t.totals.total('t1', '', { offset: 0, limit: 20, rows: 0 }, t.count)).toBe(0);
    expect(t.counted()).toBe(0);
    // An empty page past the end says nothing: counted.
    expect(await t.totals.total('t1', '', { offset: 200, limit: 20, rows: 0 }, t.count)).toBe(100);
    expect(t.counted()).toBe(1);
  });

  it('keeps a count for its time to live, per tenant and filter, then counts again', async () => {
    const t = setup(1000);
    expect(await t.totals.total('t1', '', full, t.count)).toBe(100);
    t.setRows(120);
    t.advance(999);
    expect(await t.totals.total('t1', '', full, t.count)).toBe(100);
    expect(await t.totals.total('t1', '{"optIn":true}', full, t.count)).toBe(120);
    expect(await t.totals.total('t2', '', full, t.count)).toBe(120);
    expect(t.counted()).toBe(3);
    t.advance(2);
    expect(await t.totals.total('t1', '', full, t.count)).toBe(120);
    expect(t.counted()).toBe(4);
  });

  it('keeps a slow count longer: 100 times as long as it took, at least the time to live', async () => {
    const t = setup(1000);
    const slowCount = async () => {
      t.advance(50); // a count that takes 50 ms: kept 5 s
      return t.count();
    };
    expect(await t.totals.total('t1', '', full, slowCount)).toBe(100);
    t.setRows(101);
    t.advance(4900);
    expect(await t.totals.total('t1', '', full, slowCount)).toBe(100);
    t.advance(100);
    expect(await t.totals.total('t1', '', full, slowCount)).toBe(101);
    expect(t.counted()).toBe(2);
  });

  it('counts again when a page shows more rows than the kept total', async () => {
    const t = setup(1000);
    expect(await t.totals.total('t1', '', full, t.count)).toBe(100);
    t.setRows(150);
    expect(await t.totals.total('t1', '', { offset: 100, limit: 20, rows: 20 }, t.count)).toBe(150);
    expect(t.counted()).toBe(2);
  });

  it('forgets a tenant\'s totals on a write, and never keeps a count begun before it', async () => {
    const t = setup(1000);
    expect(await t.totals.total('t1', '', full, t.count)).toBe(100);
    t.setRows(101);
    t.totals.forget('t1');
    expect(await t.totals.total('t1', '', full, t.count)).toBe(101);
    let release!: (n: number) => void;
    const slow = () => new Promise<number>((resolve) => (release = resolve));
    t.totals.forget('t1');
    const pending = t.totals.total('t1', '', full, slow);
    t.totals.forget('t1'); // a write while the count runs
    release(101);
    expect(await pending).toBe(101);
    t.setRows(102);
    expect(await t.totals.total('t1', '', full, t.count)).toBe(102);
  });

  it('shares one count among the requests that need it at once', async () => {
    const t = setup(1000);
    let calls = 0;
    let release!: (n: number) => void;
    const slow = () => {
      calls++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const answers = [t.totals.total('t1', '', full, slow), t.totals.total('t1', '', full, slow), t.totals.total('t1', '', full, slow)];
    release(77);
    expect(await Promise.all(answers)).toEqual([77, 77, 77]);
    expect(calls).toBe(1);
  });

  it('counts every full page with a time to live of 0', async () => {
    const t = setup(0);
    await t.totals.total('t1', '', full, t.count);
    await t.totals.total('t1', '', full, t.count);
    expect(t.counted()).toBe(2);
  });
});
