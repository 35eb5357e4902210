/**
 * Benchmark 4 — API. `GET /campaigns/{id}` and `GET /campaigns?limit=20`
 * with an API key, against a real listening server (a fresh process), 50
 * connections for BENCH_API_SECONDS (10) each, driven by autocannon from this
 * process. Baseline, in the same run: a bare Fastify server (fresh process)
 * answering the same two URLs with the same JSON bodies, captured from the app.
 *
 *   node --import tsx bench/api.ts          (BENCH_ENGINES, BENCH_API_SECONDS)
 */
import autocannon from 'autocannon';
import Fastify from 'fastify';
import type { DatabaseConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import type { ChildContext } from './child.js';
import { fmtInt, fmtMiB, fmtRatio, isMain, log, peakRssMiB, report, settings, startChild, verdict, type ChildResult } from './lib/common.js';
import { freshDatabase } from './lib/db.js';
import { call, createCampaign, createTenant, openApp, publishedTemplate, type Tenant } from './lib/setup.js';

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

      const bare = startChild('api-baseline', { routes: bodies });
      const { url: bareUrl } = (await bare.next()) as { url: string };
      log(`${engine}: loading bare Fastify at ${bareUrl}`);
      const baseline = await measure(bareUrl, paths, tenant);
      bare.send({ stop: true });
      const bareRss = (await bare.result).peakRssMiB;

      paths.forEach((path, i) => {
        const a = app[i]!;
        const b = baseline[i]!;
        const ratio = a.rps / b.rps;
        rows.push([
          engine,
          `GET ${path.replace(/\/campaigns\/[^?]+$/, '/campaigns/{id}')}`,
          `${fmtInt(a.rps)} req/s, p50 ${a.p50} ms, p99 ${a.p99} ms`,
          `${fmtInt(b.rps)} req/s, p50 ${b.p50} ms, p99 ${b.p99} ms`,
          fmtRatio(ratio),
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
      columns: ['engine', 'route', 'MailingCore', 'baseline: bare Fastify, same JSON', 'ratio (req/s)', 'targets', 'peak RSS (server)', 'peak RSS (bare)'],
      rows,
    },
    notes: [
      `autocannon, ${CONNECTIONS} connections, ${settings.apiSeconds} s per route after a 1 s warm-up, from the benchmark process; the servers each run in a fresh process on the same two cores`,
      `MailingCore: the real app (\`buildApp\`, every hook: API key look-up, rate-limit counter, quota headers, response schema) listening on 127.0.0.1; the tenant has ${CAMPAIGNS} campaigns`,
      'baseline: `Fastify()` with the two routes answering the captured bodies as strings',
      ...notes,
    ],
  });
}

if (isMain(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
