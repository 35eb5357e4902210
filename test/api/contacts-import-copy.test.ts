import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { ContactImporter } from '../../src/contacts/contact.import.js';
import { COPY_MIN_ROWS, ContactRepository, type NewContactRow } from '../../src/contacts/contact.repository.js';
import { newId } from '../../src/shared/ids.js';
import { toContact } from '../../src/contacts/contact.service.js';
import { DIALECTS } from '../helpers/databases.js';
import { useTestApp, type TestTenant } from '../helpers/app.js';

/**
 * Imports large enough to be written through COPY on PostgreSQL
 * (contact.copy.ts; at least COPY_MIN_ROWS rows per batch), checked on both
 * engines: values COPY's text format gives a meaning to (tab, line ends,
 * backslash, "\N", "\.") come back exactly as sent, and a batch the
 * database refuses is written again in parts so that only the refused row fails.
 */
const HOSTILE = [
  'tab\there',
  'line\nbreak',
  'carriage\rreturn',
  'crlf\r\nend',
  'back\\slash',
  '\\N',
  '\\\\N',
  'N\\',
  '\\.',
  '\\',
  'ends with a backslash\\',
  '\\t is not a tab',
  '\\n is not a newline',
  '"double" and \'single\' quotes',
  'comma, semicolon; pipe|',
  'é ñ 中文 😀 \u2028 \u200b \uFEFF',
  '\u0001\u0007\u001b\u007f control',
  '  padded  ',
  '{"json": [1, "\\u0041"]}',
  'null',
];

const ROWS = COPY_MIN_ROWS + 100;

const hostile = (i: number) => HOSTILE[i % HOSTILE.length]!;

