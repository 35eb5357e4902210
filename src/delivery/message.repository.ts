import { sql, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB, MessagesTable } from '../db/schema.js';
import { notSuppressed } from '../suppressions/not-suppressed.js';
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
  campaignStatus: string;
}

export type MessageOutcome =
  | { id: number; campaignId: string; kind: 'sent'; providerMessageId: string; response: string }
  | { id: number; campaignId: string; kind: 'retry'; error: string; nextAttemptAt: string }
  | { id: number; campaignId: string; kind: 'failed'; error: string; bounce?: { tenantId: string; email: string } }
  | { id: number; campaignId: string; kind: 'skipped'; reason: string }
  | { id: number; campaignId: string; kind: 'cancelled' };

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
        'cp.status as cp_status',
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
      campaignStatus: r.cp_status,
    }));
  }

  /**
   * Keeps a live worker's leases from expiring while its sends are slow.
   * PostgreSQL: rows locked by a transaction recording their outcome are
   * skipped (they are leaving SENDING anyway). Waiting on them, while that
   * transaction waited on rows this statement had already locked, was a
   * deadlock; when the outcomes lost, a sent batch stayed SENDING under a
   * lease this very heartbeat kept renewing, and its campaign never finished.
   */
  async extendLeases(owner: string, now: Date, leaseMs: number): Promise<void> {
    await this.db
      .updateTable('messages')
      .set({ lease_expires_at: new Date(now.getTime() + leaseMs).toISOString() })
      .where('id', 'in', (eb) =>
        this.skipLocked(eb.selectFrom('messages as m').select('m.id').where('m.status', '=', 'SENDING').where('m.lease_owner', '=', owner)),
      )
      .where('status', '=', 'SENDING')
      .execute();
  }

  /**
   * Puts messages whose lease ran out (their worker died) back in the queue.
   * `owner` given: releases that worker's own leases at once (clean shutdown),
   * giving back the attempt it had not made.
   */
  async releaseLeases(now: Date, owner?: string): Promise<number> {
    const query = this.db
      .updateTable('messages')
      .set({
        status: 'QUEUED',
        lease_owner: null,
        lease_expires_at: null,
        updated_at: now.toISOString(),
        ...(owner ? { attempts: sql`attempts - 1` } : {}),
      })
      // Rows whose outcome is being recorded right now are skipped (PostgreSQL), as in extendLeases.
      .where('id', 'in', (eb) => {
        const mine = eb.selectFrom('messages as m').select('m.id').where('m.status', '=', 'SENDING');
        return this.skipLocked(owner ? mine.where('m.lease_owner', '=', owner) : mine.where('m.lease_expires_at', '<', now.toISOString()));
      })
      .where('status', '=', 'SENDING');
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** PostgreSQL: lock the selected rows, skipping those another transaction holds. SQLite has one writer: nothing to skip. */
  private skipLocked<Q extends { forUpdate(): { skipLocked(): Q } }>(query: Q): Q {
    return this.dialect === 'postgres' ? query.forUpdate().skipLocked() : query;
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
    // Rows are locked in id order and campaigns in id order, so two workers'
    // transactions can never wait on each other in a cycle (no deadlock).
    const ordered = [...outcomes].sort((a, b) => a.id - b.id);
    await this.db.transaction().execute(async (trx) => {
      const counts = new Map<string, { sent: number; failed: number; skipped: number; cancelled: number }>();
      const sentIds = await recordSentInOneStatement(trx, this.dialect, owner, ordered, at);
      for (const outcome of ordered) {
        const updated = outcome.kind === 'sent' ? sentIds.has(outcome.id) : await recordUnsent(trx, owner, outcome, at);
        if (!updated) continue; // lease lost: another worker owns it now
        touched.add(outcome.campaignId);
        const c = counts.get(outcome.campaignId) ?? { sent: 0, failed: 0, skipped: 0, cancelled: 0 };
        if (outcome.kind === 'sent') c.sent++;
        if (outcome.kind === 'failed') c.failed++;
        if (outcome.kind === 'skipped') c.skipped++;
        if (outcome.kind === 'cancelled') c.cancelled++;
        counts.set(outcome.campaignId, c);
        if (outcome.kind === 'failed' && outcome.bounce) {
          await trx
            .insertInto('suppressions')
            .values({ tenant_id: outcome.bounce.tenantId, email: outcome.bounce.email, reason: 'bounce', created_at: at })
            .onConflict((oc) => oc.columns(['tenant_id', 'email']).doNothing())
            .execute();
        }
      }
      for (const [campaignId, c] of [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (c.sent + c.failed + c.skipped + c.cancelled === 0) continue;
        await trx
          .updateTable('campaigns')
          .set({
            sent_count: sql`sent_count + ${c.sent}`,
            failed_count: sql`failed_count + ${c.failed}`,
            skipped_suppressed: sql`skipped_suppressed + ${c.skipped}`,
            cancelled_count: sql`cancelled_count + ${c.cancelled}`,
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
        // Write first: on SQLite this makes the transaction a writer from its start.
        const result = await trx
          .updateTable('messages')
          .set({ status: 'CANCELLED', updated_at: at })
          .where('campaign_id', '=', campaignId)
          .where('status', '=', 'QUEUED')
          .where(({ exists, selectFrom }) =>
            exists(selectFrom('campaigns').select('campaigns.id').where('campaigns.id', '=', campaignId).where('campaigns.status', '=', 'CANCELLED')),
          )
          .executeTakeFirst();
        const n = Number(result.numUpdatedRows);
        if (n > 0) {
          await trx.updateTable('campaigns').set({ cancelled_count: sql`cancelled_count + ${n}` }).where('id', '=', campaignId).execute();
        }
      });
    }
  }

  /**
   * SENDING → SENT once the fan-out is done and nothing is queued or in
   * flight. The campaign row is locked first and the pending check runs as a
   * later statement, so it sees whatever a concurrent retry-failed committed
   * (one statement with NOT EXISTS would judge by a snapshot taken before it
   * waited for the lock).
   */
  async completeIfDone(campaignId: string, now: Date): Promise<boolean> {
    const at = now.toISOString();
    return this.db.transaction().execute(async (trx) => {
      const locked = await trx
        .updateTable('campaigns')
        .set({ updated_at: sql`updated_at` })
        .where('id', '=', campaignId)
        .where('status', '=', 'SENDING')
        .where('fanout_completed_at', 'is not', null)
        .executeTakeFirst();
      if (locked.numUpdatedRows === 0n) return false;
      const pending = await trx
        .selectFrom('messages')
        .select('id')
        .where('campaign_id', '=', campaignId)
        .where('status', 'in', ['QUEUED', 'SENDING'])
        .limit(1)
        .executeTakeFirst();
      if (pending) return false;
      await trx.updateTable('campaigns').set({ status: 'SENT', completed_at: at, updated_at: at }).where('id', '=', campaignId).execute();
      return true;
    });
  }

  /** SENDING campaigns whose fan-out is done: candidates for the completion sweep. */
  listSendingFannedOut(limit: number): Promise<{ id: string }[]> {
    return this.db
      .selectFrom('campaigns')
      .select('id')
      .where('status', '=', 'SENDING')
      .where('fanout_completed_at', 'is not', null)
      .orderBy('started_at')
      .limit(limit)
      .execute();
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
   * Undefined when the campaign is not SENDING or SENT (e.g. cancelled meanwhile).
   */
  async retryFailed(tenantId: string, campaignId: string, now: Date): Promise<number | undefined> {
    const at = now.toISOString();
    return this.db.transaction().execute(async (trx) => {
      // The campaign row first: locks it against cancel and completion, and refuses a final state.
      const open = await trx
        .updateTable('campaigns')
        .set({ updated_at: at })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', campaignId)
        .where('status', 'in', ['SENDING', 'SENT'])
        .executeTakeFirst();
      if (open.numUpdatedRows === 0n) return undefined;
      const result = await trx
        .updateTable('messages')
        .set({ status: 'QUEUED', next_attempt_at: at, attempts: 0, updated_at: at })
        .where('tenant_id', '=', tenantId)
        .where('campaign_id', '=', campaignId)
        .where('status', '=', 'FAILED')
        .where(notSuppressed(tenantId, 'messages.email'))
        .executeTakeFirst();
      const n = Number(result.numUpdatedRows);
      if (n > 0) {
        await trx
          .updateTable('campaigns')
          .set({ failed_count: sql`failed_count - ${n}`, status: 'SENDING', completed_at: null })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', campaignId)
          .execute();
      }
      return n;
    });
  }

  /**
   * GDPR erasure: the contact and its address leave the message history; the
   * rows stay for the counts. Found campaign by campaign — through the
   * (campaign_id, contact_id) and (campaign_id, email) indexes — since an
   * index over the whole history would slow every fan-out (migration 0008).
   * Returns the outbox paths of the messages that were captured to files.
   */
  static async eraseContact(trx: Kysely<DB>, tenantId: string, contactId: string, email: string): Promise<string[]> {
    const erase = { contact_id: null, email: null, provider_response: null, last_error: null };
    const tenantCampaigns = trx.selectFrom('campaigns').select('id').where('tenant_id', '=', tenantId);
    // The captured .eml files of these messages, read before the rows are blanked (CaptureMailer.erase deletes them).
    const captured: string[] = [];
    for (const [column, value] of [['contact_id', contactId], ['email', email]] as const) {
      const rows = await trx
        .selectFrom('messages')
        .select('provider_response')
        .where('campaign_id', 'in', tenantCampaigns)
        .where(column, '=', value)
        .where('tenant_id', '=', tenantId)
        .where('provider_response', 'like', 'captured %')
        .execute();
      for (const row of rows) captured.push(row.provider_response!.slice('captured '.length));
      await trx
        .updateTable('messages')
        .set(erase)
        .where('campaign_id', 'in', tenantCampaigns)
        .where(column, '=', value)
        .where('tenant_id', '=', tenantId)
        .execute();
    }
    return captured;
  }
}

/** A message that was not sent: its outcome, guarded by the lease; false when the lease was lost. */
async function recordUnsent(
  trx: Kysely<DB>,
  owner: string,
  outcome: Exclude<MessageOutcome, { kind: 'sent' }>,
  at: string,
): Promise<boolean> {
  const common = { lease_owner: null, lease_expires_at: null, updated_at: at };
  let changes;
  switch (outcome.kind) {
    case 'retry':
      changes = { ...common, status: 'QUEUED', next_attempt_at: outcome.nextAttemptAt, last_error: outcome.error.slice(0, 1000) } as const;
      break;
    case 'failed':
      changes = { ...common, status: 'FAILED', last_error: outcome.error.slice(0, 1000) } as const;
      break;
    case 'skipped':
      changes = {
        ...common,
        status: 'SKIPPED',
        skip_reason: outcome.reason,
        // An erasure that raced the fan-out leaves no address behind.
        ...(outcome.reason === 'contact_erased' ? { email: null, contact_id: null } : {}),
      } as const;
      break;
    case 'cancelled':
      changes = { ...common, status: 'CANCELLED' } as const;
      break;
  }
  const result = await trx
    .updateTable('messages')
    .set(changes)
    .where('id', '=', outcome.id)
    .where('status', '=', 'SENDING')
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * The batch's accepted emails (nearly always all of it) recorded in one
 * UPDATE … FROM instead of a statement per message — on PostgreSQL the
 * per-message round trips were 60 % of a worker's wall time
 * (bench/explain-delivery.ts); on SQLite each one was built and compiled by
 * Kysely, most of the worker's database CPU and garbage. PostgreSQL: the
 * batch's rows are first locked in id order, so the lock order stays the
 * deadlock-free one of the per-row updates. The email is out: it is
 * recorded even if the lease ran out and the message went back to the queue
 * meanwhile (not yet claimed again), so it is not sent a second time.
 * Returns the ids actually updated.
 */
async function recordSentInOneStatement(
  trx: Kysely<DB>,
  dialect: Dialect,
  owner: string,
  ordered: MessageOutcome[],
  at: string,
): Promise<Set<number>> {
  const sent = ordered.filter((o): o is Extract<MessageOutcome, { kind: 'sent' }> => o.kind === 'sent');
  if (sent.length === 0) return new Set();
  let values;
  if (dialect === 'postgres') {
    await trx.selectFrom('messages').select('id').where('id', 'in', ordered.map((o) => o.id)).orderBy('id').forUpdate().execute();
    values = sql`unnest(${sent.map((o) => o.id)}::bigint[], ${sent.map((o) => o.providerMessageId)}::text[], ${sent.map((o) => o.response.slice(0, 1000))}::text[])
      as v(message_id, provider_message_id, provider_response)`;
  } else {
    const rows = JSON.stringify(sent.map((o) => [o.id, o.providerMessageId, o.response.slice(0, 1000)]));
    values = sql`(select value ->> 0 as message_id, value ->> 1 as provider_message_id, value ->> 2 as provider_response from json_each(${rows})) as v`;
  }
  // `returning id` unqualified: SQLite's RETURNING does not take the table's alias.
  const updated = await sql<{ id: number | string }>`
    update messages as m
    set status = 'SENT', lease_owner = null, lease_expires_at = null, updated_at = ${at}, sent_at = ${at},
        provider_message_id = v.provider_message_id, provider_response = v.provider_response, last_error = null
    from ${values}
    where m.id = v.message_id
      and ((m.status = 'SENDING' and m.lease_owner = ${owner}) or (m.status = 'QUEUED' and m.lease_owner is null))
    returning id`.execute(trx);
  return new Set(updated.rows.map((row) => Number(row.id)));
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
