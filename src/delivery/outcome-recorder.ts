/**
 * Gathers a loop's delivery outcomes as the sends finish and writes them in
 * small groups: when `maxPending` are waiting, or `maxDelayMs` after the
 * first of them — whichever comes first — one write at a time.
 *
 * Why: an email that went out but whose outcome is not yet written is sent
 * again if the worker dies (its lease runs out and another worker claims
 * it). Writing each outcome soon after its send, rather than when the whole
 * claimed batch is done, bounds those duplicates by the sends in flight plus
 * one small group, instead of by the batch (docs/RELIABILITY.md). Grouping
 * keeps the writes few: at full speed a group fills in milliseconds.
 */
export class OutcomeRecorder<T> {
  private pending: { outcome: T; done: () => void; failed: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    /** Writes one group; throws only when the group can never be written (the caller's retries are spent). */
    private readonly write: (outcomes: T[]) => Promise<void>,
    private readonly options: { maxPending: number; maxDelayMs: number },
  ) {}

  /** Resolves once this outcome is written. */
  add(outcome: T): Promise<void> {
    return new Promise<void>((done, failed) => {
      this.pending.push({ outcome, done, failed });
      if (this.pending.length >= this.options.maxPending) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.maxDelayMs);
    });
  }

  /** Writes what is waiting now (after any write in progress). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.pending;
    this.pending = [];
    if (group.length === 0) return this.writing;
    this.writing = this.writing.then(async () => {
      try {
        await this.write(group.map((p) => p.outcome));
        for (const p of group) p.done();
      } catch (error) {
        for (const p of group) p.failed(error);
      }
    });
    return this.writing;
  }
}
