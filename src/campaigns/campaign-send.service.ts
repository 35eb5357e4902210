import type { FastifyBaseLogger } from 'fastify';
import type { KeyMode } from '../auth/api-key.js';
import type { AudienceRepository } from '../audience/audience.repository.js';
import { parseAudienceFilter } from '../audience/audience-filter.js';
import type { QuotaService } from '../quota/quota.service.js';
import { AppError, invalidState, notFound } from '../shared/errors.js';
import { isId } from '../shared/ids.js';
import type { CampaignReferences } from './campaign.references.js';
import type { CampaignRepository, CampaignRow } from './campaign.repository.js';
import type { Campaign } from './campaign.schemas.js';
import { startUsingVersion, toCampaign, type CampaignServiceDeps } from './campaign.service.js';
import type { LocaleCoverage } from './coverage.js';
import type { PreflightService } from './preflight.service.js';
import type { FanOut } from './fanout.js';
import { canPerform } from './lifecycle.js';
import { campaignEvent } from './campaign-events.js';

export type CampaignSendDeps = Pick<CampaignServiceDeps, 'transaction' | 'campaigns' | 'messages' | 'templates' | 'clock' | 'pause' | 'eventLog'> & {
  references: CampaignReferences;
  audience: AudienceRepository;
  quota: QuotaService;
  fanout: FanOut;
  coverage: LocaleCoverage;
  preflight: PreflightService;
  logger: FastifyBaseLogger;
};

/** Sending a campaign for real: send now, and re-queuing its failed messages. */
export class CampaignSendService {
  constructor(private readonly deps: CampaignSendDeps) {}

  /**
   * DRAFT or SCHEDULED → SENDING, after checking the template, the sender and
   * that the audience fits under the quota ceiling, then the pre-send check
   * (422 PREFLIGHT_FAILED on a failed check unless `force`; the quota is
   * never forced). The fan-out runs in the
   * background; should this process die first, any worker's scheduler picks
   * the campaign up again. The answer names the audience's locales that have
   * no variant of their own (`warnings`).
   */
  async send(tenantId: string, id: string, mode: KeyMode, force = false): Promise<Campaign> {
    const campaign = await this.load(tenantId, id);
    if (!canPerform('send', campaign.status)) throw invalidState('campaign', campaign.status, 'send');
    await this.deps.references.assertSendable(tenantId, campaign);
    const filter = parseAudienceFilter(campaign.audience_filter);
    await this.deps.quota.assertRoomForAudience(tenantId, {
      upperBound: () => this.deps.audience.countAll(tenantId),
      exact: () => this.deps.audience.count(tenantId, filter),
    });
    const warnings = await this.deps.preflight.enforce(tenantId, campaign, force);

    const now = this.deps.clock().toISOString();
    await startUsingVersion(this.deps, tenantId, campaign, 'send', { started_at: now, updated_at: now, send_mode: mode });
    this.deps.fanout.run(tenantId, id).catch((err: unknown) => {
      this.deps.logger.error({ err, campaignId: id }, 'fan-out failed; the scheduler will retry it');
    });
    const sent = toCampaign(await this.load(tenantId, id));
    return warnings.length > 0 ? { ...sent, warnings } : sent;
  }

  /**
   * Re-queues FAILED messages, except suppressed addresses, in one
   * transaction with the campaign: locked first (against cancel and
   * completion), refused unless SENDING or SENT, reopened to SENDING when
   * anything was re-queued.
   */
  async retryFailed(tenantId: string, id: string, mode: KeyMode): Promise<{ requeued: number; campaign: Campaign }> {
    const current = await this.load(tenantId, id);
    // Every sending route honours the key mode: a test key never makes live mail go out.
    if (mode === 'test' && current.send_mode !== 'test') {
      throw new AppError(403, 'TEST_KEY_LIVE_CAMPAIGN', 'This campaign was started with a live key; an mc_test_ key cannot retry its messages');
    }
    const at = this.deps.clock().toISOString();
    const requeued = await this.deps.transaction(async (trx) => {
      const campaigns = this.deps.campaigns.in(trx);
      if (!(await campaigns.lockFor(tenantId, id, 'retry'))) return undefined;
      const n = await this.deps.messages.in(trx).requeueFailed(tenantId, id, at);
      if (n > 0) {
        await campaigns.addCounts(tenantId, id, { failed: -n });
        if (await campaigns.move(tenantId, id, 'retry', { completed_at: null, updated_at: at })) {
          await this.deps.eventLog.in(trx).record([campaignEvent('retry', tenantId, id, at)!]);
        }
      }
      return n;
    });
    const campaign = await this.load(tenantId, id);
    if (requeued === undefined) throw invalidState('campaign', campaign.status, 'retry failed messages of');
    return { requeued, campaign: toCampaign(campaign) };
  }

  private async load(tenantId: string, id: string): Promise<CampaignRow> {
    const row = isId(id) ? await this.deps.campaigns.getById(tenantId, id) : undefined;
    if (!row) throw notFound('Campaign');
    return row;
  }
}
