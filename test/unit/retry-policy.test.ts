import { describe, expect, it } from 'vitest';
import { canRetry, classifyFailure, retryDelayMs, type RetryPolicy } from '../../src/delivery/retry-policy.js';

describe('SMTP failure policy', () => {
  it('bounces on a 5xx to RCPT TO, fails at once on other 5xx, retries the rest', () => {
    expect(classifyFailure({ responseCode: 550, command: 'RCPT TO' })).toBe('bounce');
    expect(classifyFailure({ responseCode: 554, command: 'DATA' })).toBe('permanent');
    expect(classifyFailure({ responseCode: 552, command: 'MAIL FROM' })).toBe('permanent');
    expect(classifyFailure({ responseCode: 451, command: 'RCPT TO' })).toBe('transient');
    expect(classifyFailure({ responseCode: 421, command: 'DATA' })).toBe('transient');
    expect(classifyFailure({ code: 'ETIMEDOUT' })).toBe('transient');
    expect(classifyFailure({ code: 'ECONNREFUSED', command: 'CONN' })).toBe('transient');
    expect(classifyFailure({ responseCode: 535, command: 'AUTH PLAIN' })).toBe('transient');
  });

  it('fails at once when the outbound policy refused the host (nothing was connected to)', () => {
    expect(classifyFailure({ code: 'HOST_NOT_ALLOWED', command: 'CONN' })).toBe('permanent');
  });

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
