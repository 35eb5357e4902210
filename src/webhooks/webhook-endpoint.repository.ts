import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB, WebhookEndpointsTable } from '../db/schema.js';
import { parseJsonColumn } from '../shared/json.js';

export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookEndpointPatch = Pick<Updateable<WebhookEndpointsTable>, 'url' | 'events' | 'updated_at' | 'failing_since'>;

/** An enabled endpoint and the event types it takes. */
export interface Subscription {
  endpointId: string;
  tenantId: string;
  events: readonly string[];
}

/** An endpoint a dispatcher holds the lease of (its URL and secret are read with each delivery). */
export interface ClaimedEndpoint {
  id: string;
  tenantId: string;
}

/**
 * The only writer of webhook_endpoints. Dispatchers lease endpoints here
 * (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so workers never wait on each
 * other; SQLite: one writer at a time): one worker delivers an endpoint's
 * events at a time. Bound to a transaction with `in(trx)`.
 */
export class WebhookEndpointRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect = 'sqlite',
  ) {}

  in(trx: Kysely<DB>): WebhookEndpointRepository {
    return new WebhookEndpointRepository(trx, this.dialect);
  }

  /** The enabled endpoints of these tenants (EventLog: who gets a delivery of each new event). */
  async subscriptions(tenantIds: readonly string[]): Promise<Subscription[]> {
    if (tenantIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('webhook_endpoints')
      .select(['id', 'tenant_id', 'events'])
      .where('tenant_id', 'in', [...tenantIds])
      .where('enabled', '=', 1)
      .orderBy('id')
      .execute();
    return rows.map((row) => ({ endpointId: row.id, tenantId: row.tenant_id, events: parseJsonColumn<string[]>(row.events) ?? [] }));
  }

  async insert(row: WebhookEndpointRow): Promise<void> {
    await this.db.insertInto('webhook_endpoints').values(row).execute();
  }

  async countOf(tenantId: string): Promise<number> {
    const row = await this.db
      .selectFrom('webhook_endpoints')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  getById(tenantId: string, id: string): Promise<WebhookEndpointRow | undefined> {
    return this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
  }

  /** Oldest first, after the id `after` (keyset). */
  listAfter(tenantId: string, after: string | null, limit: number): Promise<WebhookEndpointRow[]> {
    let query = this.db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId);
    if (after) query = query.where('id', '>', after);
    return query.orderBy('id').limit(limit).execute();
  }

  async update(tenantId: string, id: string, patch: WebhookEndpointPatch): Promise<boolean> {
    const result = await this.db.updateTable('webhook_endpoints').set(patch).where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Flips `enabled` in one statement; enabling clears the failure clock and the reason it was disabled. */
  async toggle(tenantId: string, id: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_endpoints')
      .set({
        enabled: sql`1 - enabled`,
        failing_since: sql`case when enabled = 0 then null else failing_since end`,
        disabled_reason: sql`case when enabled = 0 then null else ${'disabled by hand'} end`,
        updated_at: at,
      })
      .where('id', '=', id)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Deletes the endpoint and (by cascade) its deliveries. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('webhook_endpoints').where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * Leases up to `limit` enabled endpoints that are not leased (or whose
   * lease ran out) and have a due pending delivery, least recently claimed
   * first, so every endpoint gets its turn.
   */
  async claimDue(owner: string, limit: number, now: Date, leaseMs: number): Promise<ClaimedEndpoint[]> {
    const nowIso = now.toISOString();
    const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
    const rows = await this.db
      .with('due', (db) => {
        const due = db
          .selectFrom('webhook_endpoints as e')
          .select('e.id')
          .where('e.enabled', '=', 1)
          .where((eb) => eb.or([eb('e.lease_until', 'is', null), eb('e.lease_until', '<', nowIso)]))
          .where((eb) =>
            eb.exists(
              eb
                .selectFrom('webhook_deliveries as d')
                .select('d.id')
                .whereRef('d.endpoint_id', '=', 'e.id')
                .where('d.status', '=', 'pending')
                .where('d.next_attempt_at', '<=', nowIso),
            ),
          )
          .orderBy(sql`e.last_claimed_at asc nulls first`)
          .orderBy('e.id')
          .limit(limit);
        return this.dialect === 'postgres' ? due.forUpdate().skipLocked() : due;
      })
      .updateTable('webhook_endpoints')
      .set({ lease_owner: owner, lease_until: leaseUntil, last_claimed_at: nowIso })
      .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
      .returning(['id', 'tenant_id'])
      .execute();
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id }));
  }

  /** Keeps a live dispatcher's leases from running out while its receivers are slow. */
  async extendLeases(owner: string, now: Date, leaseMs: number): Promise<void> {
    await this.db
      .updateTable('webhook_endpoints')
      .set({ lease_until: new Date(now.getTime() + leaseMs).toISOString() })
      .where('id', 'in', (eb) => {
        const mine = eb.selectFrom('webhook_endpoints as e').select('e.id').where('e.lease_owner', '=', owner);
        // Rows being written by a recording transaction are skipped, not waited on.
        return this.dialect === 'postgres' ? mine.forUpdate().skipLocked() : mine;
      })
      .where('lease_owner', '=', owner)
      .execute();
  }

  /** Ends `owner`'s lease of one endpoint (`id`) or of all it holds. */
  async release(owner: string, id?: string): Promise<void> {
    let query = this.db.updateTable('webhook_endpoints').set({ lease_owner: null, lease_until: null }).where('lease_owner', '=', owner);
    if (id) query = query.where('id', '=', id);
    await query.execute();
  }

  /**
   * After an attempt, while `owner` still holds the lease: a success clears
   * the failure clock, a failure starts it (if not running). Returns when the
   * endpoint has been failing since, or undefined when the lease is lost
   * (then nothing may be recorded). Written first in the recording
   * transaction: the endpoint row, then its delivery — the order a DELETE's
   * cascade locks them in.
   */
  async noteAttempt(owner: string, id: string, ok: boolean, at: string): Promise<{ failingSince: string | null } | undefined> {
    const row = await this.db
      .updateTable('webhook_endpoints')
      .set({ failing_since: ok ? null : sql`coalesce(failing_since, ${this.timestamp(at)})` })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .returning('failing_since')
      .executeTakeFirst();
    return row ? { failingSince: row.failing_since } : undefined;
  }

  /** Disables an enabled endpoint (auto-disable); false if it was not enabled. */
  async disable(id: string, reason: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_endpoints')
      .set({ enabled: 0, disabled_reason: reason, lease_owner: null, lease_until: null, updated_at: at })
      .where('id', '=', id)
      .where('enabled', '=', 1)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  private timestamp(at: string) {
    return this.dialect === 'postgres' ? sql`cast(${at} as timestamptz)` : sql`${at}`;
  }
}
