import type { AudienceRepository } from '../audience/audience.repository.js';
import { parseAudienceFilter } from '../audience/audience-filter.js';
import { notFound } from '../shared/errors.js';
import { isId } from '../shared/ids.js';
import { variantFor } from '../templates/locale-routing.js';
import type { TemplateRepository } from '../templates/template.repository.js';
import type { CampaignRepository, CampaignRow } from './campaign.repository.js';
import type { Campaign } from './campaign.schemas.js';

export interface LocaleCoverageRow {
  locale: string | null;
  count: number;
  hasTemplate: boolean;
}

export type CoverageWarning = NonNullable<Campaign['warnings']>[number];

/**
 * Whether contacts of a locale get a variant written for them — a published
 * variant of the group for the exact locale or its language, the first two
 * steps of locale routing (templates/locale-routing.ts). Contacts with no
 * locale, or whose locale has none, receive the fallback or base version:
 * `hasTemplate: false` tells the sender so before sending.
 */
export class LocaleCoverage {
  constructor(private readonly deps: { campaigns: CampaignRepository; templates: TemplateRepository; audience: AudienceRepository }) {}

  /** One grouped query over the contacts the campaign would reach now, biggest groups first. */
  async forCampaign(tenantId: string, campaignId: string): Promise<LocaleCoverageRow[]> {
    const campaign = isId(campaignId) ? await this.deps.campaigns.getById(tenantId, campaignId) : undefined;
    if (!campaign) throw notFound('Campaign');
    const [groups, variants] = await Promise.all([
      this.deps.audience.countByLocale(tenantId, parseAudienceFilter(campaign.audience_filter)),
      this.variantsOf(tenantId, campaign),
    ]);
    return groups
      .map((g) => ({ ...g, hasTemplate: g.locale !== null && variantFor(g.locale, variants) !== undefined }))
      .sort((a, b) => b.count - a.count || String(a.locale).localeCompare(String(b.locale)));
  }

  /**
   * The warnings of a send: each locale of the audience (not null) with no
   * variant of its own. The tenant's distinct locales come from an index; the
   * audience is counted only for the uncovered ones, so a fully covered
   * campaign pays no pass over its audience.
   */
  async gaps(tenantId: string, campaign: CampaignRow): Promise<CoverageWarning[]> {
    const [locales, variants] = await Promise.all([this.deps.audience.localesOf(tenantId), this.variantsOf(tenantId, campaign)]);
    const uncovered = locales.filter((locale) => variantFor(locale, variants) === undefined);
    const groups = await this.deps.audience.countByLocale(tenantId, parseAudienceFilter(campaign.audience_filter), uncovered);
    return groups
      .filter((g): g is { locale: string; count: number } => g.locale !== null && g.count > 0)
      .sort((a, b) => b.count - a.count || a.locale.localeCompare(b.locale))
      .map((g) => ({
        code: 'LOCALE_NOT_COVERED',
        locale: g.locale,
        count: g.count,
        message: `${g.count} contact(s) with locale ${g.locale} have no variant of their own and get the fallback or base version`,
      }));
  }

  private async variantsOf(tenantId: string, campaign: CampaignRow) {
    return campaign.template_version_id ? this.deps.templates.publishedVariants(tenantId, campaign.template_version_id) : [];
  }
}
