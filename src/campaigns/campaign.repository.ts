import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import { MessageRepository } from '../delivery/message.repository.js';
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

  /**
   * Cancels in one transaction: the campaign (from any of `fromStatuses`) and
   * whatever of its messages is still QUEUED. In-flight sends finish and are
   * counted as they settle.
   */
  async cancel(tenantId: string, id: string, fromStatuses: readonly CampaignStatus[], at: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('campaigns')
        .set({ status: 'CANCELLED', cancelled_at: at, updated_at: at, fanout_lease_until: null })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('status', 'in', fromStatuses)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      const cancelled = await MessageRepository.cancelQueued(trx, tenantId, id, at);
      if (cancelled > 0) {
        await trx
          .updateTable('campaigns')
          .set({ cancelled_count: sql`cancelled_count + ${cancelled}` })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', id)
          .execute();
      }
      return true;
    });
  }

  /** SCHEDULED campaigns whose time has come, oldest first (the scheduler's question). */
  listDue(now: string, limit: number): Promise<Pick<CampaignRow, 'id' | 'tenant_id'>[]> {
    return this.db
      .selectFrom('campaigns')
      .select(['id', 'tenant_id'])
      .where('status', '=', 'SCHEDULED')
      .where('scheduled_at', '<=', now)
      .orderBy('scheduled_at')
      .limit(limit)
      .execute();
  }

  /** SENDING campaigns whose fan-out never committed and nobody holds (a process died mid-way). */
  listStalledFanOuts(now: string, limit: number): Promise<Pick<CampaignRow, 'id' | 'tenant_id'>[]> {
    return this.db
      .selectFrom('campaigns')
      .select(['id', 'tenant_id'])
      .where('status', '=', 'SENDING')
      .where('fanout_completed_at', 'is', null)
      .where((eb) => eb.or([eb('fanout_lease_until', 'is', null), eb('fanout_lease_until', '<', now)]))
      .orderBy('started_at')
      .limit(limit)
      .execute();
  }
}
