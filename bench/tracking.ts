/**
 * Benchmark 8 — the tracking redirect. `GET /track/c/{token}` on the real
 * app (a fresh process, listening) with genuine click tokens of a campaign's
 * messages, one per message, driven by autocannon from this process (50
 * connections, BENCH_API_SECONDS each after a 1 s warm-up). Baseline, in the
 * same run: bare Fastify (fresh process) answering `GET /track/c/:token` with
 * a 302 to the same URL. Counting is checked too: once the app has closed
 * (writing its last batch), the campaign's clicked_total must equal the
 * number of 302s it answered.
 *
 *   node --import tsx bench/tracking.ts      (BENCH_ENGINES, BENCH_API_SECONDS, BENCH_TRACKING_MESSAGES)
 */
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { sql } from 'kysely';
import type { DatabaseConfig } from '../src/config.js';
import { DEFAULTS } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { TrackingTokens } from '../src/tracking/token.js';
import type { ChildContext } from './child.js';
import { BENCH_SECRET, fmtInt, fmtMiB, fmtRatio, log, peakRssMiB, report, runIfMain, settings, sleep, startChild, type ChildResult } from './lib/common.js';
import { freshDatabase, seedContacts } from './lib/db.js';
import { call, createCampaign, createTenant, fannedOut, openApp, publishedTemplate } from './lib/setup.js';

const CONNECTIONS = 50;
const MESSAGES = Number(process.env.BENCH_TRACKING_MESSAGES ?? 1000);
const DESTINATION = 'https://example.com/news/1?utm_source=newsletter&utm_medium=email&utm_campaign=june';

/** Child role: the real app listening until told to stop; closing writes the last batch of hits. Reports the 302s it answered. */
export async function trackingServer(params: { config: DatabaseConfig }, ctx: ChildContext): Promise<ChildResult & { redirects: number }> {
  const database = openDatabase(params.config, { poolSize: 10 });
  const fixture = await openApp(database);
  ctx.emit({ url: await fixture.app.listen({ host: '127.0.0.1', port: 0 }) });
  await ctx.command();
  await fixture.close();
  // The server's own count (its request-duration histogram): autocannon does not count answers in flight when it stops.
  const histogram = await fixture.container.metrics.httpRequestDuration.get();
  const redirects = histogram.values
    .filter((v) => v.metricName?.endsWith('_count') && v.labels.route === '/track/c/:token' && v.labels.status_code === '302')
    .reduce((n, v) => n + v.value, 0);
  return { peakRssMiB: peakRssMiB(), redirects };
}

/** Child role: bare Fastify answering the same path with the same redirect. */
export async function trackingBaseline(params: { location: string }, ctx: ChildContext): Promise<ChildResult> {
  const app = Fastify({ logger: false, routerOptions: { maxParamLength: 4096 } });
  app.get('/track/c/:token', async (_request, reply) => reply.redirect(params.location, 302));
  ctx.emit({ url: await app.listen({ host: '127.0.0.1', port: 0 }) });
  await ctx.command();
  await app.close();
  return { peakRssMiB: peakRssMiB() };
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  redirects: number;
  bad: number;
}

