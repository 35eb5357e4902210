import type { CampaignRepository } from './campaign.repository.js';
import type { CampaignPauses } from './campaign-pause.js';
import { breakerVerdict, countsSince, parseBaseline, type BreakerSettings } from './circuit-breaker.js';

export interface CampaignBreakerDeps {
  campaigns: CampaignRepository;
  /** Reads the counts and pauses (SENDING → PAUSED with its messages and `campaign.paused`). */
  pauses: CampaignPauses;
  settings: BreakerSettings;
}

/**
 * The one place the circuit breaker judges a campaign and pauses it: called
 * by the delivery's settle step after each batch of outcomes, and by the
 * inbound path after a late hard bounce or a complaint was applied. The
 * rules are circuit-breaker.ts (pure, BREAKER_*); the counts are the
 * campaign's aggregates since its baseline (the counts at its last resume).
 * Only a SENDING campaign is judged: a SENT one has nothing left to stop, a
 * PAUSED or CANCELLED one is stopped already. Outside any other transaction:
 * the pause is a conditional move (SENDING only), so two judges racing pause
 * once.
 */
export class CampaignBreaker {
  constructor(private readonly deps: CampaignBreakerDeps) {}

  /** The reason the campaign was paused for, or undefined when it was not paused (by this call). */
  async tripIfNeeded(tenantId: string, campaignId: string, at: string): Promise<string | undefined> {
    const campaign = await this.deps.campaigns.getById(tenantId, campaignId);
    if (campaign?.status !== 'SENDING') return undefined;
    const counts = countsSince(await this.deps.pauses.counts(undefined, tenantId, campaignId), parseBaseline(campaign.breaker_baseline));
    const reason = breakerVerdict(counts, this.deps.settings);
    if (!reason) return undefined;
    return (await this.deps.pauses.pause(tenantId, campaignId, reason, at)) ? reason : undefined;
  }
}
