import { sql, type Kysely, type RawBuilder, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { Dialect } from '../db/database.js';
import { MESSAGE_STATUSES, type KeyMode, type MessageStatus, type MessageStream, type SuppressionReason } from '../db/enums.js';
import type { DB, MessagesTable } from '../db/schema.js';
import { notSuppressed } from '../suppressions/not-suppressed.js';
import { parseJsonObject } from '../shared/json.js';
import { ListTotals } from '../shared/list-totals.js';
import { offsetOf, type PageRequest } from '../shared/pagination.js';
import { routingCase, type LocaleRouting } from '../templates/locale-routing.js';
import type { TrackedMessageRow } from '../tracking/tally.js';
import type { ClaimedCampaignMessage, ClaimedTransactionalMessage, Lane, MessageOutcome, TransactionalContent } from './delivery-store.js';

/**
 * The `next_attempt_at` of a PAUSED campaign's queued messages: past every
 * claim's `now`, so the claim query's (status, next_attempt_at) order never
 * reaches them and a paused campaign costs the claim nothing.
 */
export const PARKED_UNTIL = '9999-12-31T00:00:00.000Z';

/** A claimed message's row and context as the claim query reads them; the store derives the opt-in rule from the filter. */
export type ClaimedRow = Omit<ClaimedCampaignMessage, 'campaignRequiresOptIn'> & { campaignAudienceFilter: string | null };

/** A new transactional message: its queue row (the content goes to transactional_emails). */
export interface TransactionalInsert {
  tenantId: string;
  contactId: string | null;
  email: string;
  locale: string | null;
  templateVersionId: string | null;
  /** When it is due: now, or its scheduled time. */
  dueAt: string;
  at: string;
}

/** A message's send-time state (MessageRepository.currentState). */
export interface CurrentStateRow {
  id: number;
  contactExists: boolean;
  contactOptIn: boolean;
  suppressed: boolean;
  suppressionReason: SuppressionReason | null;
  campaignStatus: string | null;
}

/** The claim's stream predicate, literal so PostgreSQL's planner matches it to the stream's partial index (migration 0020). */
const DUE_IN_LANE: Record<Lane, RawBuilder<boolean>> = {
  campaign: sql<boolean>`status = 'QUEUED' and stream = 'campaign'`,
  transactional: sql<boolean>`status = 'QUEUED' and stream = 'transactional'`,
};

/** What the fan-out asks the queue to insert: the audience, routed, up to `limit` rows. */
export interface AudienceInsert {
  tenantId: string;
  campaignId: string;
  /** The audience query (contacts, filtered, not suppressed), no columns selected. */
  audience: SelectQueryBuilder<DB, 'contacts', {}>;
  routing: LocaleRouting;
  at: string;
  /** At most this many, the first by contact id (the fan-out's chunks follow one another in id order). */
  limit: number;
}

export type MessageRow = Selectable<MessagesTable>;

/** A line of a contact's message history (`ofContact`). */
export interface ContactMessageRow {
  id: number;
  stream: MessageStream;
  status: MessageStatus;
  locale: string | null;
  sent_at: string | null;
  created_at: string;
  campaign_id: string | null;
  campaign_name: string | null;
  email_id: string | null;
  email_subject: string | null;
}
export { MESSAGE_STATUSES, type MessageStatus };

/**
 * The queue: the only writer of the messages table. Workers claim due
 * messages under a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so workers
 * never wait on each other; SQLite: one writer at a time), send them, and
 * record outcomes guarded by their lease, so a worker that lost its lease
 * cannot overwrite or double-count. Bound to a transaction with `in(trx)`.
 */
export class MessageRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
    /** The recipients log's totals, shared by every copy bound to a transaction (list-totals.ts). */
    private readonly totals = new ListTotals(0),
  ) {}

  in(trx: Kysely<DB>): MessageRepository {
    return new MessageRepository(trx, this.dialect, this.totals);
  }

  /**
   * Fan-out: one INSERT … SELECT of the audience, the template variant chosen
   * per contact by the locale-routing CASE. The unique (campaign, contact)
   * key makes a repeated run add nothing. Returns how many were inserted.
   */
  async queueAudience(input: AudienceInsert): Promise<number> {
    const at = this.dialect === 'postgres' ? sql`cast(${input.at} as timestamptz)` : sql`${input.at}`;
    let select = input.audience.select([
      sql.val(input.tenantId).as('tenant_id'),
      sql.val(input.campaignId).as('campaign_id'),
      'contacts.id as contact_id' as const,
      'contacts.email as email' as const,
      routingCase(input.routing, 'locale', 'contacts.locale').as('locale'),
      routingCase(input.routing, 'versionId', 'contacts.locale').as('template_version_id'),
      sql.val('QUEUED').as('status'),
      at.as('next_attempt_at'),
      at.as('created_at'),
      at.as('updated_at'),
    ]);
    select = select.orderBy('contacts.id').limit(input.limit);
    const result = await this.db
      .insertInto('messages')
      .columns([
        'tenant_id', 'campaign_id', 'contact_id', 'email', 'locale', 'template_version_id',
        'status', 'next_attempt_at', 'created_at', 'updated_at',
      ])
      .expression(select)
      .onConflict((oc) => oc.columns(['campaign_id', 'contact_id']).doNothing())
      .executeTakeFirst();
    this.totals.forget(input.tenantId);
    return Number(result.numInsertedOrUpdatedRows ?? 0n);
  }

  /**
   * PostgreSQL: the table's planner statistics sampled again now, after a bulk write (SQLite keeps
   * none unless asked, and its plans here do not depend on them). ANALYZE reads a fixed sample
   * (30,000 rows), so it costs about the same at any size. Best effort: autovacuum does the same
   * later, so a failure only leaves the plans as they were.
   */
  async refreshStatistics(): Promise<void> {
    if (this.dialect !== 'postgres') return;
    // Two ANALYZEs of one table wait for each other: one already running (another fan-out's, autovacuum's) is enough.
    await this.db
      .transaction()
      .execute(async (trx) => {
        await sql`set local lock_timeout = '200ms'`.execute(trx);
        await sql`analyze messages`.execute(trx);
      })
      .catch(() => undefined);
  }

  /** The greatest contact id the campaign has a message for (where its fan-out resumes), from the (campaign, contact) key. */
  async lastContactOf(campaignId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('messages')
      .select('contact_id')
      .where('campaign_id', '=', campaignId)
      .orderBy('contact_id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.contact_id ?? undefined;
  }

  /**
   * A transactional message, due at once or at its scheduled time (the
   * priority lane claims it then). Returns its id.
   */
  async queueTransactional(input: TransactionalInsert): Promise<number> {
    const row = await this.db
      .insertInto('messages')
      .values({
        tenant_id: input.tenantId,
        stream: 'transactional',
        campaign_id: null,
        contact_id: input.contactId,
        email: input.email,
        locale: input.locale,
        template_version_id: input.templateVersionId,
        status: 'QUEUED',
        next_attempt_at: input.dueAt,
        created_at: input.at,
        updated_at: input.at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /** A scheduled transactional message still QUEUED → CANCELLED; false when it is already on its way (or gone). */
  async cancelTransactional(tenantId: string, id: number, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('messages')
      .set({ status: 'CANCELLED', updated_at: at })
      .where('id', '=', id)
      .where('tenant_id', '=', tenantId)
      .where('stream', '=', 'transactional')
      .where('status', '=', 'QUEUED')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async anyDue(now: Date, lane: Lane): Promise<boolean> {
    const row = await this.db
      .selectFrom('messages')
      .select('id')
      .where(DUE_IN_LANE[lane])
      .where('next_attempt_at', '<=', now.toISOString())
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Claims up to `limit` due QUEUED campaign messages for `owner` and returns them with their context. */
  async claimDue(owner: string, limit: number, now: Date, leaseMs: number): Promise<ClaimedRow[]> {
    const ids = await this.claimIds('campaign', owner, limit, now, leaseMs);
    return ids.length === 0 ? [] : this.loadClaimed(owner, ids);
  }

  /** The priority lane's claim: due transactional messages, with their content. */
  async claimDueTransactional(owner: string, limit: number, now: Date, leaseMs: number): Promise<ClaimedTransactionalMessage[]> {
    const ids = await this.claimIds('transactional', owner, limit, now, leaseMs);
    return ids.length === 0 ? [] : this.loadClaimedTransactional(owner, ids);
  }

  private async claimIds(lane: Lane, owner: string, limit: number, now: Date, leaseMs: number): Promise<number[]> {
    const nowIso = now.toISOString();
    const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
    // The due ids are picked in a CTE so PostgreSQL evaluates LIMIT … FOR UPDATE SKIP LOCKED
    // exactly once (as an IN sub-select it may be re-run and claim more than `limit`).
    const claimed = await this.db
      .with('due', (db) => {
        const due = db
          .selectFrom('messages')
          .select('id')
          .where(DUE_IN_LANE[lane])
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
    return claimed.map((r) => Number(r.id));
  }

  private async loadClaimedTransactional(owner: string, ids: number[]): Promise<ClaimedTransactionalMessage[]> {
    const rows = await this.db
      .selectFrom('messages as m')
      .innerJoin('transactional_emails as te', 'te.message_id', 'm.id')
      .leftJoin('contacts as c', (join) => join.onRef('c.id', '=', 'm.contact_id').onRef('c.tenant_id', '=', 'm.tenant_id'))
      .leftJoin('suppressions as s', (join) => join.onRef('s.tenant_id', '=', 'm.tenant_id').onRef('s.email', '=', 'm.email'))
      .select([
        'm.id', 'm.tenant_id', 'm.contact_id', 'm.email', 'm.locale', 'm.template_version_id', 'm.attempts',
        'c.id as c_id', 'c.external_id as c_external_id', 's.reason as s_reason',
        'te.id as te_id', 'te.from_email', 'te.from_name', 'te.reply_to', 'te.project_id', 'te.subject', 'te.html_body', 'te.text_body',
        'te.unsubscribe_url', 'te.track_opens', 'te.track_clicks', 'te.bypass_unsubscribe', 'te.send_mode',
      ])
      .where('m.id', 'in', ids)
      .where('m.lease_owner', '=', owner)
      .orderBy('m.id')
      .execute();
    return rows.map((r) => ({
      stream: 'transactional' as const,
      id: Number(r.id),
      tenantId: r.tenant_id,
      campaignId: null,
      contactId: r.contact_id,
      email: r.email,
      locale: r.locale,
      templateVersionId: r.template_version_id,
      attempts: r.attempts,
      // A message that named no contact has nobody to erase: only a named contact that is gone counts as erased.
      contactExists: r.contact_id === null ? r.email !== null : r.c_id !== null,
      contactExternalId: r.c_external_id,
      suppressed: r.s_reason !== null,
      suppressionReason: r.s_reason,
      content: transactionalContent(r),
    }));
  }

  private async loadClaimed(owner: string, ids: number[]): Promise<ClaimedRow[]> {
    const rows = await this.db
      .selectFrom('messages as m')
      .innerJoin('campaigns as cp', 'cp.id', 'm.campaign_id')
      .leftJoin('contacts as c', (join) => join.onRef('c.id', '=', 'm.contact_id').onRef('c.tenant_id', '=', 'm.tenant_id'))
      .leftJoin('suppressions as s', (join) => join.onRef('s.tenant_id', '=', 'm.tenant_id').onRef('s.email', '=', 'm.email'))
      .select([
        'm.id', 'm.tenant_id', 'm.campaign_id', 'm.contact_id', 'm.email', 'm.locale', 'm.template_version_id', 'm.attempts',
        'c.id as c_id', 'c.locale as c_locale', 'c.external_id as c_external_id', 'c.opt_in as c_opt_in', 'c.attributes as c_attributes',
        's.email as s_email',
        'cp.subject as cp_subject', 'cp.name as cp_name', 'cp.project_id as cp_project_id', 'cp.audience_filter as cp_audience_filter', 'cp.send_mode as cp_send_mode',
        'cp.status as cp_status', 'cp.track_opens as cp_track_opens', 'cp.track_clicks as cp_track_clicks',
      ])
      .where('m.id', 'in', ids)
      .where('m.lease_owner', '=', owner)
      .orderBy('m.id')
      .execute();
    return rows.map((r) => ({
      stream: 'campaign' as const,
      id: Number(r.id),
      tenantId: r.tenant_id,
      // The inner join to campaigns: a campaign message has both.
      campaignId: r.campaign_id!,
      contactId: r.contact_id,
      email: r.email,
      locale: r.locale,
      templateVersionId: r.template_version_id!,
      attempts: r.attempts,
      contactExists: r.c_id !== null,
      contactLocale: r.c_locale,
      contactExternalId: r.c_external_id,
      contactOptIn: r.c_opt_in === 1,
      contactAttributes: parseJsonObject(r.c_attributes),
      suppressed: r.s_email !== null,
      campaignSubject: r.cp_subject,
      campaignName: r.cp_name,
      campaignProjectId: r.cp_project_id,
      campaignAudienceFilter: r.cp_audience_filter,
      campaignSendMode: r.cp_send_mode,
      campaignStatus: r.cp_status,
      campaignTrackOpens: r.cp_track_opens === 1,
      campaignTrackClicks: r.cp_track_clicks === 1,
    }));
  }

  /**
   * Open and click tracking: the messages a batch of hits names, with the
   * contact's external id (one query; ids missing from the answer no longer
   * exist — their campaign was deleted).
   */
  async trackedMessages(ids: readonly number[]): Promise<TrackedMessageRow[]> {
    if (ids.length === 0) return [];
    let query = this.db
      .selectFrom('messages as m')
      .leftJoin('contacts as c', (join) => join.onRef('c.id', '=', 'm.contact_id').onRef('c.tenant_id', '=', 'm.tenant_id'))
      .leftJoin('transactional_emails as te', 'te.message_id', 'm.id')
      .select(['m.id', 'm.tenant_id', 'm.campaign_id', 'm.contact_id', 'm.email', 'm.locale', 'm.template_version_id', 'm.sent_at', 'c.external_id', 'te.id as email_id'])
      .where('m.id', 'in', [...ids])
      .orderBy('m.id');
    // PostgreSQL: an erasure blanking these rows waits for this transaction, then anonymises the events it wrote.
    if (this.dialect === 'postgres') query = query.forShare('m');
    const rows = await query.execute();
    return rows.map((r) => ({
      id: Number(r.id),
      tenantId: r.tenant_id,
      campaignId: r.campaign_id,
      contactId: r.contact_id,
      email: r.email,
      externalId: r.external_id,
      locale: r.locale,
      templateVersionId: r.template_version_id,
      sentAt: r.sent_at,
      ...(r.email_id ? { emailId: r.email_id } : {}),
    }));
  }

  /**
   * The send-time re-check: for messages about to go out, what is true now —
   * the campaign's status, whether the contact still exists and is opted in,
   * whether the address is suppressed. One query over the batch, the same
   * joins as the claim's (ids missing from the answer no longer exist).
   */
  async currentState(ids: readonly number[]): Promise<CurrentStateRow[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('messages as m')
      .leftJoin('campaigns as cp', 'cp.id', 'm.campaign_id')
      .leftJoin('contacts as c', (join) => join.onRef('c.id', '=', 'm.contact_id').onRef('c.tenant_id', '=', 'm.tenant_id'))
      .leftJoin('suppressions as s', (join) => join.onRef('s.tenant_id', '=', 'm.tenant_id').onRef('s.email', '=', 'm.email'))
      .select(['m.id', 'm.stream', 'm.contact_id', 'm.email', 'c.id as c_id', 'c.opt_in as c_opt_in', 's.reason as s_reason', 'cp.status as cp_status'])
      .where('m.id', 'in', [...ids])
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      // As the claim judges it: a transactional message to a bare address has no contact to lose.
      contactExists: r.stream === 'transactional' && r.contact_id === null ? r.email !== null : r.c_id !== null,
      contactOptIn: r.c_opt_in === 1,
      suppressed: r.s_reason !== null,
      suppressionReason: r.s_reason,
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
   * Writes a batch's outcomes (call inside a transaction), each guarded by
   * the lease; returns those actually applied. PostgreSQL: the batch's rows
   * are locked in id order first, so two workers' transactions can never
   * wait on each other in a cycle.
   */
  async recordOutcomes(owner: string, outcomes: readonly MessageOutcome[], at: string): Promise<MessageOutcome[]> {
    if (outcomes.length === 0) return [];
    const ordered = [...outcomes].sort((a, b) => a.id - b.id);
    if (this.dialect === 'postgres') {
      await this.db.selectFrom('messages').select('id').where('id', 'in', ordered.map((o) => o.id)).orderBy('id').forUpdate().execute();
    }
    const sentIds = await this.recordSent(owner, ordered, at);
    const applied: MessageOutcome[] = [];
    for (const outcome of ordered) {
      const updated = outcome.kind === 'sent' ? sentIds.has(outcome.id) : await this.recordUnsent(owner, outcome, at);
      if (updated) applied.push(outcome); // otherwise the lease was lost: another worker owns it now
    }
    return applied;
  }

  /** A message that was not sent: its outcome, guarded by the lease; false when the lease was lost. */
  private async recordUnsent(owner: string, outcome: Exclude<MessageOutcome, { kind: 'sent' }>, at: string): Promise<boolean> {
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
      case 'paused':
        // Back to the queue, parked with its campaign; the claim's attempt did not happen.
        changes = { ...common, status: 'QUEUED', next_attempt_at: PARKED_UNTIL, attempts: sql<number>`attempts - 1` } as const;
        break;
    }
    const result = await this.db
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
   * Kysely, most of the worker's database CPU and garbage. The email is out:
   * it is recorded even if the lease ran out and the message went back to the
   * queue meanwhile (not yet claimed again), so it is not sent a second time.
   * Returns the ids actually updated.
   */
  private async recordSent(owner: string, ordered: readonly MessageOutcome[], at: string): Promise<Set<number>> {
    const sent = ordered.filter((o): o is Extract<MessageOutcome, { kind: 'sent' }> => o.kind === 'sent');
    if (sent.length === 0) return new Set();
    let values;
    if (this.dialect === 'postgres') {
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
      returning id`.execute(this.db);
    return new Set(updated.rows.map((row) => Number(row.id)));
  }

  /**
   * Who the messages are for as their rows say now — after the batch's rows
   * are locked (PostgreSQL) or written (SQLite: this transaction is the one
   * writer), so an erasure either already blanked them or waits and then
   * anonymises the events this transaction writes.
   */
  async recipientsNow(ids: readonly number[]): Promise<Map<number, { contactId: string | null; email: string | null }>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.selectFrom('messages').select(['id', 'contact_id', 'email']).where('id', 'in', [...ids]).execute();
    return new Map(rows.map((r) => [Number(r.id), { contactId: r.contact_id, email: r.email }]));
  }

  /** Cancels what is still queued of a campaign; returns how many. */
  async cancelQueued(tenantId: string, campaignId: string, at: string): Promise<number> {
    const result = await this.db
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
   * nobody will claim for that campaign: such stragglers go to CANCELLED.
   * The write comes first — on SQLite that makes the transaction a writer
   * from its start. Returns how many.
   *
   * The campaign is matched through a scalar subquery — null, so no row, unless
   * it is cancelled — not a constant EXISTS beside the index condition: SQLite
   * walked every queued message of the campaign to test that EXISTS, on every
   * outcome write (10 s of 22 for 5,000 sends of a million-message campaign).
   */
  async cancelStragglers(tenantId: string, campaignId: string, at: string): Promise<number> {
    const result = await this.db
      .updateTable('messages')
      .set({ status: 'CANCELLED', updated_at: at })
      .where('campaign_id', '=', (eb) =>
        eb.selectFrom('campaigns').select('campaigns.id').where('campaigns.id', '=', campaignId).where('campaigns.status', '=', 'CANCELLED'),
      )
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'QUEUED')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Parks the campaign's queued messages (it was just paused): one UPDATE
   * over the campaign-scoped (campaign_id, status, id) index. Returns how many.
   */
  async park(tenantId: string, campaignId: string, at: string): Promise<number> {
    const result = await this.db
      .updateTable('messages')
      .set({ next_attempt_at: PARKED_UNTIL, updated_at: at })
      .where('campaign_id', '=', campaignId)
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'QUEUED')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Makes the campaign's parked messages due at `at` (it was resumed).
   * `ifSending`: only while the campaign is SENDING — the settle step's
   * catch-up for a message parked by an in-flight send that raced the
   * resume; on PostgreSQL the campaign row is read FOR SHARE, so a resume
   * still committing is waited for and its status seen.
   */
  async unpark(tenantId: string, campaignId: string, at: string, ifSending = false): Promise<number> {
    let query = this.db
      .updateTable('messages')
      .set({ next_attempt_at: at, updated_at: at })
      .where('campaign_id', '=', campaignId)
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'QUEUED')
      .where('next_attempt_at', '>=', PARKED_UNTIL);
    if (ifSending) {
      query = query.where(({ exists, selectFrom }) => {
        const sending = selectFrom('campaigns').select('campaigns.id').where('campaigns.id', '=', campaignId).where('campaigns.status', '=', 'SENDING');
        return exists(this.dialect === 'postgres' ? sending.forShare() : sending);
      });
    }
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Whether anything of the campaign is still queued or in flight. */
  async hasPending(campaignId: string): Promise<boolean> {
    const pending = await this.db
      .selectFrom('messages')
      .select('id')
      .where('campaign_id', '=', campaignId)
      .where('status', 'in', ['QUEUED', 'SENDING'])
      .limit(1)
      .executeTakeFirst();
    return pending !== undefined;
  }

  async list(
    tenantId: string,
    campaignId: string,
    status: MessageStatus | undefined,
    page: PageRequest,
  ): Promise<{ rows: MessageRow[]; total: number }> {
    let query = this.db.selectFrom('messages').where('tenant_id', '=', tenantId).where('campaign_id', '=', campaignId);
    if (status) query = query.where('status', '=', status);
    // Served by messages_campaign_order_idx (migration 0025): 50 rows of a million-message campaign, not a sort of all of them.
    const rows = await query.selectAll().orderBy('id').limit(page.limit).offset(offsetOf(page)).execute();
    // Counting a campaign's messages is linear in its size (~0.5 s at a million): counted only when the page
    // cannot tell it, then kept briefly (LIST_TOTAL_CACHE_MS, longer for a slow count; shared/list-totals.ts).
    const count = () => query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow().then((row) => Number(row.n));
    const total = await this.totals.total(tenantId, `messages\u0000${campaignId}\u0000${status ?? ''}`, { offset: offsetOf(page), limit: page.limit, rows: rows.length }, count);
    return { rows, total };
  }

  /**
   * The messages a contact was sent (or is queued for), newest first, both
   * streams: a campaign message with its campaign's name, a transactional one
   * with its email's id and subject (read beside it from transactional_emails).
   * Served by messages_contact_recent_idx (migration 0023).
   */
  async ofContact(tenantId: string, contactId: string, page: PageRequest): Promise<{ rows: ContactMessageRow[]; total: number }> {
    const query = this.db
      .selectFrom('messages as m')
      .where('m.tenant_id', '=', tenantId)
      .where('m.contact_id', '=', contactId);
    const [rows, count] = await Promise.all([
      query
        .leftJoin('campaigns as c', (join) => join.onRef('c.id', '=', 'm.campaign_id').onRef('c.tenant_id', '=', 'm.tenant_id'))
        .leftJoin('transactional_emails as te', (join) => join.onRef('te.message_id', '=', 'm.id').onRef('te.tenant_id', '=', 'm.tenant_id'))
        .select([
          'm.id',
          'm.stream',
          'm.status',
          'm.locale',
          'm.sent_at',
          'm.created_at',
          'm.campaign_id',
          'c.name as campaign_name',
          'te.id as email_id',
          'te.subject as email_subject',
        ])
        .orderBy('m.id', 'desc')
        .limit(page.limit)
        .offset(offsetOf(page))
        .execute(),
      query.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows: rows.map((row) => ({ ...row, id: Number(row.id) })), total: Number(count.n) };
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

  /** FAILED → QUEUED for a campaign, except addresses now suppressed (hard bounces among them); how many. */
  async requeueFailed(tenantId: string, campaignId: string, at: string): Promise<number> {
    const result = await this.db
      .updateTable('messages')
      .set({ status: 'QUEUED', next_attempt_at: at, attempts: 0, updated_at: at })
      .where('tenant_id', '=', tenantId)
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'FAILED')
      .where(notSuppressed(tenantId, 'messages.email'))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * GDPR erasure: the contact and its address leave the message history; the
   * rows stay for the counts. Found campaign by campaign — through the
   * (campaign_id, contact_id) and (campaign_id, email) indexes — since an
   * index over the whole history would slow every fan-out (migration 0008).
   * Returns the outbox paths of the messages that were captured to files.
   */
  async eraseContact(tenantId: string, contactId: string, email: string): Promise<string[]> {
    const erase = { contact_id: null, email: null, provider_response: null, last_error: null };
    const tenantCampaigns = this.db.selectFrom('campaigns').select('id').where('tenant_id', '=', tenantId);
    // The captured .eml files of these messages, read before the rows are blanked (CaptureMailer.erase deletes them).
    const captured: string[] = [];
    for (const [column, value] of [['contact_id', contactId], ['email', email]] as const) {
      const rows = await this.db
        .selectFrom('messages')
        .select('provider_response')
        .where('campaign_id', 'in', tenantCampaigns)
        .where(column, '=', value)
        .where('tenant_id', '=', tenantId)
        .where('provider_response', 'like', 'captured %')
        .execute();
      for (const row of rows) captured.push(row.provider_response!.slice('captured '.length));
      await this.db
        .updateTable('messages')
        .set(erase)
        .where('campaign_id', 'in', tenantCampaigns)
        .where(column, '=', value)
        .where('tenant_id', '=', tenantId)
        .execute();
    }
    return captured;
  }

  /** GDPR erasure of transactional messages (found through transactional_emails): address and answers blanked. */
  async eraseMessages(tenantId: string, ids: readonly number[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('messages')
      .select('provider_response')
      .where('id', 'in', [...ids])
      .where('tenant_id', '=', tenantId)
      .where('provider_response', 'like', 'captured %')
      .execute();
    await this.db
      .updateTable('messages')
      .set({ contact_id: null, email: null, provider_response: null, last_error: null })
      .where('id', 'in', [...ids])
      .where('tenant_id', '=', tenantId)
      .execute();
    return rows.map((row) => row.provider_response!.slice('captured '.length));
  }
}

type TransactionalContentRow = {
  te_id: string;
  from_email: string;
  from_name: string | null;
  reply_to: string | null;
  project_id: string | null;
  subject: string;
  html_body: string | null;
  text_body: string | null;
  unsubscribe_url: string | null;
  track_opens: number;
  track_clicks: number;
  bypass_unsubscribe: number;
  send_mode: KeyMode;
};

function transactionalContent(r: TransactionalContentRow): TransactionalContent {
  return {
    emailId: r.te_id,
    fromEmail: r.from_email,
    fromName: r.from_name,
    replyTo: r.reply_to,
    projectId: r.project_id,
    subject: r.subject,
    html: r.html_body,
    text: r.text_body,
    unsubscribeUrl: r.unsubscribe_url,
    trackOpens: r.track_opens === 1,
    trackClicks: r.track_clicks === 1,
    bypassUnsubscribe: r.bypass_unsubscribe === 1,
    sendMode: r.send_mode,
  };
}
