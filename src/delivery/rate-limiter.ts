/**
 * A token bucket per key (an SMTP project): at most `ratePerSecond` takes per
 * second across every worker loop of this process, with a burst of one
 * second's worth. `take` waits until a token is free.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updated: number; rate: number }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** Milliseconds to wait before the take is allowed (0: go now); the token is reserved either way. */
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

  async take(key: string, ratePerSecond: number): Promise<void> {
    const wait = this.reserve(key, ratePerSecond);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
