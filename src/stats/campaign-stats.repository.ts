import { sql, type Kysely } from 'kysely';
import { scrubText } from '../events/event-types.js';
import type { DB } from '../db/schema.js';
import { mergeIncrements, STAT_COUNTERS, type StatCounter, type StatIncrement } from './stat-increments.js';

/** Clicks to add to one link of a campaign (tracking). */
export interface LinkIncrement {
  tenantId: string;
  campaignId: string;
  urlHash: string;
  url: string;
  clicks: number;
  uniqueClicks: number;
}

export type StatSums = Record<StatCounter, number>;

export interface LinkStatRow {
  url: string;
  clicks: number;
  uniqueClicks: number;
}

/** How a campaign's minute buckets are summed in SQL for a timeline (stats-report.ts picks it). */
export type TimelineGrain = 'minute' | 'hour' | 'day';

/** Characters of `YYYY-MM-DDTHH:MM` that name a bucket of each grain. */
const GRAIN_CHARS: Record<TimelineGrain, number> = { minute: 16, hour: 13, day: 10 };

/**
 * The only writer of campaign_stats and campaign_link_stats: counters added
 * in the transaction that records what they count, read back summed (a
 * campaign has a row per minute and locale, never a row per message).
 * Bound to a transaction with `in(trx)`.
 */
