import { describe, expect, it } from 'vitest';
import { ceilingOf, isWarning, monthOf, percentageOf, remainingUnderCeiling, wouldExceed } from '../../src/quota/quota.js';

describe('quota arithmetic', () => {
  it('names the UTC month', () => {
    expect(monthOf(new Date('2026-11-30T23:59:59Z'))).toBe('2026-11');
    expect(monthOf(new Date('2026-12-01T00:00:00Z'))).toBe('2026-12');
  });

  it('allows up to 110 % of the limit, rounded down', () => {
    expect(ceilingOf(1000)).toBe(1100);
    expect(ceilingOf(15)).toBe(16);
    expect(ceilingOf(0)).toBe(0);
    expect(remainingUnderCeiling(1000, 1050)).toBe(50);
    expect(remainingUnderCeiling(1000, 1200)).toBe(0);
    expect(wouldExceed(1000, 1000, 100)).toBe(false);
    expect(wouldExceed(1000, 1000, 101)).toBe(true);
  });

  it('reports percentages and the 80 % warning', () => {
    expect(percentageOf(1000, 799)).toBe(79.9);
    expect(isWarning({ percentage: percentageOf(1000, 799) })).toBe(false);
    expect(isWarning({ percentage: percentageOf(1000, 800) })).toBe(true);
    expect(percentageOf(3, 1)).toBe(33.33);
    expect(percentageOf(0, 0)).toBe(100); // a zero limit allows nothing: at the limit from the start
    expect(isWarning({ percentage: percentageOf(0, 0) })).toBe(true);
    expect(percentageOf(0, 1)).toBeGreaterThan(110);
  });
});
