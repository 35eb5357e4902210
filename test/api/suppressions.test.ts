import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp } from '../helpers/app.js';
import { repositoriesOf } from '../helpers/factories.js';

describe.each(DIALECTS)('suppressions API (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  it('adds a suppression (201), keeps the original on repeat (200), normalising the address', async () => {
    const tenant = await ctx.newTenant();
    const created = await ctx.request('POST', '/suppressions', { tenant, body: { email: ' Bob@Example.COM ', reason: 'bounce' } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({ email: 'Bob@example.com', reason: 'bounce', createdAt: expect.any(String) });
    ctx.clock.advance(5000);
    const again = await ctx.request('POST', '/suppressions', { tenant, body: { email: 'Bob@example.com', reason: 'complaint' } });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(created.json());
    expect(await repositoriesOf(ctx.container.database).suppressions.isSuppressed(tenant.tenantId, 'Bob@EXAMPLE.com')).toBe(true);
    expect(await repositoriesOf(ctx.container.database).suppressions.isSuppressed(tenant.tenantId, 'bob@example.com')).toBe(false);
  });

  it('refuses bad input with 400 and writes nothing', async () => {
    const tenant = await ctx.newTenant();
    const before = await ctx.count('suppressions');
    for (const body of [
      { email: 'x@example.com', reason: 'spam' },
      { email: 'not-an-address', reason: 'manual' },
      { email: 'x@example.com' },
      { reason: 'manual' },
      { email: 'x@example.com', reason: 'manual', note: 'x' },
      { email: 'x'.repeat(400), reason: 'manual' },
    ]) {
      const res = await ctx.request('POST', '/suppressions', { tenant, body });
      expect(res.statusCode, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(errorBody(res).code).toBe('VALIDATION_ERROR');
    }
    expect(await ctx.count('suppressions')).toBe(before);
  });

  it('pages with cursors, each address once, limit 1–500', async () => {
    const tenant = await ctx.newTenant();
    for (let i = 0; i < 12; i++) {
      await ctx.request('POST', '/suppressions', { tenant, body: { email: `s${String(i).padStart(2, '0')}@example.com`, reason: 'manual' } });
    }
    const seen: string[] = [];
    let url = '/suppressions?limit=5';
    for (;;) {
      const res = await ctx.request('GET', url, { tenant });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.meta.limit).toBe(5);
      seen.push(...body.data.map((s: { email: string }) => s.email));
      if (seen.length === 5) {
        await ctx.request('POST', '/suppressions', { tenant, body: { email: 's99@example.com', reason: 'unsubscribe' } });
      }
      if (!body.meta.nextCursor) break;
      url = `/suppressions?limit=5&cursor=${encodeURIComponent(body.meta.nextCursor)}`;
    }
    expect(seen).toHaveLength(13);
    expect(new Set(seen).size).toBe(13);
    expect((await ctx.request('GET', '/suppressions', { tenant })).json().meta).toEqual({ limit: 50, nextCursor: null });
    for (const query of ['limit=0', 'limit=501', 'cursor=%%%', 'cursor=abc']) {
      const res = await ctx.request('GET', `/suppressions?${query}`, { tenant });
      expect(res.statusCode, query).toBe(400);
    }
  });

  it('searches by address prefix (q): case-insensitive, % and _ literal, paged by cursor', async () => {
    const tenant = await ctx.newTenant();
    const other = await ctx.newTenant();
    const add = (t: typeof tenant, email: string) => ctx.request('POST', '/suppressions', { tenant: t, body: { email, reason: 'manual' } });
    for (const email of ['Ann.Lee@example.com', 'ann@example.org', 'anna%x@example.com', 'annaXy@example.com', 'bob@example.com', 'an_n@example.com']) {
      expect((await add(tenant, email)).statusCode).toBe(201);
    }
    expect((await add(other, 'ann.other@example.com')).statusCode).toBe(201);
    const search = async (q: string, extra = '') => {
      const res = await ctx.request('GET', `/suppressions?q=${encodeURIComponent(q)}${extra}`, { tenant });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { data: { email: string }[]; meta: { nextCursor: string | null } };
    };
    const emails = (body: { data: { email: string }[] }) => body.data.map((s) => s.email);
    expect(emails(await search('ANN'))).toEqual(['Ann.Lee@example.com', 'ann@example.org', 'anna%x@example.com', 'annaXy@example.com']);
    expect(emails(await search('anna%'))).toEqual(['anna%x@example.com']);
    expect(emails(await search('an_'))).toEqual(['an_n@example.com']);
    expect(emails(await search(' bob@EXAMPLE.com '))).toEqual(['bob@example.com']);
    expect(emails(await search('zed'))).toEqual([]);
    // Paged: a search's cursor pages that search, each address once.
    const first = await search('ann', '&limit=3');
    expect(emails(first)).toHaveLength(3);
    const second = await search('ann', `&limit=3&cursor=${encodeURIComponent(first.meta.nextCursor!)}`);
    expect(emails(second)).toEqual(['annaXy@example.com']);
    expect(second.meta.nextCursor).toBeNull();
    for (const q of ['', '   ', 'a\u0001', 'x'.repeat(255)]) {
      expect((await ctx.request('GET', `/suppressions?q=${encodeURIComponent(q)}`, { tenant })).statusCode, JSON.stringify(q)).toBe(400);
    }
  });

  it('deletes by URL-encoded address (204), 404 when absent', async () => {
    const tenant = await ctx.newTenant();
    await ctx.request('POST', '/suppressions', { tenant, body: { email: 'a+tag@example.com', reason: 'unsubscribe' } });
    const res = await ctx.request('DELETE', `/suppressions/${encodeURIComponent('a+tag@EXAMPLE.com')}`, { tenant });
    expect(res.statusCode).toBe(204);
    expect(await repositoriesOf(ctx.container.database).suppressions.isSuppressed(tenant.tenantId, 'a+tag@example.com')).toBe(false);
    const again = await ctx.request('DELETE', `/suppressions/${encodeURIComponent('a+tag@example.com')}`, { tenant });
    expect(again.statusCode).toBe(404);
    expect(errorBody(again).code).toBe('NOT_FOUND');
    expect((await ctx.request('DELETE', '/suppressions/garbage', { tenant })).statusCode).toBe(404);
  });

  it('keeps tenants apart', async () => {
    const a = await ctx.newTenant('A');
    const b = await ctx.newTenant('B');
    await ctx.request('POST', '/suppressions', { tenant: a, body: { email: 'shared@example.com', reason: 'complaint' } });
    expect((await ctx.request('GET', '/suppressions', { tenant: b })).json().data).toEqual([]);
    expect((await ctx.request('DELETE', '/suppressions/shared%40example.com', { tenant: b })).statusCode).toBe(404);
    expect(await repositoriesOf(ctx.container.database).suppressions.isSuppressed(a.tenantId, 'shared@example.com')).toBe(true);
    expect(await repositoriesOf(ctx.container.database).suppressions.isSuppressed(b.tenantId, 'shared@example.com')).toBe(false);
    const own = await ctx.request('POST', '/suppressions', { tenant: b, body: { email: 'shared@example.com', reason: 'manual' } });
    expect(own.statusCode).toBe(201);
    expect((await ctx.request('GET', '/suppressions', { tenant: a })).json().data[0].reason).toBe('complaint');
  });

  it('exposes suppress / isSuppressed for other features', async () => {
    const tenant = await ctx.newTenant();
    const repo = repositoriesOf(ctx.container.database).suppressions;
    expect(await repo.suppress(tenant.tenantId, ' Zed@Example.com', 'unsubscribe')).toBe(true);
    expect(await repo.suppress(tenant.tenantId, 'Zed@example.com', 'manual')).toBe(false);
    expect((await repo.get(tenant.tenantId, 'Zed@example.com'))?.reason).toBe('unsubscribe');
    expect(await repo.isSuppressed(tenant.tenantId, 'Zed@EXAMPLE.COM')).toBe(true);
  });

  it('lets a complaint or a bounce replace an unsubscribe or a manual suppression, never the reverse', async () => {
    const tenant = await ctx.newTenant();
    const repo = repositoriesOf(ctx.container.database).suppressions;
    const reasonOf = async (email: string) => (await repo.get(tenant.tenantId, email))?.reason;
    const cases: [first: string, second: string, after: string, written: boolean][] = [
      ['unsubscribe', 'bounce', 'bounce', true],
      ['manual', 'complaint', 'complaint', true],
      ['unsubscribe', 'complaint', 'complaint', true],
      ['manual', 'bounce', 'bounce', true],
      ['bounce', 'unsubscribe', 'bounce', false],
      ['complaint', 'manual', 'complaint', false],
      ['bounce', 'complaint', 'bounce', false],
      ['complaint', 'bounce', 'complaint', false],
      ['unsubscribe', 'manual', 'unsubscribe', false],
      ['manual', 'unsubscribe', 'manual', false],
    ];
    for (const [i, [first, second, after, written]] of cases.entries()) {
      const email = `p${i}@precedence.test`;
      expect(await repo.suppress(tenant.tenantId, email, first as never, '2026-01-01T00:00:00.000Z')).toBe(true);
      expect(await repo.suppress(tenant.tenantId, email, second as never, '2026-02-01T00:00:00.000Z'), `${first} then ${second}`).toBe(written);
      expect(await reasonOf(email), `${first} then ${second}`).toBe(after);
      expect(String((await repo.get(tenant.tenantId, email))?.created_at)).toContain(written ? '2026-02-01' : '2026-01-01');
    }

    // Through the API: an upgrade answers 200 with the new row; a lower reason 200 with the row unchanged; neither is a new suppression.
    const first = await ctx.request('POST', '/suppressions', { tenant, body: { email: 'api@precedence.test', reason: 'manual' } });
    expect(first.statusCode).toBe(201);
    ctx.clock.advance(5000);
    const upgraded = await ctx.request('POST', '/suppressions', { tenant, body: { email: 'api@precedence.test', reason: 'bounce' } });
    expect(upgraded.statusCode).toBe(200);
    expect(upgraded.json()).toMatchObject({ reason: 'bounce' });
    expect(upgraded.json().createdAt).not.toBe(first.json().createdAt);
    ctx.clock.advance(5000);
    const lower = await ctx.request('POST', '/suppressions', { tenant, body: { email: 'api@precedence.test', reason: 'unsubscribe' } });
    expect(lower.statusCode).toBe(200);
    expect(lower.json()).toEqual(upgraded.json());
    const events = (await ctx.request('GET', '/events?type=contact.unsubscribed', { tenant })).json().data as unknown[];
    expect(events).toHaveLength(1);
  });

  it('answers 403 naming the scope', async () => {
    const tenant = await ctx.newTenant();
    const readOnly = await tenant.keyWith(['suppressions:read']);
    const writeOnly = await tenant.keyWith(['suppressions:write']);
    const before = await ctx.count('suppressions');
    const post = await ctx.request('POST', '/suppressions', { headers: readOnly.headers, body: { email: 'a@example.com', reason: 'manual' } });
    expect(post.statusCode).toBe(403);
    expect(errorBody(post).message).toContain('suppressions:write');
    const del = await ctx.request('DELETE', '/suppressions/a%40example.com', { headers: readOnly.headers });
    expect(del.statusCode).toBe(403);
    const get = await ctx.request('GET', '/suppressions', { headers: writeOnly.headers });
    expect(get.statusCode).toBe(403);
    expect(errorBody(get).message).toContain('suppressions:read');
    expect(await ctx.count('suppressions')).toBe(before);
  });
});
