import type { AudienceRepository } from '../audience/audience.repository.js';
import { parseAudienceFilter } from '../audience/audience-filter.js';
import type { Transaction } from '../db/database.js';
import type { MessageRepository } from '../delivery/message.repository.js';
import { monthOf, remainingUnderCeiling } from '../quota/quota.js';
import type { UsageRepository } from '../quota/usage.repository.js';
import type { Clock } from '../shared/time.js';
import type { TenantRepository } from '../tenants/tenant.repository.js';
import { localeRouting } from '../templates/locale-routing.js';
import type { TemplateRepository } from '../templates/template.repository.js';
import type { CampaignRepository } from './campaign.repository.js';
import { campaignEvent } from './campaign-events.js';
import type { EventLog } from '../events/event-log.js';

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
}

/**
 * Turns a SENDING campaign's audience into queued messages inside the
 * database: one INSERT … SELECT from the audience query, with the template
 * variant chosen per contact by the locale-routing CASE, in one transaction
 * with the quota reservation and the campaign's counters. The unique
 * (campaign, contact) key makes a repeated run add nothing; the transaction
 * makes a run that dies leave nothing behind, to be run again.
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
      const result = await this.fanOutClaimed(tenantId, campaignId, now);
      observe(result ? 'completed' : 'abandoned');
      if (result && result.queued > 0) this.deps.onUsageChanged?.(tenantId);
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
    const routing = localeRouting(variants, tenant.fallback_locale, baseVersionId);
    const filter = parseAudienceFilter(campaign.audience_filter);
    const stamp = now.toISOString();

    return this.deps
      .transaction(async (trx) => {
        const usage = this.deps.usage.in(trx);
        const audience = this.deps.audience.in(trx);
        const messages = this.deps.messages.in(trx);
        const month = monthOf(now);
        const room = remainingUnderCeiling(Number(tenant.monthly_quota), await usage.lockMonth(tenantId, month));
        // Only a run forced again after a crash finds messages already there (the unique key skips them).
        const resumed = await messages.anyOf(campaignId);

        let queued = 0;
        if (room > 0) {
          queued = await messages.queueAudience({
            tenantId,
            campaignId,
            audience: audience.reached(tenantId, filter),
            routing,
            at: stamp,
            limit: room, // never past the ceiling, even if contacts arrive meanwhile
            // When the quota can cut the audience short, the first by id fit; otherwise no ORDER BY,
            // which on PostgreSQL would sort the whole audience (spilling to disk at 1M contacts).
            ordered: room < (await audience.countAll(tenantId)),
          });
          await usage.add(tenantId, month, queued);
        }
        // Everyone who matched was queued unless the quota cut the audience short or a resumed
        // run skipped some: only then is a second pass over the audience needed to count it.
        const matched = queued < room && !resumed ? queued : await audience.count(tenantId, filter);
        const result = { matched, queued, skippedQuota: Math.max(0, matched - queued) };
        // Cancelled (or finished by another process) meanwhile: roll everything back.
        if (!(await this.deps.campaigns.in(trx).finishFanOut(tenantId, campaignId, result, stamp))) {
          throw new FanOutAbandoned(campaignId);
        }
        // Nobody to send to: the campaign completed with its fan-out, and says so.
        if (queued === 0) await this.deps.eventLog.in(trx).record([campaignEvent('complete', tenantId, campaignId, stamp)!]);
        return result;
      })
      .catch((error: unknown) => {
        if (error instanceof FanOutAbandoned) return undefined;
        throw error;
      });
  }
}

class FanOutAbandoned extends Error {
  constructor(campaignId: string) {
    super(`fan-out of campaign ${campaignId} abandoned: it is no longer SENDING`);
  }
}
