import type { Kysely, Selectable, Updateable } from 'kysely';
import type { CampaignsTable, DB } from '../db/schema.js';
import { offsetOf, type PageRequest } from '../shared/pagination.js';
import type { CampaignStatus } from './lifecycle.js';

export type CampaignRow = Selectable<CampaignsTable>;
export type CampaignPatch = Omit<Updateable<CampaignsTable>, 'id' | 'tenant_id' | 'created_at'>;

export class CampaignRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: CampaignRow): Promise<void> {
    await this.db.insertInto('campaigns').values(row).execute();
  }

  getById(tenantId: string, id: string): Promise<CampaignRow | undefined> {
    return this.db
      .selectFrom('campaigns')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** Newest first (UUIDv7 ids sort by creation time). */
  async list(
    tenantId: string,
    filter: { status?: CampaignStatus },
    page: PageRequest,
  ): Promise<{ rows: CampaignRow[]; total: number }> {
    let query = this.db.selectFrom('campaigns').where('tenant_id', '=', tenantId);
    if (filter.status) query = query.where('status', '=', filter.status);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('id', 'desc').limit(page.limit).offset(offsetOf(page)).execute(),
      query.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.total) };
  }

  /**
   * The one way a campaign changes: a conditional update that applies only
   * while the campaign is in one of `fromStatuses`. False means it was not
   * (or it does not exist) and nothing was written.
   */
  async updateIfStatus(
    tenantId: string,
    id: string,
    fromStatuses: readonly CampaignStatus[],
    patch: CampaignPatch,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('campaigns')
      .set(patch)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('status', 'in', fromStatuses)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
