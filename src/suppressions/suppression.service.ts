import type { ContactRepository } from '../contacts/contact.repository.js';
import type { Transaction } from '../db/database.js';
import type { EventLog } from '../events/event-log.js';
import { checkSearchTerm } from '../contacts/contact-search.js';
import { decodeCursor, encodeCursor } from '../shared/cursor.js';
import { normaliseEmail } from '../shared/email.js';
import { notFound, validationError } from '../shared/errors.js';
import type { Clock } from '../shared/time.js';
import type { SuppressionReason, SuppressionRepository, SuppressionRow } from './suppression.repository.js';
import type { CreateSuppressionBody, ListSuppressionsQuery, Suppression, SuppressionList } from './suppression.schemas.js';

export interface SuppressionServiceDeps {
  transaction: Transaction;
  suppressions: SuppressionRepository;
  contacts: ContactRepository;
  eventLog: EventLog;
  clock: Clock;
}

export class SuppressionService {
  constructor(private readonly deps: SuppressionServiceDeps) {}

  async list(tenantId: string, query: ListSuppressionsQuery): Promise<SuppressionList> {
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor, (key) => key.length > 0);
    let prefix: string | undefined;
    if (query.q !== undefined) {
      const checked = checkSearchTerm(query.q);
      if (!checked.ok) throw validationError('Invalid query', [{ field: 'q', message: checked.message }]);
      prefix = checked.term;
    }
    const rows = await this.deps.suppressions.listAfter(tenantId, after, query.limit + 1, prefix);
    const data = rows.slice(0, query.limit);
    const nextCursor = rows.length > query.limit ? encodeCursor(data[data.length - 1]!.email) : null;
    return { data: data.map(toSuppression), meta: { limit: query.limit, nextCursor } };
  }

  /**
   * Idempotent: an existing suppression is kept as it was (original reason
   * and date) unless the new reason outranks it (a complaint or bounce over
   * an unsubscribe or manual one: `SuppressionRepository.suppress`); either
   * way it is not new (200). A new one records `contact.unsubscribed`
   * (`how: "api"`) in the same transaction: the address receives nothing from now on.
   */
  async add(tenantId: string, body: CreateSuppressionBody): Promise<{ created: boolean; suppression: Suppression }> {
    const email = normaliseEmail(body.email);
    if (!email) throw validationError('Invalid suppression', [{ field: 'email', message: 'must be a valid email address' }]);
    const at = this.deps.clock().toISOString();
    const created = await this.deps.transaction(async (trx) => {
      const suppressions = this.deps.suppressions.in(trx);
      const existed = (await suppressions.get(tenantId, email)) !== undefined;
      if (!(await suppressions.suppress(tenantId, email, body.reason, at)) || existed) return false;
      const contact = await this.deps.contacts.in(trx).getByEmail(tenantId, email);
      await this.deps.eventLog.in(trx).record([
        {
          type: 'contact.unsubscribed',
          tenantId,
          at,
          contactId: contact?.id ?? null,
          data: { contactId: contact?.id ?? null, email, externalId: contact?.external_id ?? null, locale: contact?.locale ?? null, campaignId: null, how: 'api', reason: body.reason },
        },
      ]);
      return true;
    });
    const row = await this.deps.suppressions.get(tenantId, email);
    if (!row) throw notFound('Suppression');
    return { created, suppression: toSuppression(row) };
  }

  async remove(tenantId: string, email: string): Promise<void> {
    const address = normaliseEmail(email);
    if (!address || !(await this.deps.suppressions.remove(tenantId, address))) throw notFound('Suppression');
  }
}

const toSuppression = (row: SuppressionRow): Suppression => ({
  email: row.email,
  reason: row.reason as SuppressionReason,
  createdAt: row.created_at,
});
