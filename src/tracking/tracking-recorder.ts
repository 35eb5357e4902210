import type { Kysely } from 'kysely';
import type { Transaction } from '../db/database.js';
import type { DB } from '../db/schema.js';
import type { EventLog } from '../events/event-log.js';
import type { CampaignStatsRepository } from '../stats/campaign-stats.repository.js';
import { LruMap } from '../shared/lru-map.js';
import type { MachineOpenRules } from './machine-open.js';
import { admissibleHits, candidateFirsts, firstKey, tally, type Hit, type TrackedMessageRow } from './tally.js';
import type { TrackingFirstRepository } from './tracking-first.repository.js';

/** The messages table as tracking reads it (MessageRepository). */
export interface TrackedMessages {
  in(trx: Kysely<DB>): TrackedMessages;
  trackedMessages(ids: readonly number[]): Promise<TrackedMessageRow[]>;
}

export interface TrackingRecorderDeps {
  transaction: Transaction;
  messages: TrackedMessages;
  firsts: TrackingFirstRepository;
  stats: CampaignStatsRepository;
  eventLog: EventLog;
  onError: (error: unknown) => void;
}

export interface TrackingRecorderOptions extends MachineOpenRules {
  flushMs: number;
  flushHits: number;
}

/** Hits held in memory at most (the database unreachable for long): beyond, new hits are not counted (the redirect still happens). */
const MAX_BUFFERED = 100_000;
/** Of which one tenant may hold at most this many: a flood on one tenant's links never crowds out another's hits. */
const MAX_BUFFERED_PER_TENANT = 25_000;
/** Firsts known to be in the database, remembered so repeats do not insert them again. */
const KNOWN_FIRSTS = 100_000;

/**
 * Counting off the request path: the tracking routes hand each hit here and
 * answer at once; hits wait in memory and are written in batches — after
 * `flushMs`, at once when `flushHits` are waiting, and on close — each batch
 * in one transaction: the messages read (one query), the firsts inserted
 * (one statement tells firsts from repeats), then the events and counters
 * through the event log, and the link counters. Flushes run one at a time.
 * A batch whose transaction fails is tried once more with the next one, then
 * dropped (and reported); a crash loses what was waiting, at most one
 * buffer (docs/TRACKING.md).
 */
export class TrackingRecorder {
  private buffer: (Hit & { tries?: number })[] = [];
  /** Hits waiting per tenant (for MAX_BUFFERED_PER_TENANT). */
  private readonly perTenant = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private closed = false;
  /** Hits not counted because the buffer was full (reported with the next error). */
  dropped = 0;
  /**
   * Keys of firsts committed (by this process or, seen as a conflict, by
   * another): a first never stops being one, so a repeat on a known key is
   * not offered to the database again — repeats cost no insert.
   */
  private readonly known = new LruMap<string, true>(KNOWN_FIRSTS);

  constructor(
    private readonly deps: TrackingRecorderDeps,
    private readonly options: TrackingRecorderOptions,
  ) {}

  record(hit: Hit): void {
    const waiting = this.perTenant.get(hit.tenantId) ?? 0;
    if (this.buffer.length >= MAX_BUFFERED || waiting >= MAX_BUFFERED_PER_TENANT) {
      this.dropped += 1;
      return;
    }
    this.perTenant.set(hit.tenantId, waiting + 1);
    this.buffer.push(hit);
    if (this.buffer.length === this.options.flushHits) void this.flush();
    else if (!this.timer && !this.closed) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushMs);
      this.timer.unref();
    }
  }

  /** Writes everything waiting now (tests call it instead of waiting for the timer); resolves when written. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.running.then(() => this.drain());
    this.running = next;
    return next;
  }

  /** Stops the timer and writes what is waiting (container.close()). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** Hits waiting to be written. */
  get pending(): number {
    return this.buffer.length;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.options.flushHits);
      for (const hit of batch) {
        const left = (this.perTenant.get(hit.tenantId) ?? 1) - 1;
        if (left > 0) this.perTenant.set(hit.tenantId, left);
        else this.perTenant.delete(hit.tenantId);
      }
      try {
        await this.write(batch);
      } catch (error) {
        const again = batch.filter((hit) => (hit.tries ?? 0) < 1).map((hit) => ({ ...hit, tries: (hit.tries ?? 0) + 1 }));
        this.deps.onError(Object.assign(error as Error, { trackingHitsDropped: batch.length - again.length + this.dropped }));
        this.dropped = 0;
        if (again.length > 0 && !this.closed) {
          this.buffer.unshift(...again);
          for (const hit of again) this.perTenant.set(hit.tenantId, (this.perTenant.get(hit.tenantId) ?? 0) + 1);
          if (!this.timer) {
            this.timer = setTimeout(() => void this.flush(), this.options.flushMs);
            this.timer.unref();
          }
        }
        return;
      }
    }
  }

  private async write(hits: readonly Hit[]): Promise<void> {
    const rules: MachineOpenRules = { windowSeconds: this.options.windowSeconds };
    const offered = await this.deps.transaction(async (trx) => {
      const rows = await this.deps.messages.in(trx).trackedMessages([...new Set(hits.map((hit) => hit.messageId))]);
      const admitted = admissibleHits(hits, new Map(rows.map((row) => [row.id, row])), rules);
      if (admitted.length === 0) return [];
      const candidates = candidateFirsts(admitted).filter((row) => this.known.get(firstKey(row)) === undefined);
      const inserted = await this.deps.firsts.in(trx).insertNew(candidates);
      const { events, stats, links } = tally(admitted, inserted);
      await this.deps.eventLog.in(trx).record(events, stats);
      await this.deps.stats.in(trx).addLinks(links);
      return candidates;
    });
    // Committed: every key offered is in the database now (inserted here, or there already).
    for (const row of offered) this.known.set(firstKey(row), true);
  }
}
