import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp } from '../helpers/app.js';

describe.each(DIALECTS)('authentication (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  it('lets /healthz through without a key', async () => {
    const res = await ctx.request('GET', '/healthz');
    expect(res.statusCode).toBe(200);
  });

  it('answers 401 for a missing, malformed, unknown or revoked key', async () => {
    const tenant = await ctx.newTenant();
    const tenantHeader = { 'x-tenant-id': tenant.tenantId };
    const cases: Record<string, string | undefined> = {
      missing: undefined,
      basic: `Basic ${Buffer.from('a:b').toString('base64')}`,
      malformed: 'Bearer not-a-key',
      unknown: `Bearer mc_live_${'A'.repeat(40)}`,
    };
    for (const [name, authorization] of Object.entries(cases)) {
      const res = await ctx.request('GET', '/campaigns', {
        headers: { ...tenantHeader, ...(authorization ? { authorization } : {}) },
      });
      expect(res.statusCode, name).toBe(401);
      expect(errorBody(res).code).toBe('UNAUTHORIZED');
    }

    const extra = await tenant.keyWith(['campaigns:read']);
    expect((await ctx.request('GET', '/campaigns', { headers: extra.headers })).statusCode).toBe(200);
    await ctx.container.apiKeys.revoke(extra.id);
    const revoked = await ctx.request('GET', '/campaigns', { headers: extra.headers });
    expect(revoked.statusCode).toBe(401);
    expect(errorBody(revoked).message).toMatch(/revoked/);
  });

  it('refuses a key revoked by another process once the verified-key cache (API_KEY_CACHE_MS) has passed', async () => {
    const tenant = await ctx.newTenant();
    const extra = await tenant.keyWith(['campaigns:read']);
    const { createContainer } = await import('../../src/container.js');
    const { buildApp } = await import('../../src/app.js');
    // Two more API processes on the same database: one trusting verified keys for 200 ms, one looking up every request.
    const cachingContainer = createContainer(ctx.container.database, { secret: ctx.container.secret, apiKeyCacheMs: 200 });
    const uncachedContainer = createContainer(ctx.container.database, { secret: ctx.container.secret, apiKeyCacheMs: 0 });
    const caching = await buildApp(cachingContainer);
    const uncached = await buildApp(uncachedContainer);
    const get = (app: typeof caching) => app.inject({ method: 'GET', url: '/campaigns', headers: extra.headers });
    try {
      expect((await get(caching)).statusCode).toBe(200);
      expect((await get(uncached)).statusCode).toBe(200);
      // Revoked through this test's own container: the CLI or another API process, as far as the two apps know.
      await ctx.container.apiKeys.revoke(extra.id);
      expect((await get(uncached)).statusCode).toBe(401);
      expect((await ctx.request('GET', '/campaigns', { headers: extra.headers })).statusCode).toBe(401);
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect((await get(caching)).statusCode).toBe(401);
    } finally {
      await caching.close();
      await uncached.close();
      for (const container of [cachingContainer, uncachedContainer]) {
        await container.rateLimitStore.close();
        await container.lastUsed.flush();
      }
    }
  });

  it('answers 400 without X-Tenant-Id and 403 with another tenant id', async () => {
    const a = await ctx.newTenant('A');
    const b = await ctx.newTenant('B');
    const noTenant = await ctx.request('GET', '/campaigns', { headers: { authorization: `Bearer ${a.apiKey}` } });
    expect(noTenant.statusCode).toBe(400);
    expect(errorBody(noTenant).code).toBe('MISSING_TENANT');

    const other = await ctx.request('GET', '/campaigns', {
      headers: { authorization: `Bearer ${a.apiKey}`, 'x-tenant-id': b.tenantId },
    });
    expect(other.statusCode).toBe(403);
    expect(errorBody(other).code).toBe('TENANT_MISMATCH');
  });

  it('answers 403 INSUFFICIENT_SCOPE naming the missing scope, for every campaign route', async () => {
    const tenant = await ctx.newTenant();
    const readOnly = await tenant.keyWith(['campaigns:read']);
    const writeOnly = await tenant.keyWith(['campaigns:write']);
    const id = '01a21603-0000-7000-8000-000000000000';
    const writes: [string, string, string][] = [
      ['POST', '/campaigns', 'campaigns:write'],
      ['PATCH', `/campaigns/${id}`, 'campaigns:write'],
      ['POST', `/campaigns/${id}/schedule`, 'campaigns:send'],
      ['POST', `/campaigns/${id}/cancel`, 'campaigns:send'],
      ['POST', `/campaigns/${id}/send`, 'campaigns:send'],
    ];
    for (const [method, url, scope] of writes) {
      const res = await ctx.request(method as 'POST', url, { headers: readOnly.headers, body: { name: 'x' } });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      const body = errorBody(res);
      expect(body.code).toBe('INSUFFICIENT_SCOPE');
      expect(body.message).toContain(scope);
    }
    // Preparing is not sending: campaigns:write alone does not send.
    const send = await ctx.request('POST', `/campaigns/${id}/send`, { headers: writeOnly.headers });
    expect(errorBody(send).message).toContain('campaigns:send');
    for (const url of ['/campaigns', `/campaigns/${id}`]) {
      const res = await ctx.request('GET', url, { headers: writeOnly.headers });
      expect(res.statusCode).toBe(403);
      expect(errorBody(res).message).toContain('campaigns:read');
    }
    expect(await ctx.count('campaigns')).toBe(0);
  });

  it('covers every registered route with a scope (or `session`: a member\'s own account) or an explicit public flag', () => {
    for (const route of ctx.app.routeTable) {
      expect(route.public || route.scope !== undefined, `${route.method} ${route.url}`).toBe(true);
    }
    expect(ctx.app.routeTable.filter((r) => r.public && !r.hidden).map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'GET /openapi.json',
      'GET /track/o/:token',
      'GET /track/c/:token',
      'POST /inbound/providers/:provider/:integrationId',
      'POST /auth/sign-in',
      'GET /auth/setup',
      'POST /setup',
      'POST /invitations/accept',
      'GET /u/:token',
      'POST /u/:token',
    ]);
    // Hidden from the OpenAPI document: only the /docs reference page and its assets, all public.
    const hidden = ctx.app.routeTable.filter((r) => r.hidden);
    expect(hidden.map((r) => r.url)).toContain('/docs');
    for (const route of hidden) {
      expect(route.url === '/docs' || route.url.startsWith('/docs/'), route.url).toBe(true);
      expect(route.public, route.url).toBe(true);
    }
  });

  it('records when a key was last used, without a write per request', async () => {
    const tenant = await ctx.newTenant();
    const [before] = await ctx.container.apiKeys.list(tenant.tenantId);
    expect(before!.lastUsedAt).toBeNull();
    for (let i = 0; i < 5; i++) await ctx.request('GET', '/campaigns', { tenant });
    let [after] = await ctx.container.apiKeys.list(tenant.tenantId);
    expect(after!.lastUsedAt).toBeNull(); // buffered, not yet written
    await ctx.container.lastUsed.flush();
    [after] = await ctx.container.apiKeys.list(tenant.tenantId);
    expect(after!.lastUsedAt).not.toBeNull();
  });

  it('stores only a hash and a display prefix of each key', async () => {
    const tenant = await ctx.newTenant();
    const rows = await ctx.container.database.db
      .selectFrom('api_keys')
      .selectAll()
      .where('tenant_id', '=', tenant.tenantId)
      .execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(tenant.apiKey);
    expect(tenant.apiKey.startsWith(rows[0]!.prefix)).toBe(true);
  });
});
