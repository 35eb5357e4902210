import { sql, type AliasableExpression, type Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { monthOf, remainingUnderCeiling } from '../quota/quota.js';
import { UsageRepository } from '../quota/usage.repository.js';
import type { Clock } from '../shared/time.js';
import { resolveVariant, type LocaleVariant } from '../templates/locale-routing.js';
import type { TemplateRepository } from '../templates/template.repository.js';
import { selectAudience } from './audience.js';
import type { AudienceFilter } from './campaign.schemas.js';

/** How long one process may hold a campaign's fan-out before another may take it over (default). */
export const FANOUT_LEASE_MS = 60_000;

export interface FanOutResult {
  matched: number;
  queued: number;
  skippedQuota: number;
}

/**
 * Campaigns only reach opted-in contacts unless their filter explicitly
 * targets `optIn: false` (e.g. a service notice). Suppressed addresses —
 * unsubscribes included — are excluded whatever the filter says.
 */
export const effectiveFilter = (filter: AudienceFilter | null): AudienceFilter => ({ optIn: true, ...(filter ?? {}) });

export interface LocaleRouting {
  /** Contact locale equal to one of these → that version. */
  exact: { locale: string; versionId: string }[];
  /** Contact locale starting with `language-` → that version (variants tagged with a bare language). */
  language: { language: string; versionId: string; locale: string }[];
  otherwise: { versionId: string; locale: string | null };
}

/** Locale routing (exact → language → tenant fallback → base) as data for one SQL CASE. */
export function localeRouting(variants: LocaleVariant[], fallbackLocale: string | null, baseVersionId: string): LocaleRouting {
  const tagged = variants.filter((v): v is { id: string; locale: string } => v.locale !== null);
  return {
    exact: tagged.map((v) => ({ locale: v.locale, versionId: v.id })),
    language: tagged.filter((v) => !v.locale.includes('-')).map((v) => ({ language: v.locale, versionId: v.id, locale: v.locale })),
    otherwise: (({ versionId, locale }) => ({ versionId, locale }))(resolveVariant(null, variants, fallbackLocale, baseVersionId)),
  };
}

/**
 * Turns a SENDING campaign's audience into queued messages inside the
 * database: one INSERT … SELECT from the audience query, with the template
 * variant chosen per contact by a CASE over its locale, in one transaction
 * with the quota reservation and the campaign's counters. The unique
 * (campaign, contact) key makes a repeated run add nothing; the transaction
 * makes a run that dies leave nothing behind, to be run again.
 */
export class FanOut {
  constructor(
    private readonly deps: {
      db: Kysely<DB>;
      dialect: Dialect;
      templates: TemplateRepository;
      clock: Clock;
      leaseMs?: number;
      /** Told how long each fan-out took (Prometheus metrics); optional. */
      observer?: FanOutObserver;
      /** Told when a tenant's usage grew (the quota headers' cache forgets it). */
      onUsageChanged?: (tenantId: string) => void;
    },
  ) {}

  /** All of the tenant's contacts: an upper bound of any audience, counted from an index. */
  async countContacts(tenantId: string, db: Kysely<DB> = this.deps.db): Promise<number> {
    const row = await db
      .selectFrom('contacts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Counts the contacts a campaign would reach now (the quota check before sending; a capped fan-out). */
  async countAudience(tenantId: string, filter: AudienceFilter | null, db: Kysely<DB> = this.deps.db): Promise<number> {
    const row = await selectAudience(db, this.deps.dialect, tenantId, effectiveFilter(filter))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Runs the fan-out of one campaign if it still needs one and no other
   * process holds it. Undefined when there was nothing to do.
   */
  async run(tenantId: string, campaignId: string): Promise<FanOutResult | undefined> {
    const { db, clock } = this.deps;
    const now = clock();
    const claimed = await db
      .updateTable('campaigns')
      .set({ fanout_lease_until: new Date(now.getTime() + (this.deps.leaseMs ?? FANOUT_LEASE_MS)).toISOString() })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', campaignId)
      .where('status', '=', 'SENDING')
      .where('fanout_completed_at', 'is', null)
      .where((eb) => eb.or([eb('fanout_lease_until', 'is', null), eb('fanout_lease_until', '<', now.toISOString())]))
      .executeTakeFirst();
    if (claimed.numUpdatedRows === 0n) return undefined;

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
    const { db, dialect } = this.deps;
    const campaign = await db
      .selectFrom('campaigns')
      .innerJoin('tenants', 'tenants.id', 'campaigns.tenant_id')
      .select(['campaigns.template_version_id', 'campaigns.audience_filter', 'tenants.monthly_quota', 'tenants.fallback_locale'])
      .where('campaigns.tenant_id', '=', tenantId)
      .where('campaigns.id', '=', campaignId)
      .executeTakeFirstOrThrow();
    const baseVersionId = campaign.template_version_id;
    if (!baseVersionId) throw new Error(`campaign ${campaignId} has no template version`);
    const variants = await this.deps.templates.publishedVariants(tenantId, baseVersionId);
    const routing = localeRouting(
      variants.map((v) => ({ id: v.id, locale: v.locale })),
      campaign.fallback_locale,
      baseVersionId,
    );
    const filter = effectiveFilter(campaign.audience_filter ? (JSON.parse(campaign.audience_filter) as AudienceFilter) : null);

    return db.transaction().execute(async (trx) => {
      const month = monthOf(now);
      const used = await UsageRepository.lockMonth(trx, dialect, tenantId, month);
      const audience = () => selectAudience(trx, dialect, tenantId, filter);
      const room = remainingUnderCeiling(Number(campaign.monthly_quota), used);
      // Only a run forced again after a crash finds messages already there (the unique key skips them).
      const resumed = await trx.selectFrom('messages').select('id').where('campaign_id', '=', campaignId).limit(1).executeTakeFirst();

      let queued = 0;
      if (room > 0) {
        const stamp = now.toISOString();
        const at = dialect === 'postgres' ? sql`cast(${stamp} as timestamptz)` : sql`${stamp}`;
        let select = audience().select((eb) => [
          sql.val(tenantId).as('tenant_id'),
          sql.val(campaignId).as('campaign_id'),
          'contacts.id as contact_id',
          'contacts.email as email',
          routingCase(eb, routing, 'locale').as('locale'),
          routingCase(eb, routing, 'versionId').as('template_version_id'),
          sql.val('QUEUED').as('status'),
          at.as('next_attempt_at'),
          at.as('created_at'),
          at.as('updated_at'),
        ]);
        // Never past the ceiling, even if contacts arrive meanwhile. When the quota can cut the
        // audience short, the first by id fit; otherwise no ORDER BY, which on PostgreSQL would
        // sort the whole audience (spilling to disk at 1M contacts).
        if (room < (await this.countContacts(tenantId, trx))) select = select.orderBy('contacts.id');
        select = select.limit(room);
        const result = await trx
          .insertInto('messages')
          .columns([
            'tenant_id', 'campaign_id', 'contact_id', 'email', 'locale', 'template_version_id',
            'status', 'next_attempt_at', 'created_at', 'updated_at',
          ])
          .expression(select)
          .onConflict((oc) => oc.columns(['campaign_id', 'contact_id']).doNothing())
          .executeTakeFirst();
        queued = Number(result.numInsertedOrUpdatedRows ?? 0n);
        if (queued > 0) await UsageRepository.add(trx, tenantId, month, queued);
      }
      // Everyone who matched was queued unless the quota cut the audience short or a resumed
      // run skipped some: only then is a second pass over the audience needed to count it.
      const matched = queued < room && !resumed ? queued : await this.countAudience(tenantId, filter, trx);

      const skippedQuota = Math.max(0, matched - queued);
      const stamp = now.toISOString();
      const done = await trx
        .updateTable('campaigns')
        .set({
          total_count: matched,
          queued_count: queued,
          skipped_quota: skippedQuota,
          fanout_completed_at: stamp,
          fanout_lease_until: null,
          updated_at: stamp,
          ...(queued === 0 ? { status: 'SENT', completed_at: stamp } : {}),
        })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', campaignId)
        .where('status', '=', 'SENDING')
        .where('fanout_completed_at', 'is', null)
        .executeTakeFirst();
      // Cancelled (or finished by another process) meanwhile: roll everything back.
      if (done.numUpdatedRows === 0n) throw new FanOutAbandoned(campaignId);
      return { matched, queued, skippedQuota };
    }).catch((error: unknown) => {
      if (error instanceof FanOutAbandoned) return undefined;
      throw error;
    });
  }
}

/** What a fan-out reports: its duration and how it ended, never which campaign. */
export interface FanOutObserver {
  fannedOut(result: 'completed' | 'abandoned' | 'error', seconds: number): void;
}

class FanOutAbandoned extends Error {
  constructor(campaignId: string) {
    super(`fan-out of campaign ${campaignId} abandoned: it is no longer SENDING`);
  }
}

/** CASE contacts.locale WHEN … THEN … END for the version id or the locale of the chosen variant. */
function routingCase(
  eb: { case: () => any },
  routing: LocaleRouting,
  pick: 'versionId' | 'locale',
): AliasableExpression<string | null> {
  const exact = routing.exact;
  const language = routing.language;
  const otherwise = routing.otherwise[pick];
  if (exact.length === 0 && language.length === 0) return sql.val(otherwise);
  let builder = eb.case();
  for (const v of exact) {
    builder = builder.when('contacts.locale', '=', v.locale).then(sql.val(pick === 'versionId' ? v.versionId : v.locale));
  }
  for (const v of language) {
    // substr(…) = 'es-' matches es-MX, es-419…; the length is a computed integer, inlined.
    builder = builder
      .when(sql`substr(contacts.locale, 1, ${sql.lit(v.language.length + 1)})`, '=', `${v.language}-`)
      .then(sql.val(pick === 'versionId' ? v.versionId : v.locale));
  }
  return builder.else(sql.val(otherwise)).end();
}
