import { beforeAll, describe, expect, it } from 'vitest';
import { SCOPES, type Scope } from '../../src/auth/scopes.js';
import { errorBody, useTestApp } from '../helpers/app.js';
import type { RouteInfo } from '../../src/routes.js';
import { DIALECTS } from '../helpers/databases.js';
import {
  createRouteFixture,
  loadRouteTable,
  planRequests,
  routeLabel,
  rowCounts,
  send,
  settle,
  type RouteFixture,
} from '../helpers/routes.js';

/**
 * The scope matrix, for every route of the route table: a key holding every
 * scope but the route's one is refused (403 naming it), the route's scope
 * alone suffices, `anyScope` routes take any valid key, and a missing,
 * malformed, unknown or revoked key is 401 — all before anything is written.
 */
const ROUTES = await loadRouteTable();
/** A signed-in member's own account (/me, sign-out): cookie sessions only, no scope (test/api/accounts.test.ts). */
const SESSION_ONLY = ROUTES.filter((route) => route.scope === 'session');
const PROTECTED = ROUTES.filter((route) => !route.public && route.scope !== 'session');
const SCOPED = PROTECTED.filter((route) => route.scope !== 'any');
const ANY_SCOPE = PROTECTED.filter((route) => route.scope === 'any');
const cases = (routes: RouteInfo[]) =>
  routes.map((route) => [routeLabel(route), route.scope ?? '', route] as const);

describe.each(DIALECTS)('scopes (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  let fixture: RouteFixture;
  let revoked: Record<string, string>;
  const keys = new Map<string, Promise<Record<string, string>>>();
  /** A key of the fixture's tenant with exactly these scopes (one per set). */
  const keyWith = (scopes: Scope[]) => {
    const name = [...scopes].sort().join(',');
    if (!keys.has(name)) keys.set(name, fixture.tenant.keyWith(scopes).then((key) => key.headers));
    return keys.get(name)!;
  };

  beforeAll(async () => {
    fixture = await createRouteFixture(ctx, await ctx.newTenant('Scopes'));
    const key = await fixture.tenant.keyWith([...SCOPES]);
    await ctx.container.apiKeys.revoke(key.id);
    revoked = key.headers;
  });

  it('every route is public, open to any key, for a signed-in member\'s own account, or names a known scope', () => {
    expect(ANY_SCOPE.length).toBeGreaterThan(0);
    expect(SESSION_ONLY.map(routeLabel).sort()).toEqual(['GET /me', 'POST /auth/sign-out', 'POST /auth/sign-out-everywhere', 'POST /me/tenant']);
    for (const route of ROUTES) {
      expect(route.public || route.scope === 'any' || route.scope === 'session' || SCOPES.includes(route.scope as Scope), routeLabel(route)).toBe(true);
    }
  });

  it.each(cases(SESSION_ONLY))('%s (a member\'s own account) answers 401 to every API key and to no credential', async (_label, _scope, route) => {
    const before = await rowCounts(ctx);
    for (const planned of planRequests(route, fixture)) {
      for (const headers of [fixture.tenant.headers, { 'x-tenant-id': fixture.tenant.tenantId }, revoked]) {
        const res = await send(ctx, planned, headers);
        expect(res.statusCode, `${planned.method} ${planned.url} → ${res.body}`).toBe(401);
        expect(errorBody(res).code).toBe('UNAUTHORIZED');
      }
    }
    expect(await rowCounts(ctx)).toEqual(before);
  });

  it.each(cases(SCOPED))('%s refuses a key holding every scope but %s (403 naming it)', async (_label, scope, route) => {
    const headers = await keyWith(SCOPES.filter((s) => s !== scope));
    const before = await rowCounts(ctx);
    for (const planned of planRequests(route, fixture)) {
      const res = await send(ctx, planned, headers);
      expect(res.statusCode, `${planned.method} ${planned.url} → ${res.body}`).toBe(403);
      const body = errorBody(res);
      expect(body.code).toBe('INSUFFICIENT_SCOPE');
      expect(body.message).toContain(scope);
      expect(body.requiredScope).toBe(scope);
    }
    expect(await rowCounts(ctx)).toEqual(before);
  });

  it.each(cases(PROTECTED))('%s answers 401 to no key, a malformed, an unknown and a revoked key', async (_label, _scope, route) => {
    const tenantHeader = { 'x-tenant-id': fixture.tenant.tenantId };
    const before = await rowCounts(ctx);
    const attempts: [string, Record<string, string>][] = [
      ['no key', tenantHeader],
      ['no key, no tenant', {}],
      ['malformed key', { ...tenantHeader, authorization: `Bearer ${fixture.tenant.apiKey.slice(0, -1)}!` }],
      ['Basic scheme', { ...tenantHeader, authorization: `Basic ${Buffer.from(`x:${fixture.tenant.apiKey}`).toString('base64')}` }],
      ['unknown key', { ...tenantHeader, authorization: `Bearer mc_live_${'Z'.repeat(40)}` }],
      ['revoked key', revoked],
    ];
    for (const planned of planRequests(route, fixture)) {
      for (const [name, headers] of attempts) {
        const res = await send(ctx, planned, headers);
        expect(res.statusCode, `${name}: ${planned.method} ${planned.url} → ${res.body}`).toBe(401);
        expect(errorBody(res).code).toBe('UNAUTHORIZED');
        if (name === 'revoked key') expect(errorBody(res).message).toMatch(/revoked/);
      }
    }
    expect(await rowCounts(ctx)).toEqual(before);
  });

  it.each(cases(ANY_SCOPE))('%s (anyScope) accepts a key with any single scope, and a test-mode key', async (_label, _scope, route) => {
    const testKey = await fixture.tenant.keyWith(['contacts:read'], 'test');
    for (const headers of [...(await Promise.all(SCOPES.map((scope) => keyWith([scope])))), testKey.headers]) {
      for (const planned of planRequests(route, fixture)) {
        const res = await send(ctx, planned, headers);
        expect(res.statusCode, `${planned.method} ${planned.url} → ${res.body}`).toBeGreaterThanOrEqual(200);
        expect(res.statusCode, res.body).toBeLessThan(300);
      }
    }
  });

  // Last: these requests are let through and may change the fixture (a later
  // 404 still proves the scope sufficed; only 401/403 would not).
  it.each(cases(SCOPED))('%s accepts a key holding only %s', async (_label, scope, route) => {
    const headers = await keyWith([scope as Scope]);
    for (const planned of planRequests(route, fixture)) {
      const res = await send(ctx, planned, headers);
      await settle(ctx);
      expect([401, 403], `${planned.method} ${planned.url} → ${res.body}`).not.toContain(res.statusCode);
      expect(res.statusCode, res.body).toBeLessThan(500);
    }
  });
});
