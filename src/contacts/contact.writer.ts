import { newId } from '../shared/ids.js';
import type { UpsertValues } from './contact.input.js';
import type { ContactRepository, MatchRow, NewContactRow, UpdatableColumn } from './contact.repository.js';

export type WriteOutcome =
  | { status: 'created' | 'updated'; id: string }
  | { status: 'failed'; code: 'CONFLICT' | 'VALIDATION_ERROR'; message: string };

interface Pending {
  row: NewContactRow;
  columns: Set<UpdatableColumn>;
  /** Items merged into this row, in order; the first one decides created/updated. */
  items: number[];
}

interface Known {
  id: string;
  externalId: string | null;
}

/**
 * Writes a batch of upserts with the contract's matching rule — by
 * externalId when given, else by email — using one multi-row
 * INSERT … ON CONFLICT (tenant_id, email) per set of given fields instead of
 * a query per item. Runs inside the caller's transaction.
 *
 * Items are resolved in order against what the database held (one query for
 * the batch's external ids and their addresses) plus what earlier items of
 * the batch did, so duplicates inside a batch behave as if sent one by one:
 * - externalId known, same address → update that contact;
 * - externalId known, other address → that contact changes address (one
 *   UPDATE; refused if the new address belongs to another contact);
 * - externalId unknown → the contact with that address adopts it, unless it
 *   already has a different externalId (refused); else a new contact.
 */
export async function writeContacts(
  contacts: ContactRepository,
  tenantId: string,
  items: readonly UpsertValues[],
  now: string,
): Promise<WriteOutcome[]> {
  const outcomes: WriteOutcome[] = new Array(items.length);
  const withExternalId = items.filter((item) => typeof item.external_id === 'string');
  const snapshot = await contacts.findForMatching(
    tenantId,
    [...new Set(withExternalId.map((item) => item.email))],
    [...new Set(withExternalId.map((item) => item.external_id as string))],
  );
  const byEmail = new Map<string, Known>();
  const byExternalId = new Map<string, string>();
  const remember = (row: MatchRow) => {
    byEmail.set(row.email, { id: row.id, externalId: row.external_id });
    if (row.external_id !== null) byExternalId.set(row.external_id, row.email);
  };
  snapshot.forEach(remember);

  const pending = new Map<string, Pending>();

  const flush = async () => {
    const groups = new Map<string, Pending[]>();
    for (const entry of pending.values()) {
      const signature = [...entry.columns].sort().join(',');
      const group = groups.get(signature);
      if (group) group.push(entry);
      else groups.set(signature, [entry]);
    }
    for (const group of groups.values()) {
      const columns = [...group[0]!.columns];
      const written = new Map((await contacts.upsertByEmail(tenantId, group.map((entry) => entry.row), columns)).map((row) => [row.email, row]));
      for (const entry of group) {
        const row = written.get(entry.row.email);
        if (!row) throw new Error(`upsert returned no row for a contact of tenant ${tenantId}`);
        remember(row);
        entry.items.forEach((item, position) => {
          const created = position === 0 && row.id === entry.row.id;
          outcomes[item] = { status: created ? 'created' : 'updated', id: row.id };
        });
      }
    }
    pending.clear();
  };

  const externalIdOf = (email: string): string | null | undefined => {
    const entry = pending.get(email);
    if (entry?.columns.has('external_id')) return entry.row.external_id;
    return byEmail.get(email)?.externalId;
  };

  for (const [index, item] of items.entries()) {
    const externalId = typeof item.external_id === 'string' ? item.external_id : undefined;
    if (externalId !== undefined) {
      const matchedEmail = byExternalId.get(externalId);
      if (matchedEmail !== undefined && matchedEmail !== item.email) {
        if (pending.has(item.email) || byEmail.has(item.email)) {
          outcomes[index] = conflict(`email ${item.email} already belongs to another contact`);
          continue;
        }
        await flush();
        const known = byEmail.get(matchedEmail)!;
        await contacts.updateById(tenantId, known.id, item, now);
        byEmail.delete(matchedEmail);
        remember({ id: known.id, email: item.email, external_id: externalId });
        outcomes[index] = { status: 'updated', id: known.id };
        continue;
      }
      if (matchedEmail === undefined) {
        const current = externalIdOf(item.email);
        if (current && current !== externalId) {
          outcomes[index] = conflict(`email ${item.email} already belongs to a contact with another externalId`);
          continue;
        }
        byExternalId.set(externalId, item.email);
      }
    }
    addPending(pending, tenantId, index, item, now);
  }
  await flush();
  return outcomes;
}

function addPending(pending: Map<string, Pending>, tenantId: string, index: number, item: UpsertValues, now: string): void {
  let entry = pending.get(item.email);
  if (!entry) {
    entry = {
      row: {
        id: newId(),
        tenant_id: tenantId,
        email: item.email,
        external_id: null,
        locale: null,
        opt_in: 0,
        attributes: '{}',
        consent_version: null,
        source: null,
        project_id: null,
        created_at: now,
        updated_at: now,
      },
      columns: new Set(),
      items: [],
    };
    pending.set(item.email, entry);
  }
  for (const [column, value] of Object.entries(item) as [keyof UpsertValues, never][]) {
    if (column === 'email' || value === undefined) continue;
    entry.row[column] = value;
    entry.columns.add(column);
  }
  entry.items.push(index);
}

const conflict = (message: string): WriteOutcome => ({ status: 'failed', code: 'CONFLICT', message });
