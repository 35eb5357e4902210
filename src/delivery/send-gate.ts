import type { DeliveryStore, SendTimeState } from './delivery-store.js';

export interface SendGateOptions {
  /** How long an answer is trusted, measured from when its query started. */
  maxAgeMs: number;
  /** How long a check waits for others to join its query. */
  windowMs: number;
  /** The most ids one query asks about (bound parameters stay well under every engine's limit). */
  chunkSize?: number;
}

/** Defaults: a decision is at most a second old; checks within 5 ms share a query. */
export const SEND_GATE_DEFAULTS: SendGateOptions = { maxAgeMs: 1000, windowMs: 5, chunkSize: 500 };

interface Query {
  startedAt: number;
  ids: Set<number>;
  done: Promise<void>;
}

/**
 * The send-time re-check, batched: right before a message is handed to a
 * mailer (after any rate-limiter wait) the worker asks the gate whether it
 * may still go. The gate answers from a query over every message the worker
 * holds and has not sent yet (`hold`), trusted for at most `maxAgeMs`; checks
 * made while a query is being prepared or is running (and fresh) share it. So
 * at full speed a claimed half batch costs about one extra query, and under a
 * slow project rate every decision is still at most a second old.
 */
export class SendGate {
  private readonly held = new Set<number>();
  private readonly answers = new Map<number, { state: SendTimeState | null; at: number }>();
  private next: Query | undefined;
  private running: Query | undefined;

  constructor(
    private readonly store: Pick<DeliveryStore, 'currentState'>,
    private readonly options: SendGateOptions = SEND_GATE_DEFAULTS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Messages claimed and about to be sent: a query asks about all of them at
   * once, starting now, so its answer is usually in by the time they are
   * rendered and checked.
   */
  hold(ids: readonly number[]): void {
    if (ids.length === 0) return;
    for (const id of ids) this.held.add(id);
    // A failed prefetch costs nothing: the check asks again.
    this.schedule(ids[0]!).done.catch(() => undefined);
  }

  /** The message went out or was decided otherwise: no longer asked about. */
  release(id: number): void {
    this.held.delete(id);
    this.answers.delete(id);
  }

  /** The message's state now (at most `maxAgeMs` old); null when the message no longer exists. */
  async check(id: number): Promise<SendTimeState | null> {
    for (;;) {
      const answer = this.answers.get(id);
      if (answer && this.now() - answer.at <= this.options.maxAgeMs) return answer.state;
      const running = this.running;
      if (running && running.ids.has(id) && this.now() - running.startedAt <= this.options.maxAgeMs) {
        await running.done;
        const fresh = this.answers.get(id);
        if (fresh && fresh.at === running.startedAt) return fresh.state;
        continue; // released meanwhile, or answered by an older query: ask again
      }
      await this.schedule(id).done;
      const fresh = this.answers.get(id);
      if (fresh) return fresh.state;
    }
  }

  private schedule(id: number): Query {
    if (this.next) {
      this.next.ids.add(id);
      return this.next;
    }
    const query: Query = { startedAt: 0, ids: new Set([id]), done: Promise.resolve() };
    query.done = new Promise<void>((resolve) => setTimeout(resolve, this.options.windowMs)).then(() => this.run(query));
    this.next = query;
    return query;
  }

  private async run(query: Query): Promise<void> {
    if (this.next === query) this.next = undefined;
    for (const id of this.held) query.ids.add(id);
    query.startedAt = this.now();
    this.running = query;
    try {
      const ids = [...query.ids];
      const size = this.options.chunkSize ?? 500;
      const found = new Map<number, SendTimeState>();
      for (let i = 0; i < ids.length; i += size) {
        for (const state of await this.store.currentState(ids.slice(i, i + size))) found.set(state.id, state);
      }
      for (const id of ids) {
        if (this.held.has(id) || query.ids.has(id)) this.answers.set(id, { state: found.get(id) ?? null, at: query.startedAt });
      }
      // Answers of messages no longer held are dropped; the map stays as small as what is in flight.
      for (const id of this.answers.keys()) if (!this.held.has(id) && !query.ids.has(id)) this.answers.delete(id);
    } finally {
      if (this.running === query) this.running = undefined;
    }
  }
}
