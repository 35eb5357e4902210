import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { mergeIncrements, STAT_COUNTERS, type StatIncrement } from './stat-increments.js';

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
}
