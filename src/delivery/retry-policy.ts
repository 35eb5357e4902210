/** When to try a failed send again (pure); what a failure means is bounce-classification.ts. */
/** The retry budget (its defaults: DEFAULTS.sending.retry in config.ts). */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failed ones: base·2^(attempt-1),
 * capped, with "equal jitter" (half fixed, half random) so retries of one
 * outage spread out instead of arriving together.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

export const canRetry = (policy: RetryPolicy, attemptsMade: number): boolean => attemptsMade < policy.maxAttempts;
