import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { selectMatching } from '../../src/audience/audience.repository.js';
import type { AudienceFilter } from '../../src/audience/audience-filter.js';
import type { DB } from '../../src/db/schema.js';
import { DIALECTS } from '../helpers/databases.js';
import { useTestApp } from '../helpers/app.js';

const INJECTION = "a'); DROP TABLE contacts;--";
/** A filter key "__proto__" as a campaign's stored filter would carry it (an own property). */
const protoKey = JSON.parse('{"__proto__": "x"}') as Record<string, string>;

const CONTACTS = [
  { externalId: 'c1', locale: 'en', optIn: true, projectId: 'p1', attributes: { plan: 'pro', seats: 1, beta: true, 'x.y': 'dot', '$.a': 'dollar' } },
  { externalId: 'c2', locale: 'en', optIn: false, projectId: 'p1', attributes: { plan: 'free', seats: '1', beta: 'true' } },
  { externalId: 'c3', locale: 'es-MX', optIn: true, projectId: 'p2', attributes: { plan: 'pro', seats: 1.5, beta: false } },
  { externalId: 'c4', locale: 'es', optIn: true, attributes: { plan: 'pro', nested: { a: 1 }, seats: 10 } },
  { externalId: 'c5', locale: 'fr', optIn: true, projectId: 'p1', attributes: {} },
  { externalId: 'c6', locale: 'en', optIn: true, projectId: 'p1', attributes: { plan: 'pro', seats: 1, beta: true } }, // suppressed
  { externalId: 'c8', locale: 'en', optIn: true, projectId: 'p1', attributes: { [INJECTION]: 'boom', '"': 'quote' } },
  { externalId: 'c10', locale: 'en', optIn: false, attributes: { plan: 'pro', seats: 1 } },
  { externalId: 'c11', optIn: true, attributes: { count: 0, flag: false, empty: '' } },
];
const ALL = ['c1', 'c2', 'c3', 'c4', 'c5', 'c7', 'c8', 'c10', 'c11'];

const CASES: [string, AudienceFilter | null, string[]][] = [
  ['no filter', null, ALL],
  ['empty filter', {}, ALL],
  ['locale', { locale: 'en' }, ['c1', 'c2', 'c8', 'c10']],
  ['locale, normalised and exact (no language fallback)', { locale: 'es-mx' }, ['c3']],
  ['optIn true', { optIn: true }, ['c1', 'c3', 'c4', 'c5', 'c7', 'c8', 'c11']],
  ['optIn false', { optIn: false }, ['c2', 'c10']],
  ['projectId', { projectId: 'p1' }, ['c1', 'c2', 'c5', 'c8']],
  ['string attribute', { attributes: { plan: 'pro' } }, ['c1', 'c3', 'c4', 'c10']],
  ['number 1 is not "1"', { attributes: { seats: 1 } }, ['c1', 'c10']],
  ['"1" is not number 1', { attributes: { seats: '1' } }, ['c2']],
  ['true is not "true"', { attributes: { beta: true } }, ['c1']],
  ['"true" is not true', { attributes: { beta: 'true' } }, ['c2']],
  ['false', { attributes: { beta: false } }, ['c3']],
  ['real number', { attributes: { seats: 1.5 } }, ['c3']],
  ['zero, false and empty string are values', { attributes: { count: 0, flag: false, empty: '' } }, ['c11']],
  ['dotted key is a literal key', { attributes: { 'x.y': 'dot' } }, ['c1']],
  ['JSON-path-looking key is a literal key', { attributes: { '$.a': 'dollar' } }, ['c1']],
  ['SQL in a key', { attributes: { [INJECTION]: 'boom' } }, ['c8']],
  ['quote key', { attributes: { '"': 'quote' } }, ['c8']],
  ['__proto__ key', { attributes: protoKey }, ['c7']],
  ['nested keys are not top-level keys', { attributes: { a: 1 } }, []],
  ['object values never equal scalars', { attributes: { nested: '{"a":1}' } }, []],
  ['SQL in a value', { attributes: { plan: "pro' OR '1'='1" } }, []],
  ['SQL in a key, no match', { attributes: { "plan' OR 1=1 --": 'pro' } }, []],
  ['everything at once', { locale: 'en', optIn: true, projectId: 'p1', attributes: { plan: 'pro', seats: 1 } }, ['c1']],
];

