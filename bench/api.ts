/**
 * Benchmark 4 — API. `GET /campaigns/{id}` and `GET /campaigns?limit=20`
 * with an API key, against a real listening server (a fresh process), 50
 * connections for BENCH_API_SECONDS (10) each, driven by autocannon from this
 * process. Baseline, in the same run: a bare Fastify server (fresh process)
 * answering the same two URLs with the same JSON bodies, captured from the app.
 * Also measured, to show what the database read alone costs: a floor — bare
 * Fastify calling the same campaign service (one SELECT by id; a page and a
 * count) with no authentication, hooks or response schema.
 *
 *   node --import tsx bench/api.ts          (BENCH_ENGINES, BENCH_API_SECONDS)
 */
import assert from 'node:assert/strict';
import autocannon from 'autocannon';
import Fastify, { type FastifyRequest } from 'fastify';
import type { DatabaseConfig } from '../src/config.js';
import { createContainer } from '../src/container.js';
import { openDatabase } from '../src/db/database.js';
import type { ChildContext } from './child.js';
import { BENCH_SECRET, fmtInt, fmtMiB, fmtRatio, runIfMain, log, peakRssMiB, recordTarget, report, settings, startChild, verdict, type ChildResult } from './lib/common.js';
import { freshDatabase } from './lib/db.js';
import { BENCH_RATE_LIMIT, call, createCampaign, createTenant, openApp, publishedTemplate, type Tenant } from './lib/setup.js';

export const API_RATIO_TARGET = 0.4;
export const API_P99_TARGET_MS = 25;
const CONNECTIONS = 50;
const CAMPAIGNS = 50;

/** Child role: the real app listening on a random port until told to stop. */
export async function apiServer(params: { config: DatabaseConfig }, ctx: ChildContext): Promise<ChildResult> {
  const database = openDatabase(params.config, { poolSize: 10 });
  const fixture = await openApp(database);
  ctx.emit({ url: await fixture.app.listen({ host: '127.0.0.1', port: 0 }) });
  await ctx.command();
  await fixture.close();
  return { peakRssMiB: peakRssMiB() };
}

/** Child role: bare Fastify calling the app's campaign service, nothing else: the database read's own cost. */
export async function apiFloor(params: { config: DatabaseConfig }, ctx: ChildContext): Promise<ChildResult> {
  const database = openDatabase(params.config, { poolSize: 10 });
  const container = createContainer(database, { secret: BENCH_SECRET, rateLimit: BENCH_RATE_LIMIT });
  const app = Fastify({ logger: false });
  const tenantOf = (request: FastifyRequest) => String(request.headers['x-tenant-id']);
  app.get<{ Params: { id: string } }>('/campaigns/:id', async (request) => container.campaigns.get(tenantOf(request), request.params.id));
  app.get<{ Querystring: { limit: string } }>('/campaigns', async (request) =>
    container.campaigns.list(tenantOf(request), { limit: Number(request.query.limit), page: 1 }),
  );
  ctx.emit({ url: await app.listen({ host: '127.0.0.1', port: 0 }) });
  await ctx.command();
  await app.close();
  await container.close();
  return { peakRssMiB: peakRssMiB() };
}

/** Child role: bare Fastify answering the same URLs with the same bodies. */
export async function apiBaseline(params: { routes: Record<string, string> }, ctx: ChildContext): Promise<ChildResult> {
  const app = Fastify({ logger: false });
  for (const [url, body] of Object.entries(params.routes)) {
    const [pathname] = url.split('?');
    app.get(pathname!, async (_request, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(body));
  }
  ctx.emit({ url: await app.listen({ host: '127.0.0.1', port: 0 }) });
  await ctx.command();
  await app.close();
  return { peakRssMiB: peakRssMiB() };
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  bad: number;
}

async function load(url: string, tenant: Tenant, seconds: number): Promise<Load> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers: tenant.headers });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    bad: result.non2xx + result.errors + result.timeouts,
  };
}

/** Runs each path against a server: a short warm-up, then the measured load. */
async function measure(base: string, paths: string[], tenant: Tenant): Promise<Load[]> {
  const results: Load[] = [];
  for (const path of paths) {
    await load(`${base}${path}`, tenant, 1);
    const measured = await load(`${base}${path}`, tenant, settings.apiSeconds);
    if (measured.bad > 0) throw new Error(`${path}: ${measured.bad} of ${measured.requests} requests failed or were not 2xx`);
    results.push(measured);
  }
  return results;
}

