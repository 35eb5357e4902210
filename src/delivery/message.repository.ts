import { sql, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB, MessagesTable } from '../db/schema.js';
import { offsetOf, type PageRequest } from '../shared/pagination.js';

export type MessageRow = Selectable<MessagesTable>;

export const MESSAGE_STATUSES = ['QUEUED', 'SENDING', 'SENT', 'FAILED', 'CANCELLED', 'SKIPPED'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Everything a worker needs to render and send one claimed message, from one query. */
export interface ClaimedMessage {
  id: number;
  tenantId: string;
  campaignId: string;
  contactId: string | null;
  email: string | null;
  locale: string | null;
  templateVersionId: string;
  attempts: number;
  contactExists: boolean;
  contactLocale: string | null;
  contactExternalId: string | null;
  contactOptIn: boolean;
  contactAttributes: Record<string, unknown>;
  suppressed: boolean;
  campaignSubject: string | null;
  campaignProjectId: string | null;
  campaignAudienceFilter: string | null;
  campaignSendMode: 'live' | 'test' | null;
}

export type MessageOutcome =
  | { id: number; campaignId: string; kind: 'sent'; providerMessageId: string; response: string }
  | { id: number; campaignId: string; kind: 'retry'; error: string; nextAttemptAt: string }
  | { id: number; campaignId: string; kind: 'failed'; error: string; bounce?: { tenantId: string; email: string } }
  | { id: number; campaignId: string; kind: 'skipped'; reason: string };

/**
 * The queue. Workers claim due messages under a lease (PostgreSQL: `FOR
 * UPDATE SKIP LOCKED`, so workers never wait on each other; SQLite: one
 * writer at a time), send them, and record outcomes guarded by their lease,
 * so a worker that lost its lease cannot overwrite or double-count.
 */
export class MessageRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  /** Claims up to `limit` due QUEUED messages for `owner` and returns them with their context. */
  async claimDue(owner: string, limit: number, now: Date, leaseMs: number): Promise<ClaimedMessage[]> {
    const nowIso = now.toISOString();
    const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
    // The due ids are picked in a CTE so PostgreSQL evaluates LIMIT … FOR UPDATE SKIP LOCKED
    // exactly once (as an IN sub-select it may be re-run and claim more than `limit`).
    const claimed = await this.db
      .with('due', (db) => {
        const due = db
          .selectFrom('messages')
          .select('id')
          .where('status', '=', 'QUEUED')
          .where('next_attempt_at', '<=', nowIso)
          .orderBy('next_attempt_at')
          .orderBy('id')
          .limit(limit);
        return this.dialect === 'postgres' ? due.forUpdate().skipLocked() : due;
      })
      .updateTable('messages')
      .set({
        status: 'SENDING',
        lease_owner: owner,
        lease_expires_at: leaseUntil,
        attempts: sql`attempts + 1`,
        updated_at: nowIso,
      })
      .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
      .where('status', '=', 'QUEUED')
      .returning('id')
      .execute();
    if (claimed.length === 0) return [];
    return this.loadClaimed(
      owner,
      claimed.map((r) => r.id),
    );
  }

  private async loadClaimed(owner: string, ids: number[]): Promise<ClaimedMessage[]> {
    const rows = await this.db
      .selectFrom('messages as m')
      .innerJoin('campaigns as cp', 'cp.id', 'm.campaign_id')
      .leftJoin('contacts as c', (join) => join.onRef('c.id', '=', 'm.contact_id').onRef('c.tenant_id', '=', 'm.tenant_id'))
      .leftJoin('suppressions as s', (join) => join.onRef('s.tenant_id', '=', 'm.tenant_id').onRef('s.email', '=', 'm.email'))
      .select([
        'm.id', 'm.tenant_id', 'm.campaign_id', 'm.contact_id', 'm.email', 'm.locale', 'm.template_version_id', 'm.attempts',
        'c.id as c_id', 'c.locale as c_locale', 'c.external_id as c_external_id', 'c.opt_in as c_opt_in', 'c.attributes as c_attributes',
        's.email as s_email',
        'cp.subject as cp_subject', 'cp.project_id as cp_project_id', 'cp.audience_filter as cp_audience_filter', 'cp.send_mode as cp_send_mode',
      ])
      .where('m.id', 'in', ids)
      .where('m.lease_owner', '=', owner)
      .orderBy('m.id')
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      tenantId: r.tenant_id,
      campaignId: r.campaign_id,
      contactId: r.contact_id,
      email: r.email,
      locale: r.locale,
      templateVersionId: r.template_version_id,
      attempts: r.attempts,
      contactExists: r.c_id !== null,
      contactLocale: r.c_locale,
      contactExternalId: r.c_external_id,
      contactOptIn: r.c_opt_in === 1,
      contactAttributes: parseJsonObject(r.c_attributes),
      suppressed: r.s_email !== null,
      campaignSubject: r.cp_subject,
      campaignProjectId: r.cp_project_id,
      campaignAudienceFilter: r.cp_audience_filter,
      campaignSendMode: r.cp_send_mode,
    }));
  }

  /** Keeps a live worker's leases from expiring while its sends are slow. */
  async extendLeases(owner: string, now: Date, leaseMs: number): Promise<void> {
    await this.db
      .updateTable('messages')
      .set({ lease_expires_at: new Date(now.getTime() + leaseMs).toISOString() })
      .where('status', '=', 'SENDING')
      .where('lease_owner', '=', owner)
      .execute();
  }

  /**
   * Puts messages whose lease ran out (their worker died) back in the queue.
   * `owner` given: releases that worker's own leases at once (clean shutdown),
   * giving back the attempt it had not made.
   */
  async releaseLeases(now: Date, owner?: string): Promise<number> {
    let query = this.db
      .updateTable('messages')
      .set({
        status: 'QUEUED',
        lease_owner: null,
        lease_expires_at: null,
        updated_at: now.toISOString(),
        ...(owner ? { attempts: sql`attempts - 1` } : {}),
      })
      .where('status', '=', 'SENDING');
    query = owner ? query.where('lease_owner', '=', owner) : query.where('lease_expires_at', '<', now.toISOString());
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Records a batch's outcomes in one transaction: each message's update is
   * guarded by the lease, and only the messages actually updated move the
   * campaigns' counters. Hard bounces add a suppression in the same transaction.
   */
  async recordOutcomes(owner: string, outcomes: MessageOutcome[], now: Date): Promise<Set<string>> {
    const touched = new Set<string>();
    if (outcomes.length === 0) return touched;
    const at = now.toISOString();
    await this.db.transaction().execute(async (trx) => {
      const counts = new Map<string, { sent: number; failed: number; skipped: number }>();
      for (const outcome of outcomes) {
        const base = trx
          .updateTable('messages')
          .where('id', '=', outcome.id)
          .where('status', '=', 'SENDING')
          .where('lease_owner', '=', owner);
        const common = { lease_owner: null, lease_expires_at: null, updated_at: at };
        let query;
        switch (outcome.kind) {
          case 'sent':
            query = base.set({ ...common, status: 'SENT', sent_at: at, provider_message_id: outcome.providerMessageId, provider_response: outcome.response.slice(0, 1000), last_error: null });
            break;
          case 'retry':
            query = base.set({ ...common, status: 'QUEUED', next_attempt_at: outcome.nextAttemptAt, last_error: outcome.error.slice(0, 1000) });
            break;
          case 'failed':
            query = base.set({ ...common, status: 'FAILED', last_error: outcome.error.slice(0, 1000) });
            break;
          case 'skipped':
            query = base.set({ ...common, status: 'SKIPPED', skip_reason: outcome.reason });
            break;
        }
        const result = await query.executeTakeFirst();
        if (result.numUpdatedRows === 0n) continue; // lease lost: another worker owns it now
        touched.add(outcome.campaignId);
        const c = counts.get(outcome.campaignId) ?? { sent: 0, failed: 0, skipped: 0 };
        if (outcome.kind === 'sent') c.sent++;
        if (outcome.kind === 'failed') c.failed++;
        if (outcome.kind === 'skipped') c.skipped++;
        counts.set(outcome.campaignId, c);
        if (outcome.kind === 'failed' && outcome.bounce) {
          await trx
            .insertInto('suppressions')
            .values({ tenant_id: outcome.bounce.tenantId, email: outcome.bounce.email, reason: 'bounce', created_at: at })
            .onConflict((oc) => oc.columns(['tenant_id', 'email']).doNothing())
            .execute();
        }
      }
      for (const [campaignId, c] of counts) {
        if (c.sent + c.failed + c.skipped === 0) continue;
        await trx
          .updateTable('campaigns')
          .set({
            sent_count: sql`sent_count + ${c.sent}`,
            failed_count: sql`failed_count + ${c.failed}`,
            skipped_suppressed: sql`skipped_suppressed + ${c.skipped}`,
          })
          .where('id', '=', campaignId)
          .execute();
      }
    });
    return touched;
  }

  /** Cancels what is still queued of a campaign; returns how many. */
  static async cancelQueued(trx: Kysely<DB>, tenantId: string, campaignId: string, at: string): Promise<number> {
    const result = await trx
      .updateTable('messages')
      .set({ status: 'CANCELLED', updated_at: at })
      .where('tenant_id', '=', tenantId)
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'QUEUED')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * A retry recorded after its campaign was cancelled re-queues a message
   * nobody will claim for that campaign; this moves such stragglers to
   * CANCELLED and counts them.
   */
  async cancelStragglers(campaignIds: Iterable<string>, at: string): Promise<void> {
    for (const campaignId of campaignIds) {
      await this.db.transaction().execute(async (trx) => {
        const campaign = await trx.selectFrom('campaigns').select(['status', 'tenant_id']).where('id', '=', campaignId).executeTakeFirst();
        if (campaign?.status !== 'CANCELLED') return;
        const n = await MessageRepository.cancelQueued(trx, campaign.tenant_id, campaignId, at);
        if (n > 0) {
          await trx.updateTable('campaigns').set({ cancelled_count: sql`cancelled_count + ${n}` }).where('id', '=', campaignId).execute();
        }
      });
    }
  }

  /** SENDING → SENT once the fan-out is done and nothing is queued or in flight. */
  async completeIfDone(campaignId: string, now: Date): Promise<boolean> {
    const at = now.toISOString();
    const result = await this.db
      .updateTable('campaigns')
      .set({ status: 'SENT', completed_at: at, updated_at: at })
      .where('id', '=', campaignId)
      .where('status', '=', 'SENDING')
      .where('fanout_completed_at', 'is not', null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('messages')
              .select(sql.lit(1).as('one'))
              .where('messages.campaign_id', '=', campaignId)
              .where('messages.status', 'in', ['QUEUED', 'SENDING']),
          ),
        ),
      )
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async list(
    tenantId: string,
    campaignId: string,
    status: MessageStatus | undefined,
    page: PageRequest,
  ): Promise<{ rows: MessageRow[]; total: number }> {
    let query = this.db.selectFrom('messages').where('tenant_id', '=', tenantId).where('campaign_id', '=', campaignId);
    if (status) query = query.where('status', '=', status);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('id').limit(page.limit).offset(offsetOf(page)).execute(),
      query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  getById(tenantId: string, campaignId: string, id: number): Promise<MessageRow | undefined> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('campaign_id', '=', campaignId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /**
   * FAILED → QUEUED for a campaign, except addresses now suppressed (hard
   * bounces among them). The campaign goes back to SENDING if it had finished.
   */
  async retryFailed(tenantId: string, campaignId: string, now: Date): Promise<number> {
    const at = now.toISOString();
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('messages')
        .set({ status: 'QUEUED', next_attempt_at: at, attempts: 0, updated_at: at })
        .where('tenant_id', '=', tenantId)
        .where('campaign_id', '=', campaignId)
        .where('status', '=', 'FAILED')
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('suppressions')
                .select(sql.lit(1).as('one'))
                .where('suppressions.tenant_id', '=', tenantId)
                .whereRef('suppressions.email', '=', 'messages.email'),
            ),
          ),
        )
        .executeTakeFirst();
      const n = Number(result.numUpdatedRows);
      if (n > 0) {
        await trx
          .updateTable('campaigns')
          .set({ failed_count: sql`failed_count - ${n}`, status: 'SENDING', completed_at: null, updated_at: at })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', campaignId)
          .execute();
      }
      return n;
    });
  }

  /** GDPR erasure: the address leaves the message history; the rows stay for the counts. */
  static async eraseContact(trx: Kysely<DB>, tenantId: string, contactId: string, email: string): Promise<void> {
    await trx
      .updateTable('messages')
      .set({ contact_id: null, email: null, provider_response: null, last_error: null })
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('contact_id', '=', contactId), eb('email', '=', email)]))
      .execute();
  }
}

function parseJsonObject(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value === 'string') {
    try {
      const parsed = JSON.parse(value) as unknown;
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
  return typeof value === 'object' ? (value as Record<string, unknown>) : {};
}