describe.each(DIALECTS)('selectMatching (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  let tenantId = '';

  it('loads the data set', async () => {
    const tenant = await ctx.newTenant('audience');
    tenantId = tenant.tenantId;
    const contacts = CONTACTS.map(({ externalId, ...rest }) => ({ email: `${externalId}@example.com`, externalId, ...rest }));
    const bulk = await ctx.request('POST', '/contacts/bulk', { tenant, body: { contacts } });
    expect(bulk.json().failed).toBe(0);
    // JSON bodies refuse "__proto__"; a CSV column of that name is an ordinary attribute.
    const csv = await ctx.request('POST', '/contacts/import', {
      tenant,
      headers: { 'content-type': 'text/csv' },
      payload: 'email,externalId,optIn,__proto__\nc7@example.com,c7,true,x\n',
    });
    expect(csv.json().created).toBe(1);
    await ctx.request('POST', '/suppressions', { tenant, body: { email: 'c6@example.com', reason: 'unsubscribe' } });
    // Another tenant's twin of c1 must never show up.
    const other = await ctx.newTenant('other');
    await ctx.request('PUT', '/contacts', { tenant: other, body: { ...contacts[0], email: 'twin@example.com' } });
  });

  it.each(CASES)('%s', async (_name, filter, expected) => {
    const rows = await selectMatching(ctx.container.database.db, dialect, tenantId, filter)
      .select('contacts.external_id')
      .execute();
    expect(rows.map((row) => row.external_id).sort()).toEqual([...expected].sort());
  });

  it('composes: GROUP BY and INSERT … SELECT-ready', async () => {
    const rows = await selectMatching(ctx.container.database.db, dialect, tenantId, { optIn: true })
      .select(['contacts.locale'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .groupBy('contacts.locale')
      .execute();
    const byLocale = Object.fromEntries(rows.map((row) => [String(row.locale), Number(row.n)]));
    expect(byLocale).toEqual({ en: 2, 'es-MX': 1, es: 1, fr: 1, null: 2 });
  });

  it('left every table intact', async () => {
    expect(await ctx.count('contacts')).toBe(11);
    expect(await ctx.count('suppressions')).toBe(1);
    expect(await ctx.count('tenants')).toBeGreaterThanOrEqual(2);
  });
});

describe('selectMatching SQL text', () => {
  const filter: AudienceFilter = { locale: 'ca-ES-valencia', attributes: { [INJECTION]: "v'; --", 'x.y': 1, flag: true } };
  const dialects = {
    sqlite: new Kysely<DB>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) }),
    postgres: new Kysely<DB>({ dialect: new PostgresDialect({ pool: new pg.Pool({ max: 1 }) }) }),
  };

  it.each(Object.keys(dialects) as (keyof typeof dialects)[])('binds every key and value (%s)', (dialect) => {
    const compiled = selectMatching(dialects[dialect], dialect, 'tenant-1', filter).select(sql.lit(1).as('one')).compile();
    for (const text of [INJECTION, "v'; --", 'x.y', 'tenant-1', 'valencia']) expect(compiled.sql).not.toContain(text);
    expect(compiled.parameters).toEqual(expect.arrayContaining(['tenant-1', 'ca-ES-valencia']));
    expect(compiled.parameters.some((p) => typeof p === 'string' && p.includes(INJECTION))).toBe(true);
    if (dialect === 'postgres') expect(compiled.sql).toContain('@>');
    else expect(compiled.sql).toContain('json_each');
  });
});
