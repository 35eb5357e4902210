import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DB } from '../db/schema.js';
import { normaliseEmail } from '../shared/email.js';

export interface AddressRef {
  tenantId: string;
  email: string;
}

const key = (email: string): string => normaliseEmail(email) ?? email.trim();

/**
 * The only writer of soft_bounce_runs: how many soft bounces in a row each
 * address has had, across campaigns. Written in the delivery outcome
 * transaction (one upsert and one or two deletes per batch) and by erasure.
 * Bound to a transaction with `in(trx)`.
 */
export class SoftBounceRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): SoftBounceRepository {
    return new SoftBounceRepository(trx);
  }

  /**
   * One soft bounce more for each address (an address listed twice counts
   * twice), in one upsert; returns each address's run as it now stands.
   */
  async add(bounces: readonly AddressRef[], at: string): Promise<(AddressRef & { bounces: number })[]> {
    if (bounces.length === 0) return [];
    const merged = new Map<string, { tenant_id: string; email: string; bounces: number; last_bounce_at: string }>();
    for (const b of bounces) {
      const email = key(b.email);
      const id = `${b.tenantId}\u0000${email}`;
      const row = merged.get(id) ?? { tenant_id: b.tenantId, email, bounces: 0, last_bounce_at: at };
      row.bounces++;
      merged.set(id, row);
    }
    // Sorted: concurrent batches lock the rows they share in the same order. One row per key (PostgreSQL refuses a key twice).
    const rows = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
    const written = await this.db
      .insertInto('soft_bounce_runs')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'email']).doUpdateSet({
          bounces: sql<number>`soft_bounce_runs.bounces + excluded.bounces`,
          last_bounce_at: sql<string>`excluded.last_bounce_at`,
        }),
      )
      .returning(['tenant_id', 'email', 'bounces'])
      .execute();
    return written.map((row) => ({ tenantId: row.tenant_id, email: row.email, bounces: Number(row.bounces) }));
  }

  /** Ends the runs of these addresses (delivered to, or suppressed): one statement. */
  async clear(addresses: readonly AddressRef[]): Promise<void> {
    if (addresses.length === 0) return;
    const byTenant = new Map<string, Set<string>>();
    for (const a of addresses) {
      const set = byTenant.get(a.tenantId) ?? new Set<string>();
      set.add(key(a.email));
      byTenant.set(a.tenantId, set);
    }
    await this.db
      .deleteFrom('soft_bounce_runs')
      .where((eb) => eb.or([...byTenant].map(([tenantId, emails]) => eb.and([eb('tenant_id', '=', tenantId), eb('email', 'in', [...emails])]))))
      .execute();
  }

  /** The current run of one address (0 when it has none). */
  async runOf(tenantId: string, email: string): Promise<number> {
    const row = await this.db
      .selectFrom('soft_bounce_runs')
      .select('bounces')
      .where('tenant_id', '=', tenantId)
      .where('email', '=', key(email))
      .executeTakeFirst();
    return row ? Number(row.bounces) : 0;
  }

  /** GDPR erasure: the address's run goes with the person. */
  async erase(tenantId: string, email: string): Promise<void> {
    await this.clear([{ tenantId, email }]);
  }
}
