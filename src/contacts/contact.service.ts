import { AppError, conflict, notFound, validationError } from '../shared/errors.js';
import { isId } from '../shared/ids.js';
import { normaliseLocale } from '../shared/locale.js';
import { toPage } from '../shared/pagination.js';
import type { Clock } from '../shared/time.js';
import { checkUpsertItem, contactValues, type UpsertValues } from './contact.input.js';
import { isDataRefusal, isUniqueViolation } from '../db/errors.js';
import type { Transaction } from '../db/database.js';
import type { ClientTransaction } from '../db/client-transaction.js';
import { COPY_MIN_ROWS, type ContactListFilter, type ContactRepository, type ContactRow } from './contact.repository.js';
import type {
  BulkContactsBody,
  BulkResult,
  Contact,
  ContactList,
  ListContactsQuery,
  PatchContactBody,
  UpsertContactBody,
} from './contact.schemas.js';
import { writeContacts, type WriteOutcome } from './contact.writer.js';
import { decodeCursor, encodeCursor } from '../shared/cursor.js';
import { parseJsonObject } from '../shared/json.js';
import { checkSearchTerm } from './contact-search.js';

export interface ContactServiceDeps {
  transaction: Transaction;
  /** PostgreSQL: large batches are written in a transaction whose client can COPY (Database.clientTransaction). */
  clientTransaction?: ClientTransaction | undefined;
  contacts: ContactRepository;
  clock: Clock;
}

export class ContactService {
  constructor(private readonly deps: ContactServiceDeps) {}

  /** PUT /contacts: 200 with the contact, created or updated; 409 when the match rule refuses. */
  async upsert(tenantId: string, body: UpsertContactBody): Promise<Contact> {
    const checked = contactValues(body);
    if (!checked.ok) throw validationError('Invalid contact', checked.details);
    const [outcome] = await this.writeBatch(tenantId, [checked.values as UpsertValues]);
    if (!outcome || outcome.status === 'failed') throw conflict(outcome?.message ?? 'Contact not written');
    return toContact((await this.deps.contacts.getById(tenantId, outcome.id))!);
  }

  /** POST /contacts/bulk: bad items fail alone; the good ones are written in one transaction. */
  async bulk(tenantId: string, body: BulkContactsBody): Promise<BulkResult> {
    const results: BulkResult['results'] = [];
    const valid: { index: number; values: UpsertValues }[] = [];
    body.contacts.forEach((item, index) => {
      const checked = checkUpsertItem(item);
      if (checked.ok) valid.push({ index, values: checked.values });
      else results[index] = { index, status: 'failed', error: { code: 'VALIDATION_ERROR', message: 'Invalid contact', details: checked.details } };
    });
    const outcomes = await this.writeBatchOrRows(
      tenantId,
      valid.map((item) => item.values),
    );
    valid.forEach(({ index }, position) => {
      const outcome = outcomes[position]!;
      results[index] =
        outcome.status === 'failed'
          ? { index, status: 'failed', error: { code: outcome.code, message: outcome.message } }
          : { index, status: outcome.status, id: outcome.id };
    });
    const count = (status: string) => results.filter((r) => r.status === status).length;
    return { created: count('created'), updated: count('updated'), failed: count('failed'), results };
  }

  /**
   * One transaction for a batch of already-checked upserts (bulk calls and
   * import batches). A unique violation means another writer got in between
   * our matching query and the insert: the batch is rolled back and resolved
   * again once against the new state.
   */
  async writeBatch(tenantId: string, items: UpsertValues[]): Promise<WriteOutcome[]> {
    if (items.length === 0) return [];
    const { clientTransaction } = this.deps;
    const write = (contacts: ContactRepository) => writeContacts(contacts, tenantId, items, this.deps.clock().toISOString());
    const attempt = () =>
      clientTransaction && items.length >= COPY_MIN_ROWS
        ? clientTransaction((trx, client) => write(this.deps.contacts.in(trx, client)))
        : this.deps.transaction((trx) => write(this.deps.contacts.in(trx)));
    try {
      return await attempt();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      try {
        return await attempt();
      } catch (again) {
        if (isUniqueViolation(again)) throw conflict('These contacts were changed concurrently; retry the request');
        throw again;
      }
    }
  }

