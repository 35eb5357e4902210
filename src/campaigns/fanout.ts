import type { AudienceRepository } from '../audience/audience.repository.js';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { parseAudienceFilter, type AudienceFilter } from '../audience/audience-filter.js';
import type { DB } from '../db/schema.js';
import type { Transaction } from '../db/database.js';
import type { MessageRepository } from '../delivery/message.repository.js';
import { monthOf, remainingUnderCeiling } from '../quota/quota.js';
import type { UsageRepository } from '../quota/usage.repository.js';
import type { Clock } from '../shared/time.js';
import type { TenantRepository } from '../tenants/tenant.repository.js';
import { localeRouting, type LocaleRouting } from '../templates/locale-routing.js';
import type { TemplateRepository } from '../templates/template.repository.js';
import type { CampaignRepository } from './campaign.repository.js';
import { campaignEvent } from './campaign-events.js';
import type { EventLog } from '../events/event-log.js';

/**
 * A fan-out this large refreshes the message table's statistics at once (PostgreSQL's ANALYZE, a
 * fixed sample): autovacuum would, but only once a tenth of the table has changed and a minute or
 * more later. Until then the planner knows nothing of the new campaign — it took a million new rows
 * for a handful, or (statistics from when the table held one campaign) every row for the new
 * campaign's — and read the recipients log's first page by scanning the whole table or sorting the
 * whole campaign (docs/BENCHMARKS.md, issue 18 target 7).
 */
const STATISTICS_REFRESH_MESSAGES = 1_000;

export interface FanOutResult {
  matched: number;
  queued: number;
  skippedQuota: number;
}

/** What a fan-out reports: its duration and how it ended, never which campaign. */
export interface FanOutObserver {
  fannedOut(result: 'completed' | 'abandoned' | 'error', seconds: number): void;
}

export interface FanOutDeps {
  /** A fan-out that queues nothing completes the campaign: `campaign.sent` is recorded with it. */
  eventLog: EventLog;
  transaction: Transaction;
  campaigns: CampaignRepository;
  messages: MessageRepository;
  audience: AudienceRepository;
  usage: UsageRepository;
  tenants: TenantRepository;
  templates: TemplateRepository;
  clock: Clock;
  /** How long one process may hold a campaign's fan-out before another may take it over. */
  leaseMs: number;
  /** Told how long each fan-out took (Prometheus metrics); optional. */
  observer?: FanOutObserver;
  /** Told when a tenant's usage grew (the quota headers' cache forgets it). */
  onUsageChanged?: (tenantId: string) => void;
  /** Told when a chunk of messages was committed (the worker beside it looks at once); awaited before the next chunk. */
  onQueued?: () => void | Promise<void>;
  /** Rows per committed chunk (the container picks the engine's FANOUT_CHUNK_DEFAULTS; tests make them small). */
  chunkRows: { first: number; max: number };
}

/**
 * Turns a SENDING campaign's audience into queued messages inside the
 * database, streamed in committed chunks that workers can claim at once.
 * Each chunk is one transaction: the month's usage row locked, one INSERT …
 * SELECT of the next contacts by id after the last one queued, with the
 * template variant chosen per contact by the locale-routing CASE, the usage,
 * then the campaign's counters and fan-out lease — only while it is still
 * SENDING with its fan-out pending, or the chunk rolls back. A chunk never passes the quota ceiling;
 * the unique (campaign, contact) key makes a repeated chunk add nothing; the
 * resume point is the campaign's greatest queued contact id, committed with
 * its chunk, so a run that dies is continued where it stopped.
 */
export class FanOut {
  constructor(private readonly deps: FanOutDeps) {}

  /**
   * Runs the fan-out of one campaign if it still needs one and no other
   * process holds it. Undefined when there was nothing to do.
   */
  async run(tenantId: string, campaignId: string): Promise<FanOutResult | undefined> {
    const now = this.deps.clock();
    if (!(await this.deps.campaigns.claimFanOut(tenantId, campaignId, now, this.deps.leaseMs))) return undefined;

    const started = performance.now();
    const observe = (result: 'completed' | 'abandoned' | 'error') =>
      this.deps.observer?.fannedOut(result, (performance.now() - started) / 1000);
    try {
      const result = await this.fanOutClaimed(tenantId, campaignId, now).catch((error: unknown) => {
        if (error instanceof FanOutAbandoned) return undefined;
        throw error;
      });
      observe(result ? 'completed' : 'abandoned');
      return result;
    } catch (error) {
      observe('error');
      throw error;
    }
  }

