import { describe, expect, it } from 'vitest';
import { canRetry, retryDelayMs, type RetryPolicy } from '../../src/delivery/retry-policy.js';

describe('retry policy', () => {
  const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 5000 };

  it('backs off exponentially with jitter, capped', () => {
    expect(retryDelayMs(policy, 1, () => 0)).toBe(500);
    expect(retryDelayMs(policy, 1, () => 1)).toBe(1000);
    expect(retryDelayMs(policy, 2, () => 0)).toBe(1000);
    expect(retryDelayMs(policy, 3, () => 1)).toBe(4000);
    expect(retryDelayMs(policy, 10, () => 1)).toBe(5000);
    expect(retryDelayMs(policy, 10, () => 0)).toBe(2500);
  });

  it('spends a fixed attempt budget', () => {
    expect(canRetry(policy, 3)).toBe(true);
    expect(canRetry(policy, 4)).toBe(false);
  });
});
