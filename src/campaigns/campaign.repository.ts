import { sql, type Insertable, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { CampaignsTable, DB } from '../db/schema.js';
import { ListTotals } from '../shared/list-totals.js';
import { offsetOf, type PageRequest } from '../shared/pagination.js';
import { allowedFrom, targetOf, type CampaignAction, type CampaignStatus } from './lifecycle.js';

export type CampaignRow = Selectable<CampaignsTable>;
export type CampaignPatch = Omit<Updateable<CampaignsTable>, 'id' | 'tenant_id' | 'created_at' | 'status'>;

/** The columns a campaign's API answer shows (campaign.service.ts toCampaign); a list reads only these. */
export const CAMPAIGN_VIEW_COLUMNS = [
  'id',
  'name',
  'template_version_id',
  'subject',
  'audience_filter',
  'project_id',
  'timezone',
  'track_opens',
  'track_clicks',
  'status',
  'paused_reason',
  'scheduled_at',
  'created_at',
  'updated_at',
  'cancelled_at',
  'started_at',
  'completed_at',
  'total_count',
  'queued_count',
  'sent_count',
  'failed_count',
  'cancelled_count',
  'skipped_quota',
  'skipped_suppressed',
  'skipped_opted_out',
  'skipped_erased',
] as const satisfies readonly (keyof CampaignsTable)[];
export type CampaignView = Pick<CampaignRow, (typeof CAMPAIGN_VIEW_COLUMNS)[number]>;

/** Outcomes to add to a campaign's counters (settled messages). */
export interface CampaignCounts {
  sent?: number;
  failed?: number;
  cancelled?: number;
  skippedSuppressed?: number;
  skippedOptedOut?: number;
  skippedErased?: number;
}

const COUNT_COLUMNS = {
  sent: 'sent_count',
  failed: 'failed_count',
  cancelled: 'cancelled_count',
  skippedSuppressed: 'skipped_suppressed',
  skippedOptedOut: 'skipped_opted_out',
  skippedErased: 'skipped_erased',
} as const satisfies Record<keyof CampaignCounts, keyof CampaignsTable>;

/**
 * The only writer of the campaigns table. Every status change is a move of
 * the lifecycle (lifecycle.ts), applied as one conditional update on the
 * move's allowed source states, so racing requests cannot both win. Bound to
 * a transaction with `in(trx)`.
 */
export class CampaignRepository {
  constructor(
    private readonly db: Kysely<DB>,
    /** The list's totals, shared by every copy bound to a transaction; forgotten when a campaign is added or changes status (list-totals.ts). */
    private readonly totals = new ListTotals(0),
  ) {}

  in(trx: Kysely<DB>): CampaignRepository {
    return new CampaignRepository(trx, this.totals);
  }

  async insert(row: Insertable<CampaignsTable>): Promise<void> {
    await this.db.insertInto('campaigns').values(row).execute();
    this.totals.forget(row.tenant_id);
  }

  /** A test send delivered a copy (the pre-send check asks). */
  async recordTestSend(tenantId: string, id: string, at: string): Promise<void> {
    await this.db.updateTable('campaigns').set({ last_test_send_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }

  getById(tenantId: string, id: string): Promise<CampaignRow | undefined> {
    return this.db
      .selectFrom('campaigns')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** Newest first (UUIDv7 ids sort by creation time), the answer's columns only; the total counted only when the page cannot tell it (list-totals.ts). */
  async list(
    tenantId: string,
    filter: { status?: CampaignStatus },
    page: PageRequest,
  ): Promise<{ rows: CampaignView[]; total: number }> {
    let query = this.db.selectFrom('campaigns').where('tenant_id', '=', tenantId);
    if (filter.status) query = query.where('status', '=', filter.status);
    const offset = offsetOf(page);
    const rows = await query.select(CAMPAIGN_VIEW_COLUMNS).orderBy('id', 'desc').limit(page.limit).offset(offset).execute();
    const count = () =>
      query
        .select((eb) => eb.fn.countAll<number>().as('total'))
        .executeTakeFirstOrThrow()
        .then((row) => Number(row.total));
    const total = await this.totals.total(tenantId, filter.status ?? '', { offset, limit: page.limit, rows: rows.length }, count);
    return { rows, total };
  }

  /**
   * Applies a lifecycle move (its target status, when it has one) with
   * `patch`, only while the campaign is in one of the move's source states.
   * False means it was not (or does not exist) and nothing was written.
   */
  async move(tenantId: string, id: string, action: CampaignAction, patch: CampaignPatch = {}): Promise<boolean> {
    const status = targetOf(action);
    const result = await this.db
      .updateTable('campaigns')
      .set({ ...patch, ...(status ? { status } : {}) })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('status', 'in', allowedFrom(action))
      .executeTakeFirst();
    if (status) this.totals.forget(tenantId);
    return result.numUpdatedRows > 0n;
  }

  /**
   * `move` for schedule and send: applies only if the campaign's template
   * version is PUBLISHED at that moment, checked in the same statement.
   * Callers lock the version's locale group first (TemplateRepository
   * .lockGroupForUse), so an unpublish cannot commit between check and write.
   */
  async moveIfPublished(tenantId: string, id: string, action: 'schedule' | 'send', patch: CampaignPatch): Promise<boolean> {
    const status = targetOf(action)!;
    const result = await this.db
      .updateTable('campaigns')
      .set({ ...patch, status })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('status', 'in', allowedFrom(action))
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('template_versions as v')
            .select('v.id')
            .whereRef('v.id', '=', 'campaigns.template_version_id')
            .where('v.tenant_id', '=', tenantId)
            .where('v.status', '=', 'PUBLISHED'),
        ),
      )
      .executeTakeFirst();
    this.totals.forget(tenantId);
    return result.numUpdatedRows > 0n;
  }

  /** Adds settled outcomes to the counters. */
  async addCounts(tenantId: string, id: string, counts: CampaignCounts): Promise<void> {
    const set: Record<string, unknown> = {};
    for (const [key, column] of Object.entries(COUNT_COLUMNS) as [keyof CampaignCounts, string][]) {
      const n = counts[key] ?? 0;
      if (n !== 0) set[column] = sql`${sql.ref(column)} + ${n}`;
    }
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('campaigns').set(set).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }

  /**
   * Locks the campaign row (a no-op write) while it is in a source state of
   * `action`; false when it is not. The completion and retry transactions
   * take it first, so they and cancel cannot interleave, and their later
   * statements see whatever a concurrent transaction committed before.
   */
  async lockFor(tenantId: string, id: string, action: 'complete' | 'retry'): Promise<boolean> {
    let query = this.db
      .updateTable('campaigns')
      .set({ updated_at: sql`updated_at` })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('status', 'in', allowedFrom(action));
    if (action === 'complete') query = query.where('fanout_completed_at', 'is not', null);
    const result = await query.executeTakeFirst();
    return result.numUpdatedRows > 0n;
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

  /**
   * The From addresses the tenant's SENDING (or PAUSED: about to send again)
   * campaigns send with: their project's, or null for a campaign without a
   * project (it sends as MAIL_FROM).
   */
  async sendingFromAddresses(tenantId: string): Promise<(string | null)[]> {
    const rows = await this.db
      .selectFrom('campaigns')
      .leftJoin('projects', (join) => join.onRef('projects.id', '=', 'campaigns.project_id').onRef('projects.tenant_id', '=', 'campaigns.tenant_id'))
      .select('projects.from_email')
      .where('campaigns.tenant_id', '=', tenantId)
      .where('campaigns.status', 'in', ['SENDING', 'PAUSED'])
      .execute();
    return rows.map((row) => row.from_email ?? null);
  }

  /** SENDING campaigns whose fan-out is done: candidates for the completion sweep. */
  listSendingFannedOut(limit: number): Promise<Pick<CampaignRow, 'id' | 'tenant_id'>[]> {
    return this.db
      .selectFrom('campaigns')
      .select(['id', 'tenant_id'])
      .where('status', '=', 'SENDING')
      .where('fanout_completed_at', 'is not', null)
      .orderBy('started_at')
      .limit(limit)
      .execute();
  }

  /** Takes the campaign's fan-out for `leaseMs` if it still needs one and nobody else holds it. */
  async claimFanOut(tenantId: string, id: string, now: Date, leaseMs: number): Promise<boolean> {
    const result = await this.pendingFanOut(tenantId, id)
      .set({ fanout_lease_until: leaseUntil(now, leaseMs) })
      .where((eb) => eb.or([eb('fanout_lease_until', 'is', null), eb('fanout_lease_until', '<', now.toISOString())]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Locks a campaign whose fan-out is still pending and still SENDING, and
   * extends the fan-out lease (the fan-out's last step starts here). False
   * when it was cancelled, paused or finished meanwhile.
   */
  async holdFanOut(tenantId: string, id: string, now: Date, leaseMs: number): Promise<boolean> {
    const result = await this.pendingFanOut(tenantId, id).set({ fanout_lease_until: leaseUntil(now, leaseMs) }).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * A chunk of the fan-out: its messages counted as queued (and matched,
   * until the fan-out finishes) and the fan-out lease extended, on a
   * campaign still SENDING with its fan-out pending; false when it is not
   * (cancelled, paused or finished meanwhile).
   */
  async addFannedOut(tenantId: string, id: string, n: number, now: Date, leaseMs: number): Promise<boolean> {
    const result = await this.pendingFanOut(tenantId, id)
      .set({ queued_count: sql`queued_count + ${n}`, total_count: sql`total_count + ${n}`, fanout_lease_until: leaseUntil(now, leaseMs) })
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** An update of the campaign while it is SENDING with its fan-out not finished. */
  private pendingFanOut(tenantId: string, id: string) {
    return this.db
      .updateTable('campaigns')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('status', '=', 'SENDING')
      .where('fanout_completed_at', 'is', null);
  }

  async queuedCount(tenantId: string, id: string): Promise<number> {
    const row = await this.db.selectFrom('campaigns').select('queued_count').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return Number(row?.queued_count ?? 0);
  }

  /**
   * Records a finished fan-out on a campaign still SENDING with its fan-out
   * pending; false when it is not (cancelled, or finished by another
   * process). Nothing queued: the campaign completes at once.
   */
  async finishFanOut(
    tenantId: string,
    id: string,
    result: { matched: number; queued: number; skippedQuota: number },
    at: string,
  ): Promise<boolean> {
    const completes = result.queued === 0;
    const update = await this.pendingFanOut(tenantId, id)
      .set({
        total_count: result.matched,
        queued_count: result.queued,
        skipped_quota: result.skippedQuota,
        fanout_completed_at: at,
        fanout_lease_until: null,
        updated_at: at,
        ...(completes ? { status: targetOf('complete')!, completed_at: at } : {}),
      })
      .executeTakeFirst();
    if (completes) this.totals.forget(tenantId);
    return update.numUpdatedRows > 0n;
  }
}

const leaseUntil = (now: Date, leaseMs: number): string => new Date(now.getTime() + leaseMs).toISOString();
