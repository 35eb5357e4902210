import { CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';
import { ContactRepository } from '../../src/contacts/contact.repository.js';
import { prefixRange } from '../../src/contacts/contact-search.js';
import { contactSearch } from '../../src/db/migrations/0023_contact_search.js';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestTenant } from '../helpers/app.js';
import { addContacts } from '../helpers/flow.js';

describe('prefixRange', () => {
  it('folds ASCII only and ends the range after the last character', () => {
    expect(prefixRange('AnA')).toEqual({ from: 'ana', to: 'anb' });
    expect(prefixRange('50%_')).toEqual({ from: '50%_', to: '50%`' });
    expect(prefixRange('Élo')).toEqual({ from: 'Élo', to: 'Élp' });
    expect(prefixRange('a\u{10ffff}')).toEqual({ from: 'a\u{10ffff}', to: null });
    expect(prefixRange('a\ud7ff')).toEqual({ from: 'a\ud7ff', to: 'a\ue000' });
  });
});

describe.each(DIALECTS)('contact search GET /contacts?q= (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  let tenant: TestTenant;
  let other: TestTenant;

  const search = (q: string, extra = '', who: TestTenant = tenant) =>
    ctx.request('GET', `/contacts?q=${encodeURIComponent(q)}${extra}`, { tenant: who });
  const emailsOf = (res: { json(): unknown }) => ((res.json() as { data: { email: string }[] }).data.map((c) => c.email)).sort();

  it('loads contacts (and another tenant with look-alikes)', async () => {
    tenant = await ctx.newTenant('search');
    other = await ctx.newTenant('other');
    await addContacts(ctx, tenant, [
      { email: 'Ana.Perez@example.com', externalId: 'CRM-001', locale: 'es' },
      { email: 'anabel@example.com', externalId: 'crm-002', locale: 'en' },
      { email: 'bob@example.com', externalId: 'ANA-77', locale: 'en', optIn: false },
      { email: '50%_off@example.com', externalId: 'promo_1' },
      { email: '50xxoff@example.com', externalId: 'promoX1' },
      { email: 'elodie@example.com', externalId: 'Élodie-1' },
    ]);
    await addContacts(ctx, other, [{ email: 'ana@other.test', externalId: 'ana-other' }]);
  });

  it('matches a case-insensitive prefix of the email or the externalId, within the tenant', async () => {
    const res = await search('ANA');
    expect(res.statusCode, res.body).toBe(200);
    expect(emailsOf(res)).toEqual(['Ana.Perez@example.com', 'anabel@example.com', 'bob@example.com']);
    expect(res.json().meta.total).toBe(3);
    expect(emailsOf(await search('crm-00'))).toEqual(['Ana.Perez@example.com', 'anabel@example.com']);
    expect(emailsOf(await search('  ana.p  '))).toEqual(['Ana.Perez@example.com']);
    expect(emailsOf(await search('nabel'))).toEqual([]); // a prefix, not a substring
    expect(emailsOf(await search('ANABEL@'))).toEqual(['anabel@example.com']); // '@' + 1 is 'A': the bound is not folded
    expect(emailsOf(await search('ana', '', other))).toEqual(['ana@other.test']);
  });

  it('treats % and _ as ordinary characters', async () => {
    expect(emailsOf(await search('50%_'))).toEqual(['50%_off@example.com']);
    expect(emailsOf(await search('promo_'))).toEqual(['50%_off@example.com']);
    expect(emailsOf(await search('%'))).toEqual([]);
    expect(emailsOf(await search('_'))).toEqual([]);
    expect(emailsOf(await search('\\'))).toEqual([]);
  });

  it('matches non-ASCII characters exactly (case folding is ASCII only, on both engines)', async () => {
    expect(emailsOf(await search('Élo'))).toEqual(['elodie@example.com']);
    expect(emailsOf(await search('éLO'))).toEqual([]);
  });

  it('combines with the other filters and both pagings', async () => {
    expect(emailsOf(await search('ana', '&locale=en'))).toEqual(['anabel@example.com', 'bob@example.com']);
    expect(emailsOf(await search('ana', '&optIn=false'))).toEqual(['bob@example.com']);
    const page1 = await search('ana', '&limit=2&page=1');
    const page2 = await search('ana', '&limit=2&page=2');
    expect(page1.json().meta).toMatchObject({ total: 3, totalPages: 2 });
    expect([...emailsOf(page1), ...emailsOf(page2)].sort()).toEqual(['Ana.Perez@example.com', 'anabel@example.com', 'bob@example.com']);
    const first = await search('ana', '&limit=2&cursor=');
    const next = first.json().meta.nextCursor as string;
    expect(next).toBeTruthy();
    const second = await search('ana', `&limit=2&cursor=${encodeURIComponent(next)}`);
    expect([...emailsOf(first), ...emailsOf(second)].sort()).toEqual(['Ana.Perez@example.com', 'anabel@example.com', 'bob@example.com']);
    expect(second.json().meta.nextCursor).toBeNull();
  });

  it('refuses a blank, too long or control-character q with 400 VALIDATION_ERROR', async () => {
    for (const q of ['', '   ', 'a'.repeat(255), 'a\u0000b', 'a\nb', 'a\u007f']) {
      const res = await search(q);
      expect(res.statusCode, JSON.stringify(q)).toBe(400);
      expect(errorBody(res).code).toBe('VALIDATION_ERROR');
    }
    expect((await search('a'.repeat(254))).statusCode).toBe(200);
  });

  it('needs contacts:read', async () => {
    const writer = await tenant.keyWith(['contacts:write']);
    const res = await ctx.request('GET', '/contacts?q=ana', { headers: writer.headers });
    expect(res.statusCode).toBe(403);
  });

  it('uses the search indexes (EXPLAIN)', async () => {
    // Enough rows for a cost-based planner to prefer the indexes, with statistics.
    await addContacts(
      ctx,
      tenant,
      Array.from({ length: 3000 }, (_, i) => ({ email: `filler${i}@bulk.test`, externalId: `ext-${i}` })),
    );
    const db = ctx.container.database.db;
    // The list's own query (ordered by id, a page of 50): the search indexes, not a walk of the tenant in id order.
    const query = new ContactRepository(db, dialect).pageQuery(tenant.tenantId, { q: 'Ana' }, { page: 1, limit: 50 }).compile();
    const plan = await db.connection().execute(async (conn) => {
      await conn.executeQuery(CompiledQuery.raw('analyze contacts'));
      const prefix = dialect === 'postgres' ? 'explain ' : 'explain query plan ';
      const { rows } = await conn.executeQuery(CompiledQuery.raw(prefix + query.sql, [...query.parameters]));
      return JSON.stringify(rows);
    });
    expect(plan).toContain('contacts_email_search_idx');
    expect(plan).toContain('contacts_external_id_search_idx');
    expect(plan).not.toMatch(/Seq Scan|SCAN contacts(?! USING)|contacts_tenant_id_idx|contacts_pkey/);
  });

  it('migration 0023 goes down and up again', async () => {
    const db = ctx.container.database.db;
    const migration = contactSearch(dialect);
    await migration.down(db);
    const names = async () => (await db.introspection.getTables()).length; // the tables stay
    expect(await names()).toBeGreaterThan(0);
    await migration.up(db);
    expect(emailsOf(await search('ana.p'))).toEqual(['Ana.Perez@example.com']);
  });
});
