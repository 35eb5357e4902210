/**
 * How delivery behaves, in one object: the worker's batches and leases, the
 * retry budget, the fan-out lease. WORKER_* and FANOUT_LEASE_MS set parts of
 * it; every default is in DEFAULTS.sending (config.ts).
 */
export interface SendingPolicy {
  /** Independent claim → send → record loops per process (WORKER_CONCURRENCY). */
  loops: number;
  /**
   * The most messages one loop holds claimed and not yet recorded, so also
   * the most a killed loop can have sent without recording them; claimed in
   * halves (WORKER_BATCH_SIZE).
   */
  batchSize: number;
  /** Sends in flight at once in one loop. */
  sendConcurrency: number;
  /** How long a claim holds a message; renewed every third of it while the worker lives (WORKER_LEASE_MS). */
  leaseMs: number;
  /** Sleep when the queue is empty. */
  idlePollMs: number;
  /** A send that has not settled by then is abandoned and retried: a lost callback must not hold a batch forever. */
  sendTimeoutMs: number;
  /** How long one process may hold a campaign's fan-out before another may take it over (FANOUT_LEASE_MS). */
  fanoutLeaseMs: number;
  retry: {
    /** Attempts in all, the first included. */
    maxAttempts: number;
    baseDelayMs: number;
    maxDelayMs: number;
  };
}
