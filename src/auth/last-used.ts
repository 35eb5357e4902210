import type { ApiKeyRepository } from './api-key.repository.js';

/**
 * Remembers each key's latest use in memory and writes them in one flush every
 * few seconds, so authentication never waits on a write.
 */
export class LastUsedRecorder {
  private pending = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly intervalMs = 5_000,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  record(keyId: string, at: string): void {
    this.pending.set(keyId, at);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.flushing.then(async () => {
      if (batch.size === 0) return;
      try {
        await this.keys.recordLastUsed(batch);
      } catch (error) {
        this.onError(error);
      }
    });
    await this.flushing;
  }
}