export class CampaignStatsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): CampaignStatsRepository {
    return new CampaignStatsRepository(trx);
  }

  /** One upsert for the lot, keys sorted (see mergeIncrements). */
  async add(increments: readonly StatIncrement[]): Promise<void> {
    const rows = mergeIncrements(increments);
    if (rows.length === 0) return;
    const values = rows.map((inc) => {
      const row: Record<string, unknown> = { tenant_id: inc.tenantId, campaign_id: inc.campaignId, bucket: inc.bucket, locale: inc.locale };
      for (const name of STAT_COUNTERS) row[name] = inc.counts[name] ?? 0;
      return row;
    });
    await this.db
      .insertInto('campaign_stats')
      .values(values as never)
      .onConflict((oc) =>
        oc.columns(['campaign_id', 'bucket', 'locale']).doUpdateSet(
          Object.fromEntries(STAT_COUNTERS.map((name) => [name, sql`campaign_stats.${sql.ref(name)} + excluded.${sql.ref(name)}`])) as never,
        ),
      )
      .execute();
  }

  /**
   * Erasure: link counters whose URL quotes the person (a personalised link)
   * keep their counts, with the needles blanked in the URL. Looked up through
   * the tenant's campaigns (the primary key's prefix), not a scan by tenant.
   */
  async eraseFromLinks(tenantId: string, needles: readonly string[]): Promise<number> {
    if (needles.length === 0) return 0;
    const rows = await this.db
      .selectFrom('campaign_link_stats')
      .select(['campaign_id', 'url_hash', 'url'])
      .where('campaign_id', 'in', (eb) => eb.selectFrom('campaigns').select('id').where('tenant_id', '=', tenantId))
      .where((eb) => eb.or(needles.map((needle) => eb(sql`lower(url)`, 'like', sql<string>`${`%${escapeLike(needle.toLowerCase())}%`} escape '\\'`))))
      .orderBy('campaign_id')
      .orderBy('url_hash')
      .execute();
    for (const row of rows) {
      await this.db
        .updateTable('campaign_link_stats')
        .set({ url: scrubText(row.url, needles) })
        .where('campaign_id', '=', row.campaign_id)
        .where('url_hash', '=', row.url_hash)
        .execute();
    }
    return rows.length;
  }

  /** One upsert for the links' click counts, merged per link and sorted (one row per key, one lock order). */
  async addLinks(increments: readonly LinkIncrement[]): Promise<void> {
    const merged = new Map<string, LinkIncrement>();
    for (const inc of increments) {
      const key = `${inc.campaignId}\u0000${inc.urlHash}`;
      const entry = merged.get(key);
      if (entry) {
        entry.clicks += inc.clicks;
        entry.uniqueClicks += inc.uniqueClicks;
      } else merged.set(key, { ...inc });
    }
    if (merged.size === 0) return;
    const values = [...merged.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, inc]) => ({
        tenant_id: inc.tenantId,
        campaign_id: inc.campaignId,
        url_hash: inc.urlHash,
        url: inc.url,
        clicks: inc.clicks,
        unique_clicks: inc.uniqueClicks,
      }));
    for (let i = 0; i < values.length; i += 500) {
      await this.db
        .insertInto('campaign_link_stats')
        .values(values.slice(i, i + 500))
        .onConflict((oc) =>
          oc.columns(['campaign_id', 'url_hash']).doUpdateSet({
            clicks: sql`campaign_link_stats.clicks + excluded.clicks`,
            unique_clicks: sql`campaign_link_stats.unique_clicks + excluded.unique_clicks`,
          }),
        )
        .execute();
    }
  }

  /** Every counter of the campaign summed (a row per minute and locale, never per message). */
  async totals(tenantId: string, campaignId: string): Promise<StatSums> {
    const row = await this.db
      .selectFrom('campaign_stats')
      .select(STAT_COUNTERS.map((name) => sql<number>`coalesce(sum(${sql.ref(name)}), 0)`.as(name)))
      .where('tenant_id', '=', tenantId)
      .where('campaign_id', '=', campaignId)
      .executeTakeFirstOrThrow();
    return numbers(row as Record<StatCounter, unknown>);
  }

  /** The counters summed per message locale ('' for none). */
  async byLocale(tenantId: string, campaignId: string): Promise<(StatSums & { locale: string })[]> {
    const rows = await this.db
      .selectFrom('campaign_stats')
      .select(['locale', ...STAT_COUNTERS.map((name) => sql<number>`sum(${sql.ref(name)})`.as(name))])
      .where('tenant_id', '=', tenantId)
      .where('campaign_id', '=', campaignId)
      .groupBy('locale')
      .orderBy('locale')
      .execute();
    return rows.map((row) => ({ locale: row.locale, ...numbers(row as Record<StatCounter, unknown>) }));
  }

  /** The first and last minute bucket the campaign has counts in (undefined: none yet). */
  async bucketRange(tenantId: string, campaignId: string): Promise<{ first: string; last: string } | undefined> {
    const row = await this.db
      .selectFrom('campaign_stats')
      .select((eb) => [eb.fn.min('bucket').as('first'), eb.fn.max('bucket').as('last')])
      .where('tenant_id', '=', tenantId)
      .where('campaign_id', '=', campaignId)
      .executeTakeFirst();
    return row?.first && row.last ? { first: row.first, last: row.last } : undefined;
  }

  /**
   * The counters summed per minute, hour or day (a prefix of the minute
   * bucket: `YYYY-MM-DDTHH:MM`, `YYYY-MM-DDTHH`, `YYYY-MM-DD`), oldest first.
   */
  async timeline(tenantId: string, campaignId: string, grain: TimelineGrain): Promise<(StatSums & { bucket: string })[]> {
    const bucket = grain === 'minute' ? sql<string>`bucket` : sql<string>`substr(bucket, 1, ${sql.lit(GRAIN_CHARS[grain])})`;
    const rows = await this.db
      .selectFrom('campaign_stats')
      .select([bucket.as('b'), ...STAT_COUNTERS.map((name) => sql<number>`sum(${sql.ref(name)})`.as(name))])
      .where('tenant_id', '=', tenantId)
      .where('campaign_id', '=', campaignId)
      .groupBy(bucket)
      .orderBy(bucket)
      .execute();
    return rows.map((row) => ({ bucket: row.b, ...numbers(row as Record<StatCounter, unknown>) }));
  }

  /** The campaign's most clicked links (most clicks first, then URL). */
  async links(tenantId: string, campaignId: string, limit: number): Promise<LinkStatRow[]> {
    const rows = await this.db
      .selectFrom('campaign_link_stats')
      .select(['url', 'clicks', 'unique_clicks'])
      .where('tenant_id', '=', tenantId)
      .where('campaign_id', '=', campaignId)
      .orderBy('clicks', 'desc')
      .orderBy('url')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ url: row.url, clicks: Number(row.clicks), uniqueClicks: Number(row.unique_clicks) }));
  }
}

/** PostgreSQL's sum() of integers is a bigint (a string to pg, a number through our parser) or numeric: always a number here. */
function numbers(row: Record<StatCounter, unknown>): StatSums {
  return Object.fromEntries(STAT_COUNTERS.map((name) => [name, Number(row[name] ?? 0)])) as StatSums;
}

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
