import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import { UNFINISHED_CAMPAIGN_STATUSES } from '../db/enums.js';
import type { DB, ProjectsTable } from '../db/schema.js';
import { offsetOf, type PageRequest } from '../shared/pagination.js';

export type ProjectRow = Selectable<ProjectsTable>;
export type ProjectPatch = Omit<Updateable<ProjectsTable>, 'id' | 'tenant_id' | 'created_at'>;

export class ProjectRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: Insertable<ProjectsTable>): Promise<void> {
    await this.db.insertInto('projects').values(row).execute();
  }

  getById(tenantId: string, id: string): Promise<ProjectRow | undefined> {
    return this.db
      .selectFrom('projects')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** Newest first (UUIDv7 ids sort by creation time). */
  async list(tenantId: string, page: PageRequest): Promise<{ rows: ProjectRow[]; total: number }> {
    const query = this.db.selectFrom('projects').where('tenant_id', '=', tenantId);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('id', 'desc').limit(page.limit).offset(offsetOf(page)).execute(),
      query.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.total) };
  }

  /** False when the project does not exist for this tenant. */
  async update(tenantId: string, id: string, patch: ProjectPatch): Promise<boolean> {
    const result = await this.db
      .updateTable('projects')
      .set(patch)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** The outcome of an SMTP verify, for the pre-send check. */
  async recordVerify(tenantId: string, id: string, ok: boolean, at: string): Promise<void> {
    await this.db
      .updateTable('projects')
      .set({ last_verify_at: at, last_verify_ok: ok ? 1 : 0 })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  /** Notes the first delivery of the projects these live campaigns send through (once: later calls change nothing). */
  async markDelivering(tenantId: string, campaignIds: readonly string[], at: string): Promise<void> {
    if (campaignIds.length === 0) return;
    await this.db
      .updateTable('projects')
      .set({ first_delivered_at: at })
      .where('tenant_id', '=', tenantId)
      .where('first_delivered_at', 'is', null)
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('campaigns')
          .select('campaigns.project_id')
          .where('campaigns.tenant_id', '=', tenantId)
          .where('campaigns.id', 'in', [...campaignIds])
          .where('campaigns.send_mode', '=', 'live')
          .where('campaigns.project_id', 'is not', null),
      )
      .execute();
  }

  /**
   * Deletes the project unless an unfinished campaign of the tenant sends
   * through it — one statement, so the check and the delete cannot be split
   * by a concurrent request.
   */
  async deleteUnlessInUse(tenantId: string, id: string): Promise<'deleted' | 'in-use' | 'missing'> {
    const result = await this.db
      .deleteFrom('projects')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('campaigns')
              .select('campaigns.id')
              .where('campaigns.tenant_id', '=', tenantId)
              .where('campaigns.project_id', '=', id)
              .where('campaigns.status', 'in', UNFINISHED_CAMPAIGN_STATUSES),
          ),
        ),
      )
      .executeTakeFirst();
    if (result.numDeletedRows > 0n) return 'deleted';
    return (await this.getById(tenantId, id)) ? 'in-use' : 'missing';
  }
}
