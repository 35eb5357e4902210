/**
 * When a failed delivery is tried again (pure). `schedule[i]` is the delay
 * after failed attempt i + 1; once the schedule is spent the delivery is
 * `failed`. Each delay moves by up to ±`jitter` (a fraction) so the retries
 * of a burst spread out instead of arriving together.
 */
export function nextAttemptDelayMs(
  schedule: readonly number[],
  attemptsMade: number,
  jitter: number,
  random: () => number = Math.random,
): number | undefined {
  const base = schedule[attemptsMade - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (1 + jitter * (2 * random() - 1)));
}

/** Attempts in all, the first included. */
export const maxAttempts = (schedule: readonly number[]): number => schedule.length + 1;

/** What one attempt did, as the delivery row records it. */
export interface AttemptOutcome {
  status: 'pending' | 'delivered' | 'failed';
  attempt: number;
  next_attempt_at: string | null;
  status_code: number | null;
  response_body: string | null;
  last_error: string | null;
  delivered_at: string | null;
  updated_at: string;
}

/**
 * The row after attempt number `attempt` (pure): delivered on a 2xx;
 * otherwise pending again after the schedule's delay, or failed once the
 * schedule is spent.
 */
export function outcomeOfAttempt(
  attempt: number,
  result: { ok: boolean; statusCode: number | null; responseBody: string | null; error: string | null },
  now: Date,
  policy: { retryScheduleMs: readonly number[]; jitter: number },
  random: () => number = Math.random,
): AttemptOutcome {
  const at = now.toISOString();
  const common = { attempt, status_code: result.statusCode, response_body: result.responseBody, updated_at: at };
  if (result.ok) return { ...common, status: 'delivered', next_attempt_at: null, last_error: null, delivered_at: at };
  const delay = nextAttemptDelayMs(policy.retryScheduleMs, attempt, policy.jitter, random);
  if (delay === undefined) {
    return { ...common, status: 'failed', next_attempt_at: null, last_error: `${result.error ?? 'failed'} (gave up after ${attempt} attempts)`, delivered_at: null };
  }
  return { ...common, status: 'pending', next_attempt_at: new Date(now.getTime() + delay).toISOString(), last_error: result.error, delivered_at: null };
}