export async function main(): Promise<void> {
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const engine of settings.engines) {
    const { bench, database } = await freshDatabase(engine);
    const fixture = await openApp(database);
    try {
      const tenant = await createTenant(fixture.container, 100_000);
      const versionId = await publishedTemplate(fixture.app, tenant);
      const ids: string[] = [];
      for (let i = 0; i < CAMPAIGNS; i++) {
        ids.push(await createCampaign(fixture.app, tenant, { name: `Campaign ${i + 1}`, templateVersionId: versionId, audienceFilter: { optIn: true, locale: 'es' } }));
      }
      const paths = [`/campaigns/${ids[CAMPAIGNS - 1]}`, '/campaigns?limit=20'];
      const bodies: Record<string, string> = {};
      for (const path of paths) bodies[path] = JSON.stringify(await call(fixture.app, tenant, 'GET', path));

      const server = startChild('api-server', { config: bench.config });
      const { url } = (await server.next()) as { url: string };
      log(`${engine}: loading the app at ${url}`);
      const app = await measure(url, paths, tenant);
      server.send({ stop: true });
      const appRss = (await server.result).peakRssMiB;

      const floorServer = startChild('api-floor', { config: bench.config });
      const { url: floorUrl } = (await floorServer.next()) as { url: string };
      log(`${engine}: loading the floor (Fastify + the campaign service) at ${floorUrl}`);
      for (const path of paths) {
        const answer: unknown = await (await fetch(`${floorUrl}${path}`, { headers: tenant.headers })).json();
        assert.deepStrictEqual(answer, JSON.parse(bodies[path]!), `the floor must answer ${path} with the app's JSON`);
      }
      const floor = await measure(floorUrl, paths, tenant);
      floorServer.send({ stop: true });
      await floorServer.result;

      const bare = startChild('api-baseline', { routes: bodies });
      const { url: bareUrl } = (await bare.next()) as { url: string };
      log(`${engine}: loading bare Fastify at ${bareUrl}`);
      const baseline = await measure(bareUrl, paths, tenant);
      bare.send({ stop: true });
      const bareRss = (await bare.result).peakRssMiB;

      paths.forEach((path, i) => {
        const a = app[i]!;
        const b = baseline[i]!;
        const f = floor[i]!;
        const ratio = a.rps / b.rps;
        if (path.includes('?')) {
          recordTarget({
            target: '4 API list route, idle: throughput against bare Fastify',
            engine,
            figure: `${fmtInt(a.rps)} req/s (${fmtRatio(ratio)})`,
            baseline: `bare Fastify, same JSON: ${fmtInt(b.rps)} req/s`,
            goal: '≥ 0.3×',
            met: ratio >= 0.3,
          });
        }
        rows.push([
          engine,
          `GET ${path.replace(/\/campaigns\/[^?]+$/, '/campaigns/{id}')}`,
          `${fmtInt(a.rps)} req/s, p50 ${a.p50} ms, p99 ${a.p99} ms`,
          `${fmtInt(b.rps)} req/s, p50 ${b.p50} ms, p99 ${b.p99} ms`,
          fmtRatio(ratio),
          `${fmtInt(f.rps)} req/s, p99 ${f.p99} ms (${fmtRatio(f.rps / b.rps)} of bare; app ${fmtRatio(a.rps / f.rps)} of floor)`,
          `≥ ${API_RATIO_TARGET}×: ${verdict(ratio >= API_RATIO_TARGET)}; p99 ≤ ${API_P99_TARGET_MS} ms: ${verdict(a.p99 <= API_P99_TARGET_MS)}`,
          fmtMiB(appRss),
          fmtMiB(bareRss),
        ]);
      });
      notes.push(`${engine}: response bodies ${paths.map((p) => `${fmtInt(Buffer.byteLength(bodies[p]!))} B`).join(' and ')}`);
    } finally {
      await fixture.close();
      await bench.drop();
    }
  }
  report({
    title: 'API',
    table: {
      columns: ['engine', 'route', 'MailingCore', 'baseline: bare Fastify, same JSON', 'ratio (req/s)', 'floor: Fastify + the campaign service only', 'targets', 'peak RSS (server)', 'peak RSS (bare)'],
      rows,
    },
    notes: [
      `autocannon, ${CONNECTIONS} connections, ${settings.apiSeconds} s per route after a 1 s warm-up, from the benchmark process; the servers each run in a fresh process on the same two cores`,
      `MailingCore: the real app (\`buildApp\`, every hook: API key look-up, rate-limit counter, quota headers, response schema) listening on 127.0.0.1; the tenant has ${CAMPAIGNS} campaigns`,
      'baseline: `Fastify()` with the two routes answering the captured bodies as strings',
      'floor (not a target, for the explanation): `Fastify()` calling the same `CampaignService.get` / `.list` on the same database, without authentication, rate limit, quota headers, hooks or response schema: what the read itself costs',
      ...notes,
    ],
  });
}

runIfMain(import.meta.url, main);
