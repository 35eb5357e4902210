/**
 * What to do with a failed SMTP send (pure).
 * - 5xx to RCPT TO: the address is bad → FAILED at once and suppressed (`bounce`).
 * - other 5xx answers to MAIL FROM / DATA (content or policy rejection) → FAILED at once.
 * - a host the outbound-connection policy refuses (`HOST_NOT_ALLOWED`) → FAILED at
 *   once: no connection was made, and retrying cannot change the answer.
 * - 4xx answers, timeouts, connection and auth problems → retried with
 *   exponential backoff and jitter until the attempt budget is spent, then FAILED.
 */
export type FailureKind = 'bounce' | 'permanent' | 'transient';

export interface SmtpFailure {
  responseCode?: number;
  command?: string;
  code?: string;
}

const RECIPIENT_COMMANDS = new Set(['RCPT TO', 'RCPT']);
const MESSAGE_COMMANDS = new Set(['MAIL FROM', 'DATA', 'MAIL']);

export function classifyFailure(error: SmtpFailure): FailureKind {
  if (error.code === 'HOST_NOT_ALLOWED') return 'permanent';
  const code = error.responseCode;
  if (code !== undefined && code >= 500 && code < 600) {
    const command = (error.command ?? '').toUpperCase();
    if (RECIPIENT_COMMANDS.has(command)) return 'bounce';
    if (MESSAGE_COMMANDS.has(command)) return 'permanent';
  }
  return 'transient';
}

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
