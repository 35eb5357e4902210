import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/delivery/rate-limiter.js';

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
