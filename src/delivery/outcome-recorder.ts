/**
 * Gathers a loop's delivery outcomes as the sends finish and writes them in
 * groups, one write at a time: a write starts when `maxPending` outcomes are
 * waiting or `maxDelayMs` after the first of them, and whatever arrives
 * while a write runs goes, all together, into the next one (group commit:
 * the slower the database, the larger the writes, never a queue of small ones).
 *
 * Why: an email that went out but whose outcome is not yet written is sent
 * again if the worker dies (its lease runs out and another worker claims
 * it). Writing each outcome soon after its send, rather than when the whole
 * claimed batch is done, bounds those duplicates by the sends in flight plus
 * what one write takes to commit, instead of by the batch (docs/RELIABILITY.md).
 */
export class OutcomeRecorder<T> {
  private pending: { outcome: T; done: () => void; failed: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The write loop while it runs. */
  private draining: Promise<void> | undefined;

  constructor(
    /** Writes one group; throws only when the group can never be written (the caller's retries are spent). */
    private readonly write: (outcomes: T[]) => Promise<void>,
    private readonly options: { maxPending: number; maxDelayMs: number },
  ) {}

  /** Resolves once this outcome is written. */
  add(outcome: T): Promise<void> {
    return new Promise<void>((done, failed) => {
      this.pending.push({ outcome, done, failed });
      if (this.draining) return; // the running write loop takes it next
      if (this.pending.length >= this.options.maxPending) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.options.maxDelayMs);
    });
  }

  /** Writes what is waiting now; resolves when the write loop has nothing left. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // drain() awaits a write before it can end, so it is still running when assigned here.
    if (!this.draining && this.pending.length > 0) this.draining = this.drain();
    return this.draining ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const group = this.pending;
        this.pending = [];
        try {
          await this.write(group.map((p) => p.outcome));
          for (const p of group) p.done();
        } catch (error) {
          for (const p of group) p.failed(error);
        }
      }
    } finally {
      // In the same synchronous step as the loop's last check: an outcome added from now on starts a new drain.
      this.draining = undefined;
    }
  }
}