  /**
   * writeBatch for bulk calls and imports, where one item must never fail the
   * others: if the database refuses the batch (a value it cannot store that
   * the checks let through, a constraint) or it keeps conflicting with
   * concurrent writers, the batch is split in halves, each written on its
   * own (in order, so duplicates still behave as if sent one by one), down to
   * the single item the database refuses, which fails alone: one bad row of
   * 1000 costs about twenty small transactions. Other errors (a lost
   * connection) propagate.
   */
  async writeBatchOrRows(tenantId: string, items: UpsertValues[]): Promise<WriteOutcome[]> {
    try {
      return await this.writeBatch(tenantId, items);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      if (items.length > 1) {
        const half = Math.ceil(items.length / 2);
        return [...(await this.writeBatchOrRows(tenantId, items.slice(0, half))), ...(await this.writeBatchOrRows(tenantId, items.slice(half)))];
      }
      return [
        error instanceof AppError
          ? { status: 'failed', code: 'CONFLICT', message: error.message }
          : { status: 'failed', code: 'VALIDATION_ERROR', message: 'the database refused this contact' },
      ];
    }
  }

  async get(tenantId: string, ref: string): Promise<Contact> {
    return toContact(await this.load(this.deps.contacts, tenantId, ref));
  }

  async list(tenantId: string, query: ListContactsQuery): Promise<ContactList> {
    const filter: ContactListFilter = { optIn: query.optIn, projectId: query.projectId };
    if (query.locale !== undefined) {
      const locale = normaliseLocale(query.locale);
      if (!locale) throw validationError('Invalid query', [{ field: 'locale', message: `"${query.locale}" is not a BCP 47 language tag` }]);
      filter.locale = locale;
    }
    if (query.updatedSince !== undefined) {
      const since = new Date(query.updatedSince);
      if (Number.isNaN(since.getTime())) throw validationError('Invalid query', [{ field: 'updatedSince', message: 'must be an ISO 8601 date-time' }]);
      filter.updatedSince = since.toISOString();
    }
    if (query.q !== undefined) {
      const checked = checkSearchTerm(query.q);
      if (!checked.ok) throw validationError('Invalid query', [{ field: 'q', message: checked.message }]);
      filter.q = checked.term;
    }
    if (query.cursor === undefined) {
      const page = { page: query.page, limit: query.limit };
      const { rows, total } = await this.deps.contacts.list(tenantId, filter, page);
      return toPage(rows.map(toContact), total, page);
    }
    const after = decodeCursor(query.cursor, isId);
    const rows = await this.deps.contacts.listAfter(tenantId, filter, after, query.limit + 1);
    const data = rows.slice(0, query.limit);
    const nextCursor = rows.length > query.limit ? encodeCursor(data[data.length - 1]!.id) : null;
    return { data: data.map(toContact), meta: { limit: query.limit, nextCursor } };
  }

  async patch(tenantId: string, ref: string, body: PatchContactBody): Promise<Contact> {
    const checked = contactValues(body);
    if (!checked.ok) throw validationError('Invalid contact', checked.details);
    const values = checked.values;
    const contact = await this.load(this.deps.contacts, tenantId, ref);
    const taken = await this.deps.contacts.findOthers(tenantId, contact.id, values.email, values.external_id ?? undefined);
    if (taken.some((row) => row.email === values.email)) throw conflict(`email ${values.email} already belongs to another contact`);
    if (taken.length > 0) throw conflict(`externalId ${values.external_id} already belongs to another contact`);
    try {
      await this.deps.contacts.updateById(tenantId, contact.id, values, this.deps.clock().toISOString());
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict('email or externalId already belongs to another contact');
      throw error;
    }
    return toContact((await this.deps.contacts.getById(tenantId, contact.id))!);
  }

  private async load(contacts: ContactRepository, tenantId: string, ref: string): Promise<ContactRow> {
    const row = await contacts.getByRef(tenantId, ref);
    if (!row) throw notFound('Contact');
    return row;
  }
}

/** What writeBatchOrRows splits: the database refusing values, or the 409 of writers that kept colliding. */
const isRefusal = (error: unknown) => (error instanceof AppError && error.statusCode === 409) || isDataRefusal(error);

export function toContact(row: ContactRow): Contact {
  return {
    id: row.id,
    email: row.email,
    externalId: row.external_id,
    locale: row.locale,
    optIn: row.opt_in === 1,
    attributes: parseJsonObject(row.attributes),
    consentVersion: row.consent_version,
    source: row.source,
    projectId: row.project_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}


