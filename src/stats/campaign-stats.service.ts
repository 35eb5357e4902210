import type { CampaignRepository } from '../campaigns/campaign.repository.js';
import { isId } from '../shared/ids.js';
import { notFound } from '../shared/errors.js';
import type { CampaignStatsRepository } from './campaign-stats.repository.js';
import { buildReport, foldTimeline, timelineStep, type CampaignStatsReport } from './stats-report.js';

/** Links shown in a report. */
const LINKS_SHOWN = 100;

/**
 * GET /campaigns/{id}/stats: read from the aggregates (a row per minute
 * and locale, a row per link), never from the messages, so the cost does
 * not grow with the campaign's size.
 */
export class CampaignStatsService {
  constructor(private readonly deps: { campaigns: CampaignRepository; stats: CampaignStatsRepository }) {}

  async forCampaign(tenantId: string, campaignId: string): Promise<CampaignStatsReport> {
    const campaign = isId(campaignId) ? await this.deps.campaigns.getById(tenantId, campaignId) : undefined;
    if (!campaign) throw notFound('Campaign');
    const { stats } = this.deps;
    const [totals, links, byLocale, range] = await Promise.all([
      stats.totals(tenantId, campaignId),
      stats.links(tenantId, campaignId, LINKS_SHOWN),
      stats.byLocale(tenantId, campaignId),
      stats.bucketRange(tenantId, campaignId),
    ]);
    let timeline: CampaignStatsReport['timeline'] = [];
    if (range) {
      const step = timelineStep(range.first, range.last);
      timeline = foldTimeline(await stats.timeline(tenantId, campaignId, step.grain), step.minutes);
    }
    return buildReport({ recipients: campaign.queued_count, totals, links, byLocale, timeline });
  }
}
