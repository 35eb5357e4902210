import { AppError, notFound } from '../shared/errors.js';
import { isId } from '../shared/ids.js';
import type { CampaignRepository, CampaignRow } from './campaign.repository.js';
import { countersOf } from './campaign.service.js';
import type { Campaign } from './campaign.schemas.js';

/** One message of the progress stream: `progress` while the campaign may still change, `done` once, last. */
export interface ProgressEvent {
  event: 'progress' | 'done';
  data: { id: string; status: string; counters: Campaign['counters']; at: string };
}

/** Statuses after which nothing changes any more: the stream's final event. */
const FINISHED = new Set(['SENT', 'CANCELLED']);

export interface CampaignProgressOptions {
  /** How often counters are read and sent (1 s). */
  intervalMs: number;
  /** Open streams per tenant in this process; one more is answered 429 (each stream reads the campaign every interval). */
  maxStreamsPerTenant: number;
}

/**
 * `GET /campaigns/{id}/progress`: the campaign's counters as Server-Sent
 * Events, read from the campaign row (counters are kept on it, so each tick
 * is one primary-key read however large the campaign). A finished campaign
 * gets its final event at once.
 */
export class CampaignProgress {
  private readonly open = new Map<string, number>();
  private readonly streams = new Set<ProgressStream>();

  constructor(
    private readonly deps: { campaigns: CampaignRepository; clock: () => Date },
    private readonly options: CampaignProgressOptions,
  ) {}

  /**
   * Checks the campaign exists (404 before any stream starts) and takes a
   * stream slot; returns the event source, whose `close` frees the slot.
   */
  async openStream(tenantId: string, id: string): Promise<ProgressStream> {
    const row = isId(id) ? await this.deps.campaigns.getById(tenantId, id) : undefined;
    if (!row) throw notFound('Campaign');
    const count = this.open.get(tenantId) ?? 0;
    if (count >= this.options.maxStreamsPerTenant) {
      throw new AppError(429, 'TOO_MANY_STREAMS', `At most ${this.options.maxStreamsPerTenant} progress streams may be open at once per tenant; close one first`);
    }
    this.open.set(tenantId, count + 1);
    let closed = false;
    const release = () => {
      if (closed) return;
      closed = true;
      const left = (this.open.get(tenantId) ?? 1) - 1;
      if (left > 0) this.open.set(tenantId, left);
      else this.open.delete(tenantId);
    };
    const stream: ProgressStream = new ProgressStream(row, () => this.deps.campaigns.getById(tenantId, id), this.deps.clock, this.options.intervalMs, () => {
      release();
      this.streams.delete(stream);
    });
    this.streams.add(stream);
    return stream;
  }

  /** Shutdown: every open stream ends (a server closing waits for its connections). */
  closeAll(): void {
    for (const stream of [...this.streams]) stream.close();
  }
}

export class ProgressStream {
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private first: CampaignRow | undefined,
    private readonly read: () => Promise<CampaignRow | undefined>,
    private readonly clock: () => Date,
    private readonly intervalMs: number,
    private readonly release: () => void,
  ) {}

  /** Yields an event now and then every interval until the campaign finishes (or is deleted) or `close` is called. */
  async *events(): AsyncGenerator<ProgressEvent> {
    try {
      while (!this.stopped) {
        const row = this.first ?? (await this.read());
        this.first = undefined;
        if (!row) return; // deleted meanwhile: nothing more will happen
        const data = { id: row.id, status: row.status, counters: countersOf(row), at: this.clock().toISOString() };
        if (FINISHED.has(row.status)) {
          yield { event: 'done', data };
          return;
        }
        yield { event: 'progress', data };
        await this.sleep();
      }
    } finally {
      this.close();
    }
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    this.release();
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, this.intervalMs);
    });
  }
}

/** One Server-Sent Events message (pure). */
export function formatSse(event: ProgressEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}
