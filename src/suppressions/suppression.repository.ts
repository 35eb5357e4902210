import { sql, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../db/database.js';
import { prefixRange } from '../contacts/contact-search.js';
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

/**
 * Precedence of suppression reasons: what the receiving side said about the
 * address (a complaint, a bounce) outranks what was decided on our side (an
 * unsubscribe, a manual or erasure suppression); equals never replace each other.
 */
const rankOf = (reason: ReturnType<typeof sql.ref>) => sql<number>`(CASE ${reason} WHEN 'complaint' THEN 2 WHEN 'bounce' THEN 2 ELSE 1 END)`;

/** The only writer of the suppressions table. Bound to a transaction with `in(trx)`. */
export class SuppressionRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect = 'sqlite',
  ) {}

  in(trx: Kysely<DB>): SuppressionRepository {
    return new SuppressionRepository(trx, this.dialect);
  }

  /**
   * One upsert. A new address is inserted. An existing suppression keeps its
   * reason and date unless the new reason outranks it (`rankOf`): a
   * complaint or a bounce replaces an unsubscribe or a manual suppression,
   * reason and date. True when a row was written (inserted or replaced).
   */
  async suppress(tenantId: string, email: string, reason: SuppressionReason, createdAt = new Date().toISOString()): Promise<boolean> {
    const rows = await this.db
      .insertInto('suppressions')
      .values({ tenant_id: tenantId, email: key(email), reason, created_at: createdAt })
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'email'])
          .doUpdateSet({ reason: sql`excluded.reason`, created_at: sql`excluded.created_at` })
          .where(sql<boolean>`${rankOf(sql.ref('excluded.reason'))} > ${rankOf(sql.ref('suppressions.reason'))}`),
      )
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

  /**
   * Keyset page in address order: stable while rows are added or removed.
   * `prefix`: only addresses starting with it, ASCII case-insensitively, as a
   * range of `lower(email)` (bytewise on both engines: `collate "C"` on
   * PostgreSQL), so `%` and `_` are ordinary characters. No index serves the
   * folded address: the range is checked over the tenant's suppressions
   * (found by the primary key's tenant prefix).
   */
  listAfter(tenantId: string, afterEmail: string | null, limit: number, prefix?: string): Promise<SuppressionRow[]> {
    let query = this.db.selectFrom('suppressions').selectAll().where('tenant_id', '=', tenantId);
    if (afterEmail !== null) query = query.where('email', '>', afterEmail);
    if (prefix !== undefined) {
      const { from, to } = prefixRange(prefix);
      const folded = this.dialect === 'postgres' ? sql`lower(email collate "C")` : sql`lower(email)`;
      query = query.where(to === null ? sql<boolean>`${folded} >= ${from}` : sql<boolean>`(${folded} >= ${from} and ${folded} < ${to})`);
    }
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
