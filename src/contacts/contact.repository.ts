import { MessageRepository } from '../delivery/message.repository.js';
import { eraseStoredAnswers } from '../http/idempotency.js';
import type { Kysely, Selectable, SelectQueryBuilder } from 'kysely';
import type { ContactsTable, DB } from '../db/schema.js';
import { offsetOf, type PageRequest } from '../shared/pagination.js';
import { SuppressionRepository } from '../suppressions/suppression.repository.js';
import type { ContactValues } from './contact.input.js';

export type ContactRow = Selectable<ContactsTable>;

/** A complete row for INSERT; `attributes` is JSON text. */
export type NewContactRow = Omit<ContactRow, 'attributes'> & { attributes: string };

export interface ContactListFilter {
  locale?: string;
  optIn?: boolean;
  updatedSince?: string;
  projectId?: string;
}

export interface MatchRow {
  id: string;
  email: string;
  external_id: string | null;
}

/** What one unit of work may touch: contact writes and the suppression an erasure leaves. */
export interface ContactTx {
  contacts: ContactRepository;
  suppressions: SuppressionRepository;
  /** GDPR erasure of the contact's address from the campaigns' message history; returns the captured files' outbox paths. */
  eraseMessageHistory(tenantId: string, contactId: string, email: string): Promise<string[]>;
  /** GDPR erasure: stored Idempotency-Key answers holding any of these strings are purged. */
  eraseStoredAnswers(tenantId: string, needles: readonly string[]): Promise<void>;
}

/** Columns an upsert may overwrite on an existing contact (never id, tenant or created_at). */
export type UpdatableColumn = Exclude<keyof ContactValues, 'email'>;

export class ContactRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Runs `work` in one transaction; the repositories it gets write inside it. */
  transaction<T>(work: (tx: ContactTx) => Promise<T>): Promise<T> {
    return this.db
      .transaction()
      .execute((trx) =>
        work({
          contacts: new ContactRepository(trx),
          suppressions: new SuppressionRepository(trx),
          eraseMessageHistory: (tenantId, contactId, email) => MessageRepository.eraseContact(trx, tenantId, contactId, email),
          eraseStoredAnswers: (tenantId, needles) => eraseStoredAnswers(trx, tenantId, needles),
        }),
      );
  }

  getById(tenantId: string, id: string): Promise<ContactRow | undefined> {
    return this.db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  }

  getByExternalId(tenantId: string, externalId: string): Promise<ContactRow | undefined> {
    return this.db
      .selectFrom('contacts')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
  }

  /** Page mode: newest first, with the total. */
  async list(tenantId: string, filter: ContactListFilter, page: PageRequest): Promise<{ rows: ContactRow[]; total: number }> {
    const query = this.filtered(tenantId, filter);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('id', 'desc').limit(page.limit).offset(offsetOf(page)).execute(),
      query.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.total) };
  }

  /** Cursor mode: ascending ids after `afterId`, so rows inserted meanwhile never shift a page. */
  listAfter(tenantId: string, filter: ContactListFilter, afterId: string | null, limit: number): Promise<ContactRow[]> {
    let query = this.filtered(tenantId, filter);
    if (afterId !== null) query = query.where('id', '>', afterId);
    return query.selectAll().orderBy('id', 'asc').limit(limit).execute();
  }

  private filtered(tenantId: string, filter: ContactListFilter): SelectQueryBuilder<DB, 'contacts', {}> {
    let query = this.db.selectFrom('contacts').where('tenant_id', '=', tenantId);
    if (filter.locale !== undefined) query = query.where('locale', '=', filter.locale);
    if (filter.optIn !== undefined) query = query.where('opt_in', '=', filter.optIn ? 1 : 0);
    if (filter.updatedSince !== undefined) query = query.where('updated_at', '>=', filter.updatedSince);
    if (filter.projectId !== undefined) query = query.where('project_id', '=', filter.projectId);
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
   */
  async upsertByEmail(tenantId: string, rows: NewContactRow[], columns: readonly UpdatableColumn[]): Promise<MatchRow[]> {
    if (rows.length === 0) return [];
    if (rows.some((row) => row.tenant_id !== tenantId)) throw new Error('upsertByEmail: row of another tenant');
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
  }

  async updateById(tenantId: string, id: string, values: ContactValues, updatedAt: string): Promise<boolean> {
    const result = await this.db
      .updateTable('contacts')
      .set({ ...values, updated_at: updatedAt })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async deleteById(tenantId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('contacts').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** Taken addresses / external ids among other contacts, for PATCH's conflict answer. */
  async findOthers(tenantId: string, id: string, email: string | undefined, externalId: string | undefined): Promise<MatchRow[]> {
    return (await this.findForMatching(tenantId, email ? [email] : [], externalId ? [externalId] : [])).filter(
      (row) => row.id !== id,
    );
  }
}

/** Unique-constraint violations on either engine (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * The database refusing the values themselves rather than failing: PostgreSQL
 * classes 22 (data exception: an untranslatable character, a value out of
 * range), 23 (integrity constraint) and 54 (program limit, e.g. an index row
 * too large); SQLite constraint failures (a CHECK, a trigger's RAISE), TOOBIG
 * and MISMATCH. A lost connection or a timeout is none of these.
 */
export function isDataRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (/^(22|23|54)[0-9A-Z]{3}$/.test(code)) return true;
  return code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_TOOBIG' || code === 'SQLITE_MISMATCH';
}
