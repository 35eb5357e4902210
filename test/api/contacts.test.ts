import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestTenant } from '../helpers/app.js';
import { repositoriesOf } from '../helpers/factories.js';

describe.each(DIALECTS)('contacts API (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  const put = (tenant: TestTenant, body: unknown) => ctx.request('PUT', '/contacts', { tenant, body });

  it('creates a contact with PUT, normalising email and locale, and answers 200', async () => {
    const tenant = await ctx.newTenant();
    const res = await put(tenant, {
      email: '  Ana.Perez@Example.COM ',
      externalId: 'user-1',
      locale: 'es-mx',
      optIn: true,
      attributes: { plan: 'pro', seats: 3, beta: true, address: { city: 'Madrid' } },
      consentVersion: 'v2',
      source: 'signup',
      projectId: 'proj-1',
    });
    expect(res.statusCode).toBe(200);
    const contact = res.json();
    expect(contact).toMatchObject({
      email: 'Ana.Perez@example.com',
      externalId: 'user-1',
      locale: 'es-MX',
      optIn: true,
      attributes: { plan: 'pro', seats: 3, beta: true, address: { city: 'Madrid' } },
      consentVersion: 'v2',
      source: 'signup',
      projectId: 'proj-1',
    });
    expect(contact.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(contact.createdAt).toBe(contact.updatedAt);

    const got = await ctx.request('GET', `/contacts/${contact.id}`, { tenant });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(contact);
    const byExternal = await ctx.request('GET', '/contacts/user-1', { tenant });
    expect(byExternal.json()).toEqual(contact);
  });

  it('defaults: optIn false, attributes {}, nullable fields null', async () => {
    const tenant = await ctx.newTenant();
    const res = await put(tenant, { email: 'min@example.com' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      email: 'min@example.com',
      externalId: null,
      locale: null,
      optIn: false,
      attributes: {},
      consentVersion: null,
      source: null,
      projectId: null,
    });
  });

  it('upserts by email when no externalId is given, keeping fields not sent', async () => {
    const tenant = await ctx.newTenant();
    const first = (await put(tenant, { email: 'a@example.com', locale: 'en', optIn: true, attributes: { x: 1 } })).json();
    ctx.clock.advance(1000);
    const second = await put(tenant, { email: 'a@EXAMPLE.com', source: 'import' });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ id: first.id, locale: 'en', optIn: true, attributes: { x: 1 }, source: 'import' });
    expect(second.json().updatedAt > first.updatedAt).toBe(true);
    expect(second.json().createdAt).toBe(first.createdAt);
    // attributes, when given, replace the stored object
    const third = await put(tenant, { email: 'a@example.com', attributes: { y: 'z' } });
    expect(third.json().attributes).toEqual({ y: 'z' });
  });

  it('matches on externalId first, so an externalId can change its address', async () => {
    const tenant = await ctx.newTenant();
    const first = (await put(tenant, { email: 'old@example.com', externalId: 'u-9' })).json();
    const moved = await put(tenant, { email: 'new@example.com', externalId: 'u-9' });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ id: first.id, email: 'new@example.com' });
    expect(await ctx.count('contacts')).toBeGreaterThanOrEqual(1);
    const list = (await ctx.request('GET', '/contacts', { tenant })).json();
    expect(list.meta.total).toBe(1);
  });

  it('adopts an existing address without externalId; refuses one that has another externalId (409)', async () => {
    const tenant = await ctx.newTenant();
    const plain = (await put(tenant, { email: 'p@example.com' })).json();
    const adopted = await put(tenant, { email: 'p@example.com', externalId: 'ext-p' });
    expect(adopted.json()).toMatchObject({ id: plain.id, externalId: 'ext-p' });

    const other = await put(tenant, { email: 'p@example.com', externalId: 'ext-other' });
    expect(other.statusCode).toBe(409);
    expect(errorBody(other).code).toBe('CONFLICT');

    // externalId of contact A moving to B's address
    await put(tenant, { email: 'b@example.com', externalId: 'ext-b' });
    const clash = await put(tenant, { email: 'b@example.com', externalId: 'ext-p' });
    expect(clash.statusCode).toBe(409);
    expect((await ctx.request('GET', '/contacts/ext-p', { tenant })).json().email).toBe('p@example.com');
  });

  it('rejects malformed contacts with 400 details and writes nothing', async () => {
    const tenant = await ctx.newTenant();
    const before = await ctx.count('contacts');
    const bad: [string, unknown][] = [
      ['missing email', {}],
      ['bad email', { email: 'not-an-email' }],
      ['email without dot domain', { email: 'a@localhost' }],
      ['email too long', { email: `${'a'.repeat(60)}@${'b'.repeat(200)}.com` }],
      ['bad locale', { email: 'x@example.com', locale: 'english!' }],
      ['externalId too long', { email: 'x@example.com', externalId: 'e'.repeat(129) }],
      ['empty externalId', { email: 'x@example.com', externalId: '' }],
      ['optIn as string', { email: 'x@example.com', optIn: 'true' }],
      ['attributes array', { email: 'x@example.com', attributes: [1, 2] }],
      ['too many attributes', { email: 'x@example.com', attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }],
      ['attribute key too long', { email: 'x@example.com', attributes: { ['k'.repeat(129)]: 1 } }],
      ['attributes too big', { email: 'x@example.com', attributes: { big: 'x'.repeat(9000) } }],
      ['consentVersion too long', { email: 'x@example.com', consentVersion: 'v'.repeat(65) }],
      ['source too long', { email: 'x@example.com', source: 's'.repeat(65) }],
      ['projectId too long', { email: 'x@example.com', projectId: 'p'.repeat(65) }],
      ['unknown field', { email: 'x@example.com', nickname: 'x' }],
    ];
    for (const [name, body] of bad) {
      const res = await put(tenant, body);
      expect(res.statusCode, name).toBe(400);
      const error = errorBody(res);
      expect(error.code, name).toBe('VALIDATION_ERROR');
      expect(error.details?.length, name).toBeGreaterThan(0);
    }
    const proto = await ctx.request('PUT', '/contacts', {
      tenant,
      headers: { 'content-type': 'application/json' },
      payload: '{"email":"x@example.com","attributes":{"__proto__":{"admin":true}}}',
    });
    expect(proto.statusCode).toBe(400);
    expect(await ctx.count('contacts')).toBe(before);
  });

  it('PATCH changes fields, clears with null, and refuses taken email / externalId', async () => {
    const tenant = await ctx.newTenant();
    const a = (await put(tenant, { email: 'a@example.com', externalId: 'A', locale: 'fr', source: 's' })).json();
    await put(tenant, { email: 'b@example.com', externalId: 'B' });

    const patched = await ctx.request('PATCH', `/contacts/${a.id}`, {
      tenant,
      body: { locale: 'CA', optIn: true, source: null, externalId: 'A2', attributes: { tier: 'gold' } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ locale: 'ca', optIn: true, source: null, externalId: 'A2', attributes: { tier: 'gold' } });

    const byExternal = await ctx.request('PATCH', '/contacts/A2', { tenant, body: { externalId: null } });
    expect(byExternal.statusCode).toBe(200);
    expect(byExternal.json().externalId).toBeNull();

    const takenEmail = await ctx.request('PATCH', `/contacts/${a.id}`, { tenant, body: { email: 'b@EXAMPLE.com' } });
    expect(takenEmail.statusCode).toBe(409);
    const takenExternal = await ctx.request('PATCH', `/contacts/${a.id}`, { tenant, body: { externalId: 'B' } });
    expect(takenExternal.statusCode).toBe(409);
    expect(errorBody(takenExternal).code).toBe('CONFLICT');

    const empty = await ctx.request('PATCH', `/contacts/${a.id}`, { tenant, body: {} });
    expect(empty.statusCode).toBe(400);
    const badLocale = await ctx.request('PATCH', `/contacts/${a.id}`, { tenant, body: { locale: 'x_y' } });
    expect(badLocale.statusCode).toBe(400);
    const after = (await ctx.request('GET', `/contacts/${a.id}`, { tenant })).json();
    expect(after).toMatchObject({ email: 'a@example.com', externalId: null, locale: 'ca' });

    const missing = await ctx.request('PATCH', '/contacts/01a21603-0000-7000-8000-000000000000', { tenant, body: { optIn: true } });
    expect(missing.statusCode).toBe(404);
  });

  it('lists with page mode, filters, and limit bounds', async () => {
    const tenant = await ctx.newTenant();
    for (let i = 0; i < 7; i++) {
      await put(tenant, {
        email: `l${i}@example.com`,
        locale: i % 2 === 0 ? 'en' : 'es-MX',
        optIn: i < 3,
        projectId: i < 5 ? 'p1' : 'p2',
      });
    }
    const page = await ctx.request('GET', '/contacts?page=2&limit=3', { tenant });
    expect(page.statusCode).toBe(200);
    expect(page.json().meta).toEqual({ page: 2, limit: 3, total: 7, totalPages: 3 });
    expect(page.json().data).toHaveLength(3);
    const all = (await ctx.request('GET', '/contacts', { tenant })).json();
    expect(all.meta.limit).toBe(50);
    // newest first
    expect(all.data[0].email).toBe('l6@example.com');

    const es = (await ctx.request('GET', '/contacts?locale=es-mx', { tenant })).json();
    expect(es.data.map((c: { email: string }) => c.email).sort()).toEqual(['l1@example.com', 'l3@example.com', 'l5@example.com']);
    const opted = (await ctx.request('GET', '/contacts?optIn=true&projectId=p1', { tenant })).json();
    expect(opted.meta.total).toBe(3);
    const notOpted = (await ctx.request('GET', '/contacts?optIn=false&projectId=p2', { tenant })).json();
    expect(notOpted.meta.total).toBe(2);

    ctx.clock.advance(60_000);
    const since = ctx.clock.now.toISOString();
    await put(tenant, { email: 'l0@example.com', source: 'touched' });
    const recent = (await ctx.request('GET', `/contacts?updatedSince=${encodeURIComponent(since)}`, { tenant })).json();
    expect(recent.data.map((c: { email: string }) => c.email)).toEqual(['l0@example.com']);

    for (const query of ['limit=0', 'limit=501', 'page=0', 'locale=not_a_tag', 'updatedSince=yesterday', 'optIn=maybe']) {
      const res = await ctx.request('GET', `/contacts?${query}`, { tenant });
      expect(res.statusCode, query).toBe(400);
      errorBody(res);
    }
    expect((await ctx.request('GET', '/contacts?limit=500', { tenant })).statusCode).toBe(200);
  });

  it("a full page's total follows this process's writes at once (the kept count is forgotten)", async () => {
    const tenant = await ctx.newTenant();
    const total = async (query = '') => (await ctx.request('GET', `/contacts?limit=1${query}`, { tenant })).json().meta.total;
    const one = (await put(tenant, { email: 't0@example.com', optIn: true })).json();
    for (let i = 1; i < 3; i++) await put(tenant, { email: `t${i}@example.com`, optIn: true });
    expect(await total()).toBe(3);
    expect(await total('&optIn=true')).toBe(3);
    await put(tenant, { email: 't3@example.com', optIn: true });
    expect(await total()).toBe(4);
    expect((await ctx.request('PATCH', `/contacts/${one.id}`, { tenant, body: { optIn: false } })).statusCode).toBe(200);
    expect(await total('&optIn=true')).toBe(3);
    expect((await ctx.request('DELETE', `/contacts/${one.id}`, { tenant })).statusCode).toBe(204);
    expect(await total()).toBe(3);
    // A page that is not full knows its total without counting.
    expect((await ctx.request('GET', '/contacts?limit=5', { tenant })).json().meta).toEqual({ page: 1, limit: 5, total: 3, totalPages: 1 });
    expect((await ctx.request('GET', '/contacts?page=2&limit=2', { tenant })).json().meta).toEqual({ page: 2, limit: 2, total: 3, totalPages: 2 });
  });

  it('walks every contact exactly once with cursors, even while contacts are added', async () => {
    const tenant = await ctx.newTenant();
    const bulk = await ctx.request('POST', '/contacts/bulk', {
      tenant,
      body: { contacts: Array.from({ length: 25 }, (_, i) => ({ email: `c${i}@example.com`, locale: 'en' })) },
    });
    expect(bulk.json().created).toBe(25);
    const seen: string[] = [];
    let cursor = '';
    let pages = 0;
    for (;;) {
      const res = await ctx.request('GET', `/contacts?limit=10&cursor=${encodeURIComponent(cursor)}`, { tenant });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.meta.limit).toBe(10);
      expect(body.meta).not.toHaveProperty('total');
      seen.push(...body.data.map((c: { email: string }) => c.email));
      pages += 1;
      if (pages === 1) await put(tenant, { email: 'late@example.com', locale: 'en' });
      if (!body.meta.nextCursor) break;
      cursor = body.meta.nextCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(26);
    expect(seen.at(-1)).toBe('late@example.com');

    const filtered = (await ctx.request('GET', '/contacts?cursor=&locale=fr', { tenant })).json();
    expect(filtered).toEqual({ data: [], meta: { limit: 50, nextCursor: null } });

    for (const bad of ['garbage', Buffer.from('{"after":"x"}').toString('base64url')]) {
      const res = await ctx.request('GET', `/contacts?cursor=${bad}`, { tenant });
      expect(res.statusCode).toBe(400);
      expect(errorBody(res).details?.[0]?.field).toBe('cursor');
    }
  });

  it('erases a contact (by externalId or id) and keeps its address suppressed', async () => {
    const tenant = await ctx.newTenant();
    const a = (await put(tenant, { email: 'gone@example.com', externalId: 'gdpr-1' })).json();
    const b = (await put(tenant, { email: 'also-gone@example.com' })).json();
    await ctx.request('POST', '/suppressions', { tenant, body: { email: 'also-gone@example.com', reason: 'bounce' } });

    const res = await ctx.request('DELETE', '/contacts/gdpr-1', { tenant });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await ctx.request('GET', `/contacts/${a.id}`, { tenant })).statusCode).toBe(404);
    expect(await repositoriesOf(ctx.container.database).suppressions.isSuppressed(tenant.tenantId, 'gone@example.com')).toBe(true);

    expect((await ctx.request('DELETE', `/contacts/${b.id}`, { tenant })).statusCode).toBe(204);
    const suppressions = (await ctx.request('GET', '/suppressions', { tenant })).json().data;
    expect(suppressions).toEqual([
      expect.objectContaining({ email: 'also-gone@example.com', reason: 'bounce' }),
      expect.objectContaining({ email: 'gone@example.com', reason: 'manual' }),
    ]);

    expect((await ctx.request('DELETE', '/contacts/gdpr-1', { tenant })).statusCode).toBe(404);
    // re-adding the contact does not lift the suppression
    await put(tenant, { email: 'gone@example.com' });
    expect(await repositoriesOf(ctx.container.database).suppressions.isSuppressed(tenant.tenantId, 'gone@example.com')).toBe(true);
  });

  it('answers 404 for malformed ids and for another tenant’s contacts, changing nothing', async () => {
    const a = await ctx.newTenant('A');
    const b = await ctx.newTenant('B');
    const contact = (await put(a, { email: 'mine@example.com', externalId: 'shared-ext', locale: 'en' })).json();
    const suppressionsBefore = await ctx.count('suppressions');
    for (const ref of [contact.id, 'shared-ext']) {
      expect((await ctx.request('GET', `/contacts/${ref}`, { tenant: b })).statusCode).toBe(404);
      const patch = await ctx.request('PATCH', `/contacts/${ref}`, { tenant: b, body: { locale: 'fr' } });
      expect(patch.statusCode).toBe(404);
      expect(errorBody(patch).code).toBe('NOT_FOUND');
      expect((await ctx.request('DELETE', `/contacts/${ref}`, { tenant: b })).statusCode).toBe(404);
    }
    expect((await ctx.request('GET', '/contacts/nope', { tenant: a })).statusCode).toBe(404);
    expect((await ctx.request('GET', '/contacts', { tenant: b })).json().meta.total).toBe(0);
    expect(await ctx.count('suppressions')).toBe(suppressionsBefore);
    expect((await ctx.request('GET', `/contacts/${contact.id}`, { tenant: a })).json()).toEqual(contact);

    // Same address and externalId in another tenant are independent contacts.
    const theirs = await put(b, { email: 'mine@example.com', externalId: 'shared-ext' });
    expect(theirs.statusCode).toBe(200);
    expect(theirs.json().id).not.toBe(contact.id);
  });

  it('answers 403 naming the scope on every contact route', async () => {
    const tenant = await ctx.newTenant();
    const readOnly = await tenant.keyWith(['contacts:read']);
    const writeOnly = await tenant.keyWith(['contacts:write']);
    const id = '01a21603-0000-7000-8000-000000000000';
    const before = await ctx.count('contacts');
    const writes: [string, string, unknown][] = [
      ['PUT', '/contacts', { email: 'x@example.com' }],
      ['PATCH', `/contacts/${id}`, { optIn: true }],
      ['DELETE', `/contacts/${id}`, undefined],
      ['POST', '/contacts/bulk', { contacts: [{ email: 'x@example.com' }] }],
    ];
    for (const [method, url, body] of writes) {
      const res = await ctx.request(method as 'PUT', url, { headers: readOnly.headers, body });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(errorBody(res).message).toContain('contacts:write');
    }
    const imported = await ctx.request('POST', '/contacts/import', {
      headers: { ...readOnly.headers, 'content-type': 'text/csv' },
      payload: 'email\nx@example.com\n',
    });
    expect(imported.statusCode).toBe(403);
    for (const url of ['/contacts', `/contacts/${id}`]) {
      const res = await ctx.request('GET', url, { headers: writeOnly.headers });
      expect(res.statusCode).toBe(403);
      expect(errorBody(res).message).toContain('contacts:read');
    }
    expect(await ctx.count('contacts')).toBe(before);
  });
});
