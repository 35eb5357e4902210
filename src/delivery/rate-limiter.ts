/**
 * A project's `rateLimitPerSecond`, the one module that enforces it.
 *
 * **Across processes** (`SharedSendBudget`, a row per project in the
 * database): a generic cell rate algorithm (GCRA, a token bucket kept as one
 * timestamp). The row holds when the next send is due at the limit's pace;
 * a grant of k sends moves it k × (1 s / limit) later, and is allowed only
 * while it stays at most one burst ahead of the database's clock. The burst
 * is a tenth of a second's worth (at least one send). Every worker process
 * reserves a slice of at most one burst, and at most the sends waiting for
 * it, with one atomic upsert, and hands the slice to its waiting sends at
 * once. So in any span of t seconds every worker together is granted at most
 * t × limit + one burst (+1 for rounding), spread evenly rather than in a
 * lump at each second; a process that finds nothing left waits for the next
 * send to fall due. The clock is the database's, one for every process.
 *
 * **Without a shared budget** (unit tests, a worker built by hand) a token
 * bucket per key in this process: takes spaced at the rate, with a burst of
 * one second's worth.
 */

/** A project's rate: whose, which key (the project id), how many sends per second. */
export interface SendRate {
  tenantId: string;
  key: string;
  perSecond: number;
}

/** Where the grants of every worker process are counted (delivery/send-rate.repository.ts). */
export interface SharedSendBudget {
  /**
   * Up to `want` sends of `rate.key` now, never more than `rate.perSecond`
   * per second plus one burst (`burstOf`) by every caller together. Answers
   * how many were granted and, when fewer than asked (capped at a burst),
   * how long until the rest falls due (ms; 0 when all were granted): a
   * caller comes back for a whole slice, not once per send.
   */
  reserve(rate: SendRate, want: number): Promise<{ granted: number; retryInMs: number }>;
}

/** The most one grant (or a caller coming back after a pause) may take at once: a tenth of a second's worth, at least one. */
export const burstOf = (perSecond: number): number => Math.max(1, Math.ceil(perSecond / 10));

/** What a process holds of a project's shared budget. */
interface Slice {
  tokens: number;
  /** Nothing is left before this time (epoch ms): the budget said so. */
  notBefore: number;
  /** The reservation in flight, shared by every take waiting for it. */
  reserving: Promise<void> | undefined;
  /** Takes waiting for a token of this key (sizes the next slice). */
  waiting: number;
}

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
   * Waits until one send of `rate` may go. Throws when the shared budget
   * cannot be asked (the database): the caller retries the message later.
   */
  async take(rate: SendRate): Promise<void> {
    if (this.shared) return this.takeShared(rate, this.shared);
    const wait = this.reserve(rate.key, rate.perSecond);
    if (wait > 0) await sleep(wait);
  }

  private async takeShared(rate: SendRate, shared: SharedSendBudget): Promise<void> {
    let slice = this.slices.get(rate.key);
    if (!slice) {
      slice = { tokens: 0, notBefore: 0, reserving: undefined, waiting: 0 };
      this.slices.set(rate.key, slice);
    }
    slice.waiting += 1;
    try {
      for (;;) {
        if (slice.tokens > 0) {
          slice.tokens -= 1;
          return;
        }
        if (slice.reserving) {
          await slice.reserving;
          continue;
        }
        const wait = slice.notBefore - this.now();
        if (wait > 0) {
          await sleep(wait);
          continue;
        }
        const current = slice;
        current.reserving = shared
          .reserve(rate, Math.min(current.waiting, burstOf(rate.perSecond)))
          .then(({ granted, retryInMs }) => {
            current.tokens += granted;
            if (retryInMs > 0) current.notBefore = this.now() + retryInMs;
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
