/**
 * A project's `rateLimitPerSecond`, the one module that enforces it.
 *
 * Two layers:
 * - **Across processes** (`SharedSendBudget`, a row per project in the
 *   database): time is cut into one-second windows (epoch seconds) and every
 *   worker process together is granted at most `perSecond` sends per window.
 *   A process reserves a small slice of the window at a time (at most a
 *   tenth of the rate, at most the sends waiting for it) with one atomic
 *   upsert, and spends it locally; what it has not spent when the window
 *   ends is forfeited, never carried over. So the sends taken in any one
 *   window are at most `perSecond`, whatever the number of workers, and any
 *   one-second span (which overlaps two windows) holds at most twice that:
 *   the documented burst is one second's worth. A process that finds the
 *   window spent waits for the next.
 * - **Within a process** (`reserve`, a token bucket per key): takes are spaced
 *   at the rate, with a burst of one second's worth, so one process's slice
 *   is not sent in a single burst at the start of the window.
 *
 * Without a shared budget (unit tests) only the local bucket applies.
 */

/** A project's rate: whose, which key (the project id), how many sends per second. */
export interface SendRate {
  tenantId: string;
  key: string;
  perSecond: number;
}

/** Where the per-window grants of every worker process are counted (delivery/send-rate.repository.ts). */
export interface SharedSendBudget {
  /**
   * Up to `want` sends of `rate.key` in the window `windowStart` (epoch
   * seconds), never more than `rate.perSecond` granted in one window by
   * every caller together. Answers the window the grant counts in (a later
   * one when another process's clock is ahead) and how many were granted
   * (0: that window is spent).
   */
  reserve(rate: SendRate, windowStart: number, want: number): Promise<{ windowStart: number; granted: number }>;
}

/** What a process holds of a project's current window. */
interface Slice {
  /** The window the tokens belong to (epoch seconds). */
  windowStart: number;
  tokens: number;
  /** A window found spent: nothing more to reserve before it ends. */
  spentWindow: number;
  /** The reservation in flight, shared by every take waiting for it. */
  reserving: Promise<void> | undefined;
  /** Takes waiting for a token of this key (sizes the next slice). */
  waiting: number;
}

/** A slice is at most a tenth of a second's worth: ten reservations a second per busy process at most. */
export const sliceOf = (perSecond: number, waiting: number): number => Math.max(1, Math.min(Math.ceil(perSecond / 10), waiting));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updated: number; rate: number }>();
  private readonly slices = new Map<string, Slice>();

  constructor(
    private readonly now: () => number = () => Date.now(),
    private readonly shared?: SharedSendBudget,
  ) {}

  /** The local bucket: milliseconds to wait before the take is allowed (0: go now); the token is reserved either way. */
  reserve(key: string, ratePerSecond: number): number {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.rate !== ratePerSecond) {
      bucket = { tokens: ratePerSecond, updated: now, rate: ratePerSecond };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(ratePerSecond, bucket.tokens + ((now - bucket.updated) / 1000) * ratePerSecond);
    bucket.updated = now;
    bucket.tokens -= 1;
    return bucket.tokens >= 0 ? 0 : Math.ceil((-bucket.tokens / ratePerSecond) * 1000);
  }

  /**
   * Waits until one send of `rate` may go: paced by the local bucket, then
   * granted by the shared budget. Throws when the budget cannot be asked
   * (the database): the caller retries the message later.
   */
  async take(rate: SendRate): Promise<void> {
    const wait = this.reserve(rate.key, rate.perSecond);
    if (wait > 0) await sleep(wait);
    if (this.shared) await this.takeShared(rate, this.shared);
  }

  private async takeShared(rate: SendRate, shared: SharedSendBudget): Promise<void> {
    let slice = this.slices.get(rate.key);
    if (!slice) {
      slice = { windowStart: -1, tokens: 0, spentWindow: -1, reserving: undefined, waiting: 0 };
      this.slices.set(rate.key, slice);
    }
    slice.waiting += 1;
    try {
      for (;;) {
        const window = Math.floor(this.now() / 1000);
        // A slice is spent only within its window (or an earlier one of ours, when another clock is ahead).
        if (slice.windowStart >= window && slice.tokens > 0) {
          slice.tokens -= 1;
          return;
        }
        if (slice.reserving) {
          await slice.reserving;
          continue;
        }
        if (slice.spentWindow >= window) {
          await sleep((slice.spentWindow + 1) * 1000 - this.now());
          continue;
        }
        const current = slice;
        current.reserving = shared
          .reserve(rate, window, sliceOf(rate.perSecond, current.waiting))
          .then(({ windowStart, granted }) => {
            current.windowStart = windowStart;
            current.tokens = granted;
            if (granted === 0) current.spentWindow = windowStart;
          })
          .finally(() => {
            current.reserving = undefined;
          });
        await current.reserving;
      }
    } finally {
      slice.waiting -= 1;
    }
  }
}
