import { sql, type Expression, type Kysely, type Selectable, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type pg from 'pg';
import { whereFilter } from '../audience/audience.repository.js';
import type { Dialect } from '../db/database.js';
import type { ContactsTable, DB } from '../db/schema.js';
import { isId } from '../shared/ids.js';
import { ListTotals } from '../shared/list-totals.js';
import { offsetOf, type PageRequest } from '../shared/pagination.js';
import type { ContactValues } from './contact.input.js';
import { prefixRange } from './contact-search.js';
import { copyUpsert } from './contact.copy.js';

export type ContactRow = Selectable<ContactsTable>;

/** A search matching at most this many contacts is sorted rather than found by walking the tenant in id order (SQLite). */
const SORT_MATCHES_UP_TO = 20_000;

/** A complete row for INSERT; `attributes` is JSON text. */
export type NewContactRow = Omit<ContactRow, 'attributes'> & { attributes: string };

export interface ContactListFilter {
  locale?: string;
  optIn?: boolean;
  updatedSince?: string;
  projectId?: string;
  /** A checked search term (contact-search.ts): email or externalId starting with it, case-insensitively. */
  q?: string;
}

export interface MatchRow {
  id: string;
  email: string;
  external_id: string | null;
}

/**
 * From this many rows on, an upsert bound to a PostgreSQL client goes through
 * COPY (contact.copy.ts) rather than a multi-row INSERT with parameters.
 */
export const COPY_MIN_ROWS = 200;

/** Columns an upsert may overwrite on an existing contact (never id, tenant or created_at). */
export type UpdatableColumn = Exclude<keyof ContactValues, 'email'>;

/**
 * The only writer of the contacts table. Bound to a transaction with
 * `in(trx)`; on PostgreSQL, `in(trx, client)` with the client the
 * transaction runs on (db/client-transaction.ts) lets large upserts use COPY.
 */
export class ContactRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
    /** The list's totals, shared by every copy bound to a transaction; forgotten on each write (list-totals.ts). */
    private readonly totals = new ListTotals(0),
    private readonly copyClient?: pg.PoolClient,
  ) {}

  in(trx: Kysely<DB>, copyClient?: pg.PoolClient): ContactRepository {
    return new ContactRepository(trx, this.dialect, this.totals, copyClient);
  }

  getById(tenantId: string, id: string): Promise<ContactRow | undefined> {
    return this.db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  }

  /** A contact by reference: a UUID is tried as an id first, then (like anything else) as an externalId. */
  async getByRef(tenantId: string, ref: string): Promise<ContactRow | undefined> {
    return (
      (isId(ref) ? await this.getById(tenantId, ref) : undefined) ??
      (ref.length > 0 && ref.length <= 128 ? await this.getByExternalId(tenantId, ref) : undefined)
    );
  }

  getByEmail(tenantId: string, email: string): Promise<ContactRow | undefined> {
    return this.db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('email', '=', email).executeTakeFirst();
  }

  getByExternalId(tenantId: string, externalId: string): Promise<ContactRow | undefined> {
    return this.db
      .selectFrom('contacts')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
  }

  /** Page mode: newest first, with the total (counted only when the page cannot tell it, and then kept briefly: list-totals.ts). */
  async list(tenantId: string, filter: ContactListFilter, page: PageRequest): Promise<{ rows: ContactRow[]; total: number }> {
    const count = () =>
      this.filtered(tenantId, filter)
        .select((eb) => eb.fn.countAll<number>().as('total'))
        .executeTakeFirstOrThrow()
        .then((row) => Number(row.total));
    const filterKey = JSON.stringify(filter);
    if (filter.q !== undefined && this.dialect === 'sqlite') {
      // The total first: it tells the page query how to order (see idOrder).
      const total = await this.totals.total(tenantId, filterKey, undefined, count);
      return { rows: await this.pageQuery(tenantId, filter, page, total).execute(), total };
    }
    const rows = await this.pageQuery(tenantId, filter, page).execute();
    const total = await this.totals.total(tenantId, filterKey, { offset: offsetOf(page), limit: page.limit, rows: rows.length }, count);
    return { rows, total };
  }

  /** The rows of a page (exposed so that a test can EXPLAIN the very query); `matches`: the total, when known. */
  pageQuery(tenantId: string, filter: ContactListFilter, page: PageRequest, matches?: number) {
    return this.filtered(tenantId, filter)
      .selectAll()
      .orderBy(this.idOrder(filter, matches), 'desc')
      .limit(page.limit)
      .offset(offsetOf(page));
  }

  /** Cursor mode: ascending ids after `afterId`, so rows inserted meanwhile never shift a page. */
  listAfter(tenantId: string, filter: ContactListFilter, afterId: string | null, limit: number): Promise<ContactRow[]> {
    let query = this.filtered(tenantId, filter);
    if (afterId !== null) query = query.where('id', '>', afterId);
    return query.selectAll().orderBy(this.idOrder(filter), 'asc').limit(limit).execute();
  }

  /**
   * The id to order by. With a search on SQLite, `+id` (an expression, so no
   * index can give the order) unless the search matches many contacts: with
   * statistics SQLite prefers walking the (tenant_id, id) index in id order
   * to skip the sort, and then reads the whole tenant to find a rare prefix
   * (40 ms at 100,000 contacts instead of 0.3); `+id` makes it find the
   * matches with the search indexes and sort only them. Past
   * SORT_MATCHES_UP_TO matches the walk is the better plan (matches are
   * dense: a page is found after a few hundred rows) and the plain order
   * lets SQLite choose it. PostgreSQL weighs both plans by the prefix's
   * estimated matches itself.
   */
  private idOrder(filter: ContactListFilter, matches?: number) {
    const sortMatches = filter.q !== undefined && this.dialect === 'sqlite' && (matches === undefined || matches <= SORT_MATCHES_UP_TO);
    return sortMatches ? sql<string>`+contacts.id` : sql<string>`contacts.id`;
  }

  /** The list's filter: the audience compiler's conditions (locale, optIn, projectId), plus updatedSince and the search. */
  private filtered(tenantId: string, filter: ContactListFilter): SelectQueryBuilder<DB, 'contacts', {}> {
    const { updatedSince, q, ...audience } = filter;
    let query = whereFilter(this.db.selectFrom('contacts').where('contacts.tenant_id', '=', tenantId), this.dialect, audience);
    if (updatedSince !== undefined) query = query.where('contacts.updated_at', '>=', updatedSince);
    if (q !== undefined) query = query.where(searchCondition(this.dialect, q));
    return query;
  }

  /** The existing contacts a batch could match, by address or by external id. */
  async findForMatching(tenantId: string, emails: string[], externalIds: string[]): Promise<MatchRow[]> {
    if (emails.length === 0 && externalIds.length === 0) return [];
    return this.db
      .selectFrom('contacts')
      .select(['id', 'email', 'external_id'])
      .where('tenant_id', '=', tenantId)
      .where((eb) =>
        eb.or([
          ...(emails.length > 0 ? [eb('email', 'in', emails)] : []),
          ...(externalIds.length > 0 ? [eb('external_id', 'in', externalIds)] : []),
        ]),
      )
      .execute();
  }

  /**
   * One multi-row INSERT … ON CONFLICT (tenant_id, email) DO UPDATE: new
   * addresses are inserted, known ones get `columns` (and updated_at)
   * overwritten. Emails must be distinct within `rows`. Returns the id each
   * address ended up with; an id other than the one proposed means "updated".
   * With a copy client and at least COPY_MIN_ROWS rows, the same statement
   * reads the rows from a COPY-filled stage (contact.copy.ts).
   */
  async upsertByEmail(tenantId: string, rows: NewContactRow[], columns: readonly UpdatableColumn[]): Promise<MatchRow[]> {
    if (rows.length === 0) return [];
    if (rows.some((row) => row.tenant_id !== tenantId)) throw new Error('upsertByEmail: row of another tenant');
    return this.changing(tenantId, () => {
      if (this.copyClient && rows.length >= COPY_MIN_ROWS) return copyUpsert(this.db, this.copyClient, rows, columns);
      return this.db
        .insertInto('contacts')
        .values(rows)
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'email']).doUpdateSet((eb) => {
            const set: Record<string, unknown> = { updated_at: eb.ref('excluded.updated_at') };
            for (const column of columns) set[column] = eb.ref(`excluded.${column}`);
            return set as never;
          }),
        )
        .returning(['id', 'email', 'external_id'])
        .execute();
    });
  }

  async updateById(tenantId: string, id: string, values: ContactValues, updatedAt: string): Promise<boolean> {
    const result = await this.changing(tenantId, () =>
      this.db.updateTable('contacts').set({ ...values, updated_at: updatedAt }).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst(),
    );
    return result.numUpdatedRows > 0n;
  }

  /** optIn false (an unsubscribe); the contact's address and locale, or undefined when it does not exist. */
  async optOut(tenantId: string, id: string, at: string): Promise<{ email: string; locale: string | null; external_id: string | null } | undefined> {
    return this.changing(tenantId, () =>
      this.db
        .updateTable('contacts')
        .set({ opt_in: 0, updated_at: at })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .returning(['email', 'locale', 'external_id'])
        .executeTakeFirst(),
    );
  }

  async deleteById(tenantId: string, id: string): Promise<boolean> {
    const result = await this.changing(tenantId, () =>
      this.db.deleteFrom('contacts').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst(),
    );
    return result.numDeletedRows > 0n;
  }

  /**
   * A write of the tenant's contacts: the list's totals are forgotten once it
   * has run (in a transaction: before it commits, so a list in between may
   * keep the old total for LIST_TOTAL_CACHE_MS at most).
   */
  private async changing<T>(tenantId: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.totals.forget(tenantId);
    }
  }

  /** Taken addresses / external ids among other contacts, for PATCH's conflict answer. */
  async findOthers(tenantId: string, id: string, email: string | undefined, externalId: string | undefined): Promise<MatchRow[]> {
    return (await this.findForMatching(tenantId, email ? [email] : [], externalId ? [externalId] : [])).filter(
      (row) => row.id !== id,
    );
  }
}

/**
 * Email or externalId starting with `term` (ASCII case-insensitive), as two
 * ranges over the expression indexes of migration 0023 (the expressions here
 * must stay those of the indexes, or the planner no longer uses them:
 * test/api/contact-search.test.ts checks with EXPLAIN).
 */
export function searchCondition(dialect: Dialect, term: string): Expression<SqlBool> {
  const { from, to } = prefixRange(term);
  const folded = (column: 'email' | 'external_id') =>
    dialect === 'postgres' ? sql`lower(${sql.ref(`contacts.${column}`)} collate "C")` : sql`lower(${sql.ref(`contacts.${column}`)})`;
  const range = (column: 'email' | 'external_id') =>
    to === null ? sql<SqlBool>`${folded(column)} >= ${from}` : sql<SqlBool>`(${folded(column)} >= ${from} and ${folded(column)} < ${to})`;
  return sql<SqlBool>`(${range('email')} or ${range('external_id')})`;
}
