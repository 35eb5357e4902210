import type { Kysely, Selectable } from 'kysely';
import { normaliseEmail } from '../shared/email.js';
import type { DB, SuppressionsTable } from '../db/schema.js';

export type SuppressionRow = Selectable<SuppressionsTable>;
import { SUPPRESSION_REASONS, type SuppressionReason } from '../db/enums.js';

export { SUPPRESSION_REASONS, type SuppressionReason };

/**
 * Other features (delivery, unsubscribe, erasure) call `suppress` and
 * `isSuppressed` with whatever address they hold, so both normalise it the
 * way contacts are stored: a suppression must match the contact's row.
 */
const key = (email: string): string => normaliseEmail(email) ?? email.trim();

/** The only writer of the suppressions table. Bound to a transaction with `in(trx)`. */
export class SuppressionRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): SuppressionRepository {
    return new SuppressionRepository(trx);
  }

  /** Insert-if-absent: an existing suppression keeps its original reason and date. True when new. */
  async suppress(tenantId: string, email: string, reason: SuppressionReason, createdAt = new Date().toISOString()): Promise<boolean> {
    const rows = await this.db
      .insertInto('suppressions')
      .values({ tenant_id: tenantId, email: key(email), reason, created_at: createdAt })
      .onConflict((oc) => oc.columns(['tenant_id', 'email']).doNothing())
      .returning('email')
      .execute();
    return rows.length > 0;
  }

  async isSuppressed(tenantId: string, email: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('suppressions')
      .select('email')
      .where('tenant_id', '=', tenantId)
      .where('email', '=', key(email))
      .executeTakeFirst();
    return row !== undefined;
  }

  get(tenantId: string, email: string): Promise<SuppressionRow | undefined> {
    return this.db
      .selectFrom('suppressions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('email', '=', key(email))
      .executeTakeFirst();
  }

  /** Keyset page in address order: stable while rows are added or removed. */
  listAfter(tenantId: string, afterEmail: string | null, limit: number): Promise<SuppressionRow[]> {
    let query = this.db.selectFrom('suppressions').selectAll().where('tenant_id', '=', tenantId);
    if (afterEmail !== null) query = query.where('email', '>', afterEmail);
    return query.orderBy('email', 'asc').limit(limit).execute();
  }

  async remove(tenantId: string, email: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('suppressions')
      .where('tenant_id', '=', tenantId)
      .where('email', '=', key(email))
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