async function load(base: string, tokens: string[], seconds: number): Promise<Load> {
  let next = 0;
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/track/c/${tokens[next++ % tokens.length]}` }) }],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    redirects: result['3xx'],
    bad: result['1xx'] + result['2xx'] + result['4xx'] + result['5xx'] + result.errors + result.timeouts,
  };
}

/** A 1 s warm-up, then the measured load; every answer must be a redirect. */
async function measure(base: string, tokens: string[]): Promise<{ load: Load; redirects: number }> {
  const warm = await load(base, tokens, 1);
  const measured = await load(base, tokens, settings.apiSeconds);
  const bad = warm.bad + measured.bad;
  if (bad > 0) throw new Error(`${base}: ${bad} answers were not 302s`);
  return { load: measured, redirects: warm.redirects + measured.redirects };
}

export async function main(): Promise<void> {
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const engine of settings.engines) {
    const { bench, database } = await freshDatabase(engine);
    const fixture = await openApp(database);
    try {
      const { app, container } = fixture;
      const tenant = await createTenant(container, MESSAGES * 10);
      const versionId = await publishedTemplate(app, tenant);
      await seedContacts(database, tenant.tenantId, MESSAGES);
      const campaignId = await createCampaign(app, tenant, { templateVersionId: versionId, tracking: { opens: true, clicks: true } });
      await call(app, tenant, 'POST', `/campaigns/${campaignId}/send`, undefined, [202]);
      await fannedOut(database, campaignId);
      // Messages are counted whether or not they were delivered yet: the queue is enough, nothing is sent.
      const messageIds = (await database.db.selectFrom('messages').select('id').where('campaign_id', '=', campaignId).execute()).map((r) => Number(r.id));
      const sealer = new TrackingTokens(BENCH_SECRET);
      const tokens = messageIds.map((messageId) => sealer.seal({ kind: 'click', tenantId: tenant.tenantId, campaignId, messageId, url: DESTINATION }));
      await fixture.close();

      const server = startChild<ChildResult & { redirects: number }>('tracking-server', { config: bench.config });
      const { url } = (await server.next()) as { url: string };
      log(`${engine}: loading the app's /track/c at ${url} (${fmtInt(tokens.length)} tokens)`);
      const appRun = await measure(url, tokens);
      server.send({ stop: true });
      const { peakRssMiB: appRss, redirects } = await server.result;
      if (redirects < appRun.redirects) throw new Error(`${engine}: the app counted ${redirects} 302s, autocannon received ${appRun.redirects}`);

      const bare = startChild('tracking-baseline', { location: DESTINATION });
      const { url: bareUrl } = (await bare.next()) as { url: string };
      log(`${engine}: loading bare Fastify at ${bareUrl}`);
      const bareRun = await measure(bareUrl, tokens);
      bare.send({ stop: true });
      const bareRss = (await bare.result).peakRssMiB;

      const check = openDatabase(bench.config, { poolSize: 1 });
      const counted = await check.db
        .selectFrom('campaign_stats')
        .select([sql<number>`coalesce(sum(clicked_total), 0)`.as('total'), sql<number>`coalesce(sum(clicked_unique), 0)`.as('unique')])
        .where('campaign_id', '=', campaignId)
        .executeTakeFirstOrThrow();
      await check.close();
      const total = Number(counted.total);
      if (total !== redirects) throw new Error(`${engine}: ${redirects} redirects answered but ${total} clicks counted`);

      const a = appRun.load;
      const b = bareRun.load;
      rows.push([
        engine,
        `${fmtInt(a.rps)} req/s, p50 ${a.p50} ms, p99 ${a.p99} ms`,
        `${fmtInt(b.rps)} req/s, p50 ${b.p50} ms, p99 ${b.p99} ms`,
        fmtRatio(a.rps / b.rps),
        `${fmtInt(total)} of ${fmtInt(redirects)} (${fmtInt(Number(counted.unique))} unique)`,
        fmtMiB(appRss),
        fmtMiB(bareRss),
      ]);
      notes.push(`${engine}: token ${tokens[0]!.length} characters for a ${DESTINATION.length}-character URL`);
    } finally {
      await fixture.close().catch(() => {});
      await bench.drop();
    }
  }
  report({
    title: 'Tracking redirect',
    table: {
      columns: ['engine', 'MailingCore: GET /track/c/{token}', 'baseline: bare Fastify 302', 'ratio (req/s)', 'clicks counted / 302s answered', 'peak RSS (server)', 'peak RSS (bare)'],
      rows,
    },
    notes: [
      `autocannon, ${CONNECTIONS} connections, ${settings.apiSeconds} s after a 1 s warm-up, from the benchmark process; each server in a fresh process on the same cores`,
      `MailingCore: the real app (\`buildApp\`, every hook) with genuine tokens of ${fmtInt(MESSAGES)} queued messages, each request the next token in turn: open the AES-GCM token, hand the hit to the recorder, answer 302; hits written in batches (every ${DEFAULTS.tracking.flushMs} ms or ${DEFAULTS.tracking.flushHits} hits) during the load, the last batch on close, then the campaign's clicked_total compared with the 302s the server answered (its request histogram; warm-up included)`,
      'baseline: `Fastify()` answering `GET /track/c/:token` with `reply.redirect(url, 302)` to the same URL',
      ...notes,
    ],
  });
}

runIfMain(import.meta.url, main);