describe.each(DIALECTS)('contact import through COPY-sized batches (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  const importBody = (tenant: TestTenant, contentType: string, payload: string) =>
    ctx.request('POST', '/contacts/import', { tenant, headers: { 'content-type': contentType }, payload });

  const stored = async (tenantId: string) => {
    const rows = await ctx.container.database.db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).execute();
    return new Map(rows.map((row) => [row.email, toContact(row)]));
  };

  it('upsertByEmail stores hostile values in every text column exactly (through COPY on PostgreSQL, with no fallback to hide a fault)', async () => {
    const tenant = await ctx.newTenant();
    const database = ctx.container.database;
    const repository = new ContactRepository(database.db, dialect);
    const now = new Date().toISOString();
    const rows: NewContactRow[] = Array.from({ length: ROWS }, (_, i) => ({
      id: newId(),
      tenant_id: tenant.tenantId,
      email: `u${i}@hostile.example`,
      external_id: i % 5 === 0 ? null : `${i}:${hostile(i)}`,
      locale: hostile(i + 1),
      opt_in: i % 2,
      attributes: JSON.stringify({ [hostile(i + 2) || 'k']: hostile(i + 3), list: [hostile(i + 4), i] }),
      consent_version: hostile(i + 5),
      source: i % 7 === 0 ? null : hostile(i + 6),
      project_id: hostile(i + 7),
      created_at: now,
      updated_at: now,
    }));
    const upsert = (columns: Parameters<ContactRepository['upsertByEmail']>[2]) =>
      database.clientTransaction
        ? database.clientTransaction((trx, client) => repository.in(trx, client).upsertByEmail(tenant.tenantId, rows, columns))
        : database.db.transaction().execute((trx) => repository.in(trx).upsertByEmail(tenant.tenantId, rows, columns));
    const check = async () => {
      const contacts = await stored(tenant.tenantId);
      expect(contacts.size).toBe(ROWS);
      for (const row of rows) {
        expect(contacts.get(row.email), row.email).toMatchObject({
          externalId: row.external_id,
          locale: row.locale,
          optIn: row.opt_in === 1,
          attributes: JSON.parse(row.attributes),
          consentVersion: row.consent_version,
          source: row.source,
          projectId: row.project_id,
        });
      }
    };
    const created = await upsert([]);
    expect(new Set(created.map((row) => row.id))).toEqual(new Set(rows.map((row) => row.id)));
    await check();
    // The update path: the same addresses; the columns named are overwritten (with other hostile values), the others kept.
    rows.forEach((row, i) => {
      row.id = newId();
      row.source = hostile(i + 11);
      row.attributes = JSON.stringify({ again: hostile(i + 12) });
    });
    const updated = await upsert(['source', 'attributes']);
    expect(updated).toHaveLength(ROWS);
    expect(updated.some((row) => rows.some((r) => r.id === row.id))).toBe(false);
    await check();
  });

  it('round-trips tabs, line ends, backslashes, "\\N", quotes and any Unicode exactly, on create and on update', async () => {
    const tenant = await ctx.newTenant();
    const item = (i: number, round: number) => ({
      email: `h${i}@hostile.example`,
      externalId: `ext-${i}-${hostile(i)}`,
      source: hostile(i + round + 1),
      consentVersion: hostile(i + round + 2),
      attributes: { [hostile(i + round + 3) || 'k']: hostile(i + round), plain: `${round}`, n: i, flag: i % 2 === 0, nothing: null },
    });
    for (const round of [0, 7]) {
      const items = Array.from({ length: ROWS }, (_, i) => item(i, round));
      const res = await importBody(tenant, 'application/x-ndjson', items.map((i) => JSON.stringify(i)).join('\n'));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject(round === 0 ? { created: ROWS, updated: 0, failed: 0 } : { created: 0, updated: ROWS, failed: 0 });
      const contacts = await stored(tenant.tenantId);
      expect(contacts.size).toBe(ROWS);
      for (const expected of items) {
        const contact = contacts.get(expected.email);
        expect(contact, expected.email).toMatchObject({
          externalId: expected.externalId,
          source: expected.source,
          consentVersion: expected.consentVersion,
          attributes: expected.attributes,
        });
      }
    }
  });

  it('round-trips hostile CSV cells (quoted tabs, line ends, backslashes, "\\N") exactly', async () => {
    const tenant = await ctx.newTenant();
    const quote = (cell: string) => `"${cell.replace(/"/g, '""')}"`;
    const lines = ['email,source,note,"tab\tcolumn"'];
    for (let i = 0; i < ROWS; i++) lines.push([`c${i}@hostile.example`, hostile(i + 2), hostile(i), hostile(i + 5)].map(quote).join(','));
    const res = await importBody(tenant, 'text/csv', `${lines.join('\r\n')}\r\n`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ processed: ROWS, created: ROWS, failed: 0 });
    const contacts = await stored(tenant.tenantId);
    for (let i = 0; i < ROWS; i++) {
      const contact = contacts.get(`c${i}@hostile.example`)!;
      // Known columns are trimmed and empty cells are "not given" (contact.import.ts); attributes are kept as sent.
      const attributes: Record<string, string> = {};
      if (hostile(i) !== '') attributes.note = hostile(i);
      if (hostile(i + 5) !== '') attributes['tab\tcolumn'] = hostile(i + 5);
      expect(contact.source, `line ${i + 2}`).toBe(hostile(i + 2).trim() || null);
      expect(contact.attributes, `line ${i + 2}`).toEqual(attributes);
    }
  });

  it('writes a batch the database refuses again in parts: the refused row fails alone, with its line, and the rest import', async () => {
    const tenant = await ctx.newTenant();
    const { db } = ctx.container.database;
    // A refusal no check of ours foresees: the database's own constraint on one value.
    if (dialect === 'postgres') {
      await sql`alter table contacts add constraint test_refused_source check (source is distinct from 'refuse me')`.execute(db);
    } else {
      for (const event of ['insert', 'update']) {
        await sql
          .raw(
            `create trigger test_refused_source_${event} before ${event} on contacts when new.source = 'refuse me' ` +
              `begin select raise(abort, 'refused source'); end`,
          )
          .execute(db);
      }
    }
    try {
      const refused = [37, ROWS - 5];
      const lines = ['email,externalId,source'];
      for (let i = 0; i < ROWS; i++) lines.push(`r${i}@refuse.example,r-${i},${refused.includes(i) ? 'refuse me' : 'fine'}`);
      const res = await importBody(tenant, 'text/csv', `${lines.join('\n')}\n`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ processed: ROWS, created: ROWS - refused.length, updated: 0, failed: refused.length });
      expect(body.errors).toEqual(refused.map((i) => ({ line: i + 2, message: 'the database refused this contact' })));
      const contacts = await stored(tenant.tenantId);
      expect(contacts.size).toBe(ROWS - refused.length);
      for (const i of refused) expect(contacts.has(`r${i}@refuse.example`)).toBe(false);
      expect(contacts.get('r38@refuse.example')).toMatchObject({ externalId: 'r-38', source: 'fine' });

      // The same refusal on the update path (ON CONFLICT DO UPDATE).
      const update = ['email,source', ...Array.from({ length: ROWS }, (_, i) => `r${i}@refuse.example,${i === 100 ? 'refuse me' : 'updated'}`)];
      const again = (await importBody(tenant, 'text/csv', `${update.join('\n')}\n`)).json();
      expect(again).toMatchObject({ processed: ROWS, created: refused.length, updated: ROWS - refused.length - 1, failed: 1 });
      expect(again.errors).toEqual([{ line: 102, message: 'the database refused this contact' }]);
      expect((await stored(tenant.tenantId)).get('r100@refuse.example')?.source).toBe('fine');

      // Batches written while the next is read: a refusal in the first batch is reported
      // after the second batch's bad rows were, yet the report keeps the lowest 100 lines, in order.
      const importer = new ContactImporter({ contacts: ctx.container.contacts, batchSize: COPY_MIN_ROWS });
      const mixed = ['email,source'];
      for (let i = 0; i < 2 * COPY_MIN_ROWS + 150; i++) {
        if (i === 10) mixed.push(`m${i}@refuse.example,refuse me`);
        else if (i >= COPY_MIN_ROWS) mixed.push(`not-an-address-${i},fine`);
        else mixed.push(`m${i}@refuse.example,fine`);
      }
      const report = await importer.run(tenant.tenantId, 'csv', Readable.from([Buffer.from(`${mixed.join('\n')}\n`)]));
      expect(report).toMatchObject({ created: COPY_MIN_ROWS - 1, failed: COPY_MIN_ROWS + 151 });
      expect(report.errors).toHaveLength(100);
      expect(report.errors[0]).toEqual({ line: 12, message: 'the database refused this contact' });
      expect(report.errors.slice(1).map((e) => e.line)).toEqual(Array.from({ length: 99 }, (_, i) => COPY_MIN_ROWS + 2 + i));
    } finally {
      if (dialect === 'postgres') await sql`alter table contacts drop constraint test_refused_source`.execute(db);
      else for (const event of ['insert', 'update']) await sql.raw(`drop trigger test_refused_source_${event}`).execute(db);
    }
  });
});
