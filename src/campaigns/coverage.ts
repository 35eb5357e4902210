import type { Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { notFound } from '../shared/errors.js';
import { isId } from '../shared/ids.js';
import { languageOf } from '../shared/locale.js';
import type { TemplateRepository } from '../templates/template.repository.js';
import { selectAudience } from './audience.js';
import type { CampaignRepository } from './campaign.repository.js';
import type { AudienceFilter } from './campaign.schemas.js';
import { effectiveFilter } from './fanout.js';

export interface LocaleCoverageRow {
  locale: string | null;
  count: number;
  hasTemplate: boolean;
}

/**
 * Whether contacts of a locale get a variant written for them: a published
 * variant of the group for the exact locale or for its language. Contacts
 * with no locale, or whose locale has none, receive the fallback or base
 * version — `hasTemplate: false` tells the sender so before scheduling. Pure.
 */
export function hasVariantFor(locale: string | null, publishedLocales: readonly (string | null)[]): boolean {
  if (locale === null) return false;
  const tagged = publishedLocales.filter((l): l is string => l !== null).map((l) => l.toLowerCase());
  const language = languageOf(locale);
  return tagged.includes(locale.toLowerCase()) || (language !== undefined && tagged.includes(language.toLowerCase()));
}

/**
 * Locale readiness of a campaign: one grouped query over the contacts it
 * would reach now (its audience, opted-in unless it targets optIn false, not
 * suppressed), biggest groups first.
 */
export class LocaleCoverage {
  constructor(
    private readonly deps: { db: Kysely<DB>; dialect: Dialect; campaigns: CampaignRepository; templates: TemplateRepository },
  ) {}

  async forCampaign(tenantId: string, campaignId: string): Promise<LocaleCoverageRow[]> {
    const campaign = isId(campaignId) ? await this.deps.campaigns.getById(tenantId, campaignId) : undefined;
    if (!campaign) throw notFound('Campaign');
    const filter = campaign.audience_filter ? (JSON.parse(campaign.audience_filter) as AudienceFilter) : null;
    const [groups, variants] = await Promise.all([
      selectAudience(this.deps.db, this.deps.dialect, tenantId, effectiveFilter(filter))
        .select((eb) => ['contacts.locale', eb.fn.countAll<number>().as('count')])
        .groupBy('contacts.locale')
        .execute(),
      campaign.template_version_id ? this.deps.templates.publishedVariants(tenantId, campaign.template_version_id) : [],
    ]);
    const locales = variants.map((v) => v.locale);
    return groups
      .map((g) => ({ locale: g.locale, count: Number(g.count), hasTemplate: hasVariantFor(g.locale, locales) }))
      .sort((a, b) => b.count - a.count || String(a.locale).localeCompare(String(b.locale)));
  }
}