  /** The fan-out proper, once this process holds the campaign's fan-out lease. */
  private async fanOutClaimed(tenantId: string, campaignId: string, now: Date): Promise<FanOutResult | undefined> {
    const [campaign, tenant] = await Promise.all([
      this.deps.campaigns.getById(tenantId, campaignId),
      this.deps.tenants.getById(tenantId),
    ]);
    if (!campaign || !tenant) return undefined;
    const baseVersionId = campaign.template_version_id;
    if (!baseVersionId) throw new Error(`campaign ${campaignId} has no template version`);
    const variants = await this.deps.templates.publishedVariants(tenantId, baseVersionId);
    const chunk: Chunk = {
      tenantId,
      campaignId,
      quota: Number(tenant.monthly_quota),
      filter: parseAudienceFilter(campaign.audience_filter),
      routing: localeRouting(variants, tenant.fallback_locale, baseVersionId),
      stamp: now.toISOString(),
    };

    const sizes = this.deps.chunkRows;
    let rows = sizes.first;
    for (;;) {
      const step = await this.deps.transaction((trx) => this.queueChunk(trx, chunk, rows));
      if (step.queued > 0) {
        this.deps.onUsageChanged?.(tenantId);
        await this.deps.onQueued?.();
      }
      if (step.done) break;
      // Let the event loop run between chunks: on SQLite every statement is synchronous, so without
      // this the whole fan-out would hold the process (HTTP answers, the worker's sends) until its end.
      await yieldToEventLoop();
      rows = Math.min(sizes.max, rows * 2);
    }
    const result = await this.deps.transaction((trx) => this.finish(trx, chunk));
    if (result.queued >= STATISTICS_REFRESH_MESSAGES) await this.deps.messages.refreshStatistics();
    return result;
  }

  /** Queues the next `rows` contacts (fewer when the quota is near); done when the audience or the quota is exhausted. */
  private async queueChunk(trx: Kysely<DB>, chunk: Chunk, rows: number): Promise<{ queued: number; done: boolean }> {
    const { tenantId, campaignId, stamp } = chunk;
    const usage = this.deps.usage.in(trx);
    const messages = this.deps.messages.in(trx);
    const month = monthOf(new Date(stamp));
    const room = remainingUnderCeiling(chunk.quota, await usage.lockMonth(tenantId, month));
    if (room === 0) return { queued: 0, done: true };
    const after = await messages.lastContactOf(campaignId);
    const limit = Math.min(rows, room);
    const queued = await messages.queueAudience({
      tenantId,
      campaignId,
      audience: this.remaining(trx, chunk, after),
      routing: chunk.routing,
      at: stamp,
      limit,
    });
    await usage.add(tenantId, month, queued);
    // Last, so the campaign row (which every outcome's counters update) is locked only until the commit:
    // cancelled or paused meanwhile (or finished by another process) → the chunk rolls back and the fan-out stops.
    if (!(await this.deps.campaigns.in(trx).addFannedOut(tenantId, campaignId, queued, this.deps.clock(), this.deps.leaseMs))) {
      throw new FanOutAbandoned(campaignId);
    }
    // A short chunk is normally the last; another process's overlapping chunk (its lease ran out)
    // can make one short too, so look whether any contact is left past the last one queued.
    const done = queued === room || (queued < limit && !(await this.anyRemaining(trx, chunk, await messages.lastContactOf(campaignId))));
    return { queued, done };
  }

  /** Records the finished fan-out: matched = queued, plus the contacts the quota left out. */
  private async finish(trx: Kysely<DB>, chunk: Chunk): Promise<FanOutResult> {
    const { tenantId, campaignId, stamp } = chunk;
    const campaigns = this.deps.campaigns.in(trx);
    if (!(await campaigns.holdFanOut(tenantId, campaignId, this.deps.clock(), this.deps.leaseMs))) throw new FanOutAbandoned(campaignId);
    const queued = await campaigns.queuedCount(tenantId, campaignId);
    const last = await this.deps.messages.in(trx).lastContactOf(campaignId);
    const skippedQuota = await this.countRemaining(trx, chunk, last);
    const result = { matched: queued + skippedQuota, queued, skippedQuota };
    if (!(await campaigns.finishFanOut(tenantId, campaignId, result, stamp))) throw new FanOutAbandoned(campaignId);
    // Nobody to send to: the campaign completed with its fan-out, and says so.
    if (queued === 0) await this.deps.eventLog.in(trx).record([campaignEvent('complete', tenantId, campaignId, stamp)!]);
    return result;
  }

  /** The audience's contacts after `after` in id order (all of them when nothing is queued yet). */
  private remaining(trx: Kysely<DB>, chunk: Chunk, after: string | undefined) {
    const audience = this.deps.audience.in(trx).reached(chunk.tenantId, chunk.filter);
    return after === undefined ? audience : audience.where('contacts.id', '>', after);
  }

  private async anyRemaining(trx: Kysely<DB>, chunk: Chunk, after: string | undefined): Promise<boolean> {
    const row = await this.remaining(trx, chunk, after).select('contacts.id').limit(1).executeTakeFirst();
    return row !== undefined;
  }

  private async countRemaining(trx: Kysely<DB>, chunk: Chunk, after: string | undefined): Promise<number> {
    const row = await this.remaining(trx, chunk, after)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

/** What every chunk of one fan-out shares. */
interface Chunk {
  tenantId: string;
  campaignId: string;
  quota: number;
  filter: AudienceFilter | null;
  routing: LocaleRouting;
  stamp: string;
}

class FanOutAbandoned extends Error {
  constructor(campaignId: string) {
    super(`fan-out of campaign ${campaignId} abandoned: it is no longer SENDING`);
  }
}
