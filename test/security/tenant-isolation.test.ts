import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorBody, useTestApp } from '../helpers/app.js';
import type { RouteInfo } from '../../src/routes.js';
import { DIALECTS } from '../helpers/databases.js';
import { hostileImport, importAndCheck } from '../helpers/hostile-imports.js';
import {
  createRouteFixture,
  ghostIds,
  hasPathParams,
  leakedSecrets,
  loadRouteTable,
  pathParams,
  paramValue,
  planRequest,
  planRequests,
  routeLabel,
  rowCounts,
  rowCountsExcept,
  send,
  settle,
  tenantSnapshot,
  tenantWithQuota,
  FIXTURE_EMAILS,
  type PlannedRequest,
  type RouteFixture,
  type RouteIds,
} from '../helpers/routes.js';

/**
 * Tenant isolation, for every route of the route table: tenant B's key at
 * tenant A's objects answers 404 exactly as a missing id does, lists show
 * none of A's data, B's key with A's X-Tenant-Id is 403, and nothing of A
 * changes. Routes are read from app.routeTable, so new ones are covered.
 */
const ROUTES = await loadRouteTable();
// Public routes (healthz, unsubscribe pages) have no tenant; a member's own account (/me, sign-out) has none either
// and takes no API key (members and tenants: test/api/accounts.test.ts).
const PROTECTED = ROUTES.filter((route) => !route.public && route.scope !== 'session');
const BY_ID = PROTECTED.filter(hasPathParams);
// Reads run before writes: B's writes may legitimately copy A's values (an email B upserts) into B's own data.
const READS_WITHOUT_IDS = PROTECTED.filter((route) => !hasPathParams(route) && route.method === 'GET');
const WRITES_WITHOUT_IDS = PROTECTED.filter((route) => !hasPathParams(route) && route.method !== 'GET');
const cases = (routes: RouteInfo[]) => routes.map((route) => [routeLabel(route), route] as const);

const A_QUOTA = 1000;
const A_CONTACTS = 3;
/** Campaigns of a route fixture sent to every contact (its SENT, SENDING and PAUSED ones): the quota usage is contacts × this. */
const FIXTURE_SENDS = 3;
const B_QUOTA = 777;
const B_CONTACTS = 1;

/** What "answers exactly like a missing id" compares. */
const outcome = (res: { statusCode: number; body: string }) => {
  if (res.statusCode < 400) return { statusCode: res.statusCode };
  const { statusCode, code, message } = errorBody(res as never);
  return { statusCode, code, message };
};

describe.each(DIALECTS)('tenant isolation (%s)', (dialect) => {
  // Precondition of the matrix below: each planned request does succeed for
  // the objects' owner, so the 404 another tenant gets is isolation and not
  // a malformed request. Reads share a fixture; each write gets a fresh one.
  describe('control: each planned request succeeds for the owner', () => {
    const ctx = useTestApp(dialect);
    let shared: Promise<RouteFixture> | undefined;

    it.each(cases(PROTECTED))('%s', async (_label, route) => {
      const variants = planRequests(route, ghostIds()).length;
      for (let i = 0; i < variants; i++) {
        const fixture =
          route.method === 'GET'
            ? await (shared ??= ctx.newTenant('Reader').then((tenant) => createRouteFixture(ctx, tenant)))
            : await createRouteFixture(ctx, await ctx.newTenant('Owner'));
        const planned = planRequests(route, fixture)[i]!;
        const res = await send(ctx, planned, fixture.tenant.headers);
        expect(
          res.statusCode,
          `${planned.method} ${planned.url} by its owner → ${res.statusCode} ${res.body.slice(0, 500)}\n` +
            'A new route? Teach test/helpers/routes.ts (BODIES, paramValue) to build a plausible request for it.',
        ).toBeGreaterThanOrEqual(200);
        expect(res.statusCode, res.body.slice(0, 500)).toBeLessThan(300);
        await settle(ctx);
      }
    });
  });

  describe('tenant B against tenant A', () => {
    const ctx = useTestApp(dialect);
    let a: RouteFixture;
    let b: RouteFixture;
    let ghost: RouteIds;
    let aBefore: Record<string, string[]>;
    let outsideBBefore: Record<string, number>;

    beforeAll(async () => {
      a = await createRouteFixture(ctx, await tenantWithQuota(ctx, 'Tenant A', A_QUOTA), { contacts: A_CONTACTS });
      b = await createRouteFixture(ctx, await tenantWithQuota(ctx, 'Tenant B', B_QUOTA), { contacts: B_CONTACTS });
      ghost = ghostIds();
      await settle(ctx);
      aBefore = await tenantSnapshot(ctx, a.tenant.tenantId);
      outsideBBefore = await rowCountsExcept(ctx, b.tenant.tenantId);
    });

    it.each(cases(BY_ID))('%s at A’s ids answers 404, exactly like a missing id, and writes nothing', async (_label, route) => {
      const attacks = planRequests(route, a);
      const missing = planRequests(route, ghost);
      for (const [i, planned] of attacks.entries()) {
        const before = await rowCounts(ctx);
        const res = await send(ctx, planned, b.tenant.headers);
        expect(res.statusCode, `${planned.method} ${planned.url} → ${res.body}`).toBe(404);
        expect(errorBody(res).code).toBe('NOT_FOUND');
        expect(leakedSecrets(res.body, a.secrets, planned)).toEqual([]); // the error's `path` echoes the request's own ids
        expect(await rowCounts(ctx), `${planned.method} ${planned.url} wrote`).toEqual(before);
        expect(outcome(await send(ctx, missing[i]!, b.tenant.headers))).toEqual(outcome(res));
      }
    });

    it.each(cases(READS_WITHOUT_IDS))('%s shows B its own data and none of A’s', async (_label, route) => {
      const planned = planRequest(route, a);
      const res = await send(ctx, planned, b.tenant.headers);
      expect(res.statusCode, res.body).toBe(200);
      expect(leakedSecrets(res.body, a.secrets, planned), res.body).toEqual([]);
      if (route.url === '/usage') {
        // Not a list: the numbers must be B's (A's quota and usage differ).
        expect(res.json()).toMatchObject({ limit: B_QUOTA, used: B_CONTACTS * FIXTURE_SENDS + FIXTURE_EMAILS });
        expect(res.headers['x-quota-limit']).toBe(String(B_QUOTA));
      } else {
        // A list: B's own objects are there (every fixture object carries B's marker, or — bounce-provider
        // integrations, which hold no tenant text — B's id), A's are not.
        const plain = await send(ctx, { ...planned, url: route.url }, b.tenant.headers);
        expect(plain.statusCode).toBe(200);
        expect(plain.body).toContain(route.url === '/bounce-providers' ? b.bounceProviderId : b.marker);
        expect(leakedSecrets(plain.body, a.secrets)).toEqual([]);
      }
    });

    // Routes whose body names objects, sent at B's own objects: A's ids in the
    // body are treated exactly as ids that do not exist (and leak nothing).
    const WITH_ID_AND_BODY = BY_ID.filter((route) => planRequest(route, ghostIds()).payload !== undefined);
    it.each(cases(WITH_ID_AND_BODY))('%s at B’s own objects, naming A’s in the body, answers as for missing ones', async (_label, route) => {
      const own = Object.fromEntries(pathParams(route).map((name) => [name, paramValue(route, name, b)]));
      const withMissing = planRequest(route, ghost, own);
      const withA = planRequest(route, a, own);
      const expected = outcome(await send(ctx, withMissing, b.tenant.headers));
      await settle(ctx);
      const res = await send(ctx, withA, b.tenant.headers);
      await settle(ctx);
      expect(outcome(res), `${withA.method} ${withA.url} ${withA.payload} → ${res.body}`).toEqual(expected);
      expect(leakedSecrets(res.body, a.secrets, withA)).toEqual([]);
      expect(await rowCountsExcept(ctx, b.tenant.tenantId)).toEqual(outsideBBefore);
    });

    it.each(cases(WRITES_WITHOUT_IDS))('%s naming A’s objects in its body answers as for missing ones, writing only as B', async (_label, route) => {
      const planned = planRequest(route, a);
      const res = await send(ctx, planned, b.tenant.headers);
      await settle(ctx);
      const missing = await send(ctx, planRequest(route, ghost), b.tenant.headers);
      await settle(ctx);
      expect(outcome(res), `${planned.payload} → ${res.body}`).toEqual(outcome(missing));
      // An echo of what B sent (an email it upserted) is not a leak; anything else of A's is.
      expect(leakedSecrets(res.body, a.secrets, planned), res.body).toEqual([]);
      expect(await rowCountsExcept(ctx, b.tenant.tenantId)).toEqual(outsideBBefore);
    });

    it.each(cases(PROTECTED))('%s with B’s key and A’s X-Tenant-Id answers 403 TENANT_MISMATCH', async (_label, route) => {
      const before = await rowCounts(ctx);
      for (const planned of planRequests(route, a)) {
        const res = await send(ctx, planned, { authorization: `Bearer ${b.tenant.apiKey}`, 'x-tenant-id': a.tenant.tenantId });
        expect(res.statusCode, `${planned.method} ${planned.url} → ${res.body}`).toBe(403);
        expect(errorBody(res).code).toBe('TENANT_MISMATCH');
        expect(leakedSecrets(res.body, a.secrets, planned)).toEqual([]);
      }
      expect(await rowCounts(ctx)).toEqual(before);
    });

    // Public routes (health, metrics, the API reference) have no tenant: they must show no tenant's data either.
    const PUBLIC_READS = ROUTES.filter((route) => route.public && route.method === 'GET' && !hasPathParams(route));
    it.each(cases(PUBLIC_READS))('public %s shows none of A’s data', async (_label, route) => {
      const res = await send(ctx, { method: 'GET', url: route.url, headers: {} });
      expect(res.statusCode).toBeLessThan(500);
      expect(leakedSecrets(res.body, a.secrets)).toEqual([]);
    });

    // Last but one: B's contacts then hold A's addresses (B's own copies), which the list checks above would flag.
    it('hostile CSV / NDJSON imports by B naming A’s contacts write only as B and never touch A', async () => {
      const addresses = Array.from({ length: A_CONTACTS }, (_, i) => `contact${i}@${a.marker}.test`);
      const externalIds = Array.from({ length: A_CONTACTS }, (_, i) => `ext${i}-${a.marker}`);
      await fc.assert(
        fc.asyncProperty(hostileImport({ addresses, externalIds }), async (input) => {
          ctx.clock.advance(1000);
          const res = await importAndCheck(ctx, b.tenant, input);
          const sent = { method: 'POST', url: '/contacts/import', payload: input.bytes.toString('utf8') } as PlannedRequest;
          expect(leakedSecrets(res.body, a.secrets, sent), res.body).toEqual([]);
          expect(await rowCountsExcept(ctx, b.tenant.tenantId)).toEqual(outsideBBefore);
        }),
        { numRuns: Number(process.env.FUZZ_RUNS ?? 20) * 2, seed: Number(process.env.FUZZ_SEED ?? 0x5eed), endOnFailure: true },
      );
      expect(await tenantSnapshot(ctx, a.tenant.tenantId)).toEqual(aBefore);
    }, 120_000);

    it('leaves every row of tenant A as it was, and every row outside B uncounted by B’s writes', async () => {
      await settle(ctx);
      expect(await tenantSnapshot(ctx, a.tenant.tenantId)).toEqual(aBefore);
      expect(await rowCountsExcept(ctx, b.tenant.tenantId)).toEqual(outsideBBefore);
      const usage = await send(ctx, { method: 'GET', url: '/usage', headers: {} }, a.tenant.headers);
      expect(usage.json()).toMatchObject({ limit: A_QUOTA, used: A_CONTACTS * FIXTURE_SENDS + FIXTURE_EMAILS });
    });
  });
});
