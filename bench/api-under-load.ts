/**
 * Benchmark — the API during a send (issue 18, target 4). A tenant with
 * max(50,000, BENCH_SCALE) contacts and 30 campaigns of history; a campaign of
 * min(BENCH_SCALE, 100,000) messages is delivered to the SMTP sink (another
 * process) while a fixed 500 requests/s in all, spread evenly over
 * `GET /campaigns/{id}` (the campaign being sent), `GET /campaigns?limit=20`
 * and `GET /contacts?limit=50`, arrive at the API for BENCH_API_SECONDS
 * (after a 1 s warm-up at the same rate). Three shapes, each in fresh processes:
 *
 *   - idle: the API process alone (`mailingcore serve`), nothing being sent;
 *   - serve + worker: the API process and a worker process (`mailingcore
 *     worker`: scheduler, delivery, webhooks, retention), as a scaled-out
 *     deployment runs them;
 *   - start: one process running the API and the worker together, as
 *     `mailingcore start` does by default (the single-host deployment).
 *
 * The send must be running during the whole load window: the campaign is
 * still SENDING with messages queued when the window ends, and the sink
 * received messages during it (both reported). The campaign is cancelled
 * afterwards. Target: p99 ≤ 25 ms (SQLite), ≤ 50 ms (PostgreSQL) on every route.
 *
 *   node --import tsx bench/api-under-load.ts          (BENCH_SCALE, BENCH_ENGINES, BENCH_API_SECONDS)
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sql } from 'kysely';
import type { DatabaseConfig } from '../src/config.js';
import type { Container } from '../src/container.js';
import { openDatabase } from '../src/db/database.js';
import type { ChildContext } from './child.js';
import { fmtInt, fmtMiB, log, peakRssMiB, recordTarget, report, runIfMain, settings, sleep, startChild, startSink, verdict, type ChildResult } from './lib/common.js';
import { contactsToQueue, freshDatabase, seedContacts, warm } from './lib/db.js';
import { fixedRateLoad, summarize, type FixedRateResult } from './lib/fixed-rate.js';
import { call, createCampaign, createTenant, openApp, publishedTemplate, queueCampaign, smtpProject, type Tenant } from './lib/setup.js';

export const API_LOAD_RATE = 500;
export const API_LOAD_P99_TARGET_MS = { sqlite: 25, postgres: 50 } as const;
const MIN_CONTACTS = 50_000;
const HISTORY_CAMPAIGNS = 30;
const WARM_UP_SECONDS = 1;
const PUBLIC_URL = 'https://mail.acme.example';

type Shape = 'idle' | 'serve+worker' | 'start';
const SHAPES: Shape[] = ['idle', 'serve+worker', 'start'];
const SHAPE_LABEL: Record<Shape, string> = {
  idle: 'idle (API process alone)',
  'serve+worker': 'sending: API process + worker process',
  start: 'sending: one process, API + worker (`start`)',
};

/** What `mailingcore start` and `mailingcore worker` run beside (or instead of) the API: scheduler, delivery, webhooks, retention. */
function startBackground(container: Container): () => Promise<void> {
  const scheduler = container.createScheduler();
  const worker = container.createWorker();
  const dispatcher = container.createWebhookDispatcher();
  const retention = container.createRetention();
  scheduler.start();
  worker.start();
  dispatcher.start();
  retention.start();
  return async () => {
    await scheduler.stop();
    await Promise.all([worker.stop(), dispatcher.stop(), retention.stop()]);
  };
}

interface ServerResult extends ChildResult {
  /** How late this process's event loop ran during the measured window (ms): time no request could be served. */
  loopDelayP99: number;
  loopDelayMax: number;
  /** CPU time (user + system) this process used during the measured window, ms. */
  cpuMs: number;
}

/**
 * Child role: the API listening (`serve`), with the worker and the rest in
 * the same process when `background` (`start`). Its event-loop delay is
 * measured from the parent's `measure` command to `stop`: on SQLite every
 * statement (the worker's too, in `start`), and any wait for another
 * process's write lock (busy_timeout), holds the loop.
 */
export async function apiLoadServer(params: { config: DatabaseConfig; background: boolean }, ctx: ChildContext): Promise<ServerResult> {
  const database = openDatabase(params.config);
  const fixture = await openApp(database, { publicUrl: PUBLIC_URL });
  const stopBackground = params.background ? startBackground(fixture.container) : undefined;
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  ctx.emit({ url: await fixture.app.listen({ host: '127.0.0.1', port: 0 }) });
  let cpuBefore = process.cpuUsage();
  if ((await ctx.command()).measure) {
    delay.reset();
    cpuBefore = process.cpuUsage();
    await ctx.command(); // stop
  }
  const cpu = process.cpuUsage(cpuBefore);
  delay.disable();
  const loopDelayP99 = delay.percentile(99) / 1e6;
  const loopDelayMax = delay.max / 1e6;
  await fixture.app.close();
  await stopBackground?.();
  await fixture.close();
  return { peakRssMiB: peakRssMiB(), loopDelayP99, loopDelayMax, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Child role: a worker process (`mailingcore worker`), until told to stop. */
export async function apiLoadWorker(params: { config: DatabaseConfig }, ctx: ChildContext): Promise<ChildResult> {
  const database = openDatabase(params.config);
  const fixture = await openApp(database, { publicUrl: PUBLIC_URL });
  const stopBackground = startBackground(fixture.container);
  ctx.emit({ started: true });
  await ctx.command();
  await stopBackground();
  await fixture.close();
  return { peakRssMiB: peakRssMiB() };
}

interface ShapeRun {
  shape: Shape;
  load: FixedRateResult;
  /** Messages the sink accepted during the measured window, and the campaign's state at its end. */
  sentDuring?: number;
  stillSending?: boolean;
  queuedAtEnd?: number;
  serverRss: number;
  workerRss?: number;
  loopDelayP99: number;
  loopDelayMax: number;
  cpuMs: number;
}

const ROUTE_NAMES = ['GET /campaigns/{id}', 'GET /campaigns?limit=20', 'GET /contacts?limit=50'];

export async function main(): Promise<void> {
  const n = Math.min(settings.scale, 100_000);
  const audience = contactsToQueue(n);
  // The tenant is as large as the run (at least 50,000), the audience only as large as the campaign.
  const contacts = Math.max(MIN_CONTACTS, settings.scale, audience);
  const rows: string[][] = [];
  const notes: string[] = [];
  const sink = await startSink();
  try {
    for (const engine of settings.engines) {
      const target = API_LOAD_P99_TARGET_MS[engine];
      const { bench, database } = await freshDatabase(engine);
      const fixture = await openApp(database, { publicUrl: PUBLIC_URL });
      try {
        const { app, container } = fixture;
        const tenant: Tenant = await createTenant(container, contacts * 10);
        const templateVersionId = await publishedTemplate(app, tenant);
        const projectId = await smtpProject(app, tenant, sink.port);
        await seedContacts(database, tenant.tenantId, contacts);
        if (contacts > audience) {
          // Beyond the audience, contacts that opted out: listed, never sent to.
          const boundary = await database.db
            .selectFrom('contacts')
            .select('id')
            .where('tenant_id', '=', tenant.tenantId)
            .orderBy('id')
            .offset(audience - 1)
            .limit(1)
            .executeTakeFirstOrThrow();
          await database.db.updateTable('contacts').set({ opt_in: 0 }).where('tenant_id', '=', tenant.tenantId).where('id', '>', boundary.id).execute();
          if (engine === 'postgres') await sql`analyze`.execute(database.db);
        }
        for (let i = 0; i < HISTORY_CAMPAIGNS; i++) {
          await createCampaign(app, tenant, { name: `History ${i + 1}`, templateVersionId, audienceFilter: { optIn: true, locale: 'es' } });
        }
        await warm(database);

        const runs: ShapeRun[] = [];
        for (const shape of SHAPES) {
          const sending = shape !== 'idle';
          const campaignId = sending
            ? await queueCampaign(fixture, tenant, { name: `Sending (${shape})`, templateVersionId, projectId }, n)
            : await createCampaign(app, tenant, { name: 'Idle', templateVersionId });
          await sink.reset();
          const server = startChild<ServerResult>('api-load-server', { config: bench.config, background: shape === 'start' });
          const worker = shape === 'serve+worker' ? startChild('api-load-worker', { config: bench.config }) : undefined;
          let run: ShapeRun;
          try {
            const { url } = (await server.next()) as { url: string };
            if (worker) await worker.next();
            if (sending) while ((await sink.count()).accepted === 0) await sleep(10);
            const paths = [`/campaigns/${campaignId}`, '/campaigns?limit=20', '/contacts?limit=50'];
            log(`${engine}, ${shape}: ${API_LOAD_RATE} req/s for ${WARM_UP_SECONDS} s (warm-up) + ${settings.apiSeconds} s at ${url}`);
            await fixedRateLoad(url, paths, tenant.headers, API_LOAD_RATE, WARM_UP_SECONDS);
            const before = sending ? (await sink.count()).accepted : 0;
            server.send({ measure: true });
            const load = await fixedRateLoad(url, paths, tenant.headers, API_LOAD_RATE, settings.apiSeconds);
            run = { shape, load, serverRss: 0, loopDelayP99: 0, loopDelayMax: 0, cpuMs: 0 };
            if (sending) {
              run.sentDuring = (await sink.count()).accepted - before;
              const view = await call<{ status: string; counters: { queued: number } }>(app, tenant, 'GET', `/campaigns/${campaignId}`);
              run.stillSending = view.status === 'SENDING' && view.counters.queued > 0;
              run.queuedAtEnd = view.counters.queued;
            }
          } finally {
            // Whatever happened, the send is cancelled (409: it had finished, which the table reports) and the
            // children stopped: one left running would hold the database the run drops.
            if (sending) await call(app, tenant, 'POST', `/campaigns/${campaignId}/cancel`, undefined, [200, 409]);
            worker?.send({ stop: true });
            server.send({ stop: true });
          }
          run.workerRss = worker ? (await worker.result).peakRssMiB : undefined;
          const served = await server.result;
          run.serverRss = served.peakRssMiB;
          run.loopDelayP99 = served.loopDelayP99;
          run.loopDelayMax = served.loopDelayMax;
          run.cpuMs = served.cpuMs;
          runs.push(run);
        }

        const idleRun = runs.find((r) => r.shape === 'idle');
        const idleWorst = idleRun ? Math.max(...idleRun.load.paths.map((p) => summarize(p.latencies).p99)) : undefined;
        for (const run of runs) {
          const all = summarize(run.load.paths.flatMap((p) => p.latencies));
          const perRoute = run.load.paths.map((p) => summarize(p.latencies));
          const failed = run.load.paths.reduce((sum, p) => sum + p.bad, 0);
          const met = perRoute.every((s) => s.p99 <= target) && failed === 0;
          const sendNote =
            run.sentDuring === undefined
              ? '—'
              : `${fmtInt(run.sentDuring / settings.apiSeconds)} msg/s during the window; ${run.stillSending ? `still sending at its end (${fmtInt(run.queuedAtEnd!)} queued)` : '**finished before the window ended**'}`;
          recordTarget({
            target: `4 API p99 at 500 req/s: ${SHAPE_LABEL[run.shape]}`,
            engine,
            figure: `worst route p99 ${Math.max(...perRoute.map((s) => s.p99)).toFixed(1)} ms${failed > 0 ? `, ${fmtInt(failed)} failed` : ''}${run.stillSending === false ? ', send finished early' : ''}`,
            baseline: run.shape === 'idle' ? '—' : `idle: ${idleWorst !== undefined ? `${idleWorst.toFixed(1)} ms` : '—'}`,
            goal: `≤ ${target} ms`,
            met: met && run.stillSending !== false,
          });
          perRoute.forEach((s, i) => {
            rows.push([
              engine,
              SHAPE_LABEL[run.shape],
              ROUTE_NAMES[i]!,
              `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)} / ${s.max.toFixed(1)} ms`,
              `${fmtInt(s.count / settings.apiSeconds)}${run.load.paths[i]!.bad > 0 ? ` (**${fmtInt(run.load.paths[i]!.bad)} failed**)` : ''}`,
              i === 0 ? `${all.p99.toFixed(1)} ms; ${fmtInt(run.load.achievedRps)} req/s` : '',
              i === 0 ? `p99 ≤ ${target} ms: ${verdict(met && run.stillSending !== false)}` : '',
              i === 0 ? sendNote : '',
              i === 0 ? `${fmtMiB(run.serverRss)}${run.workerRss !== undefined ? ` / worker ${fmtMiB(run.workerRss)}` : ''}` : '',
            ]);
          });
          if (failed > 0) {
            const reasons = run.load.paths.map((p) => `${p.path.replace(/\/campaigns\/[^?]+$/, '/campaigns/{id}')}: ${JSON.stringify(p.failures)}`).join('; ');
            notes.push(`${engine}, ${run.shape}: ${fmtInt(failed)} requests failed or were not 2xx (${reasons})`);
          }
          notes.push(
            `${engine}, ${run.shape}: the API process used ${fmtInt((run.cpuMs * 1000) / run.load.paths.reduce((sum, p) => sum + p.latencies.length, 0))} µs of CPU per request answered (${run.shape === 'start' ? 'its worker included; ' : ''}${fmtInt((run.cpuMs / 10) / settings.apiSeconds)} % of a core); its event loop delayed p99 ${run.loopDelayP99.toFixed(1)} ms, max ${run.loopDelayMax.toFixed(1)} ms; ` +
              `the load driver's own lag p99 ${run.load.lagP99.toFixed(1)} ms, max ${run.load.lagMax.toFixed(1)} ms`,
          );
        }
      } finally {
        await fixture.close();
        await bench.drop();
      }
    }
  } finally {
    await sink.close();
  }
  report({
    title: 'API during a send (issue 18, target 4)',
    table: {
      columns: ['engine', 'shape', 'route', 'p50 / p99 / max', 'req/s', 'all routes: p99; achieved', 'target', 'the send', 'peak RSS (API)'],
      rows,
    },
    notes: [
      `a fixed ${API_LOAD_RATE} requests/s in all (open loop: each leaves on schedule whether or not earlier ones were answered), the three routes in turn, for ${settings.apiSeconds} s after a ${WARM_UP_SECONDS} s warm-up, from the benchmark process over keep-alive connections; latency from the request handed to Node's HTTP client to the end of its answer`,
      `tenant: ${fmtInt(contacts)} contacts (the first ${fmtInt(audience)} opted in, the rest opted out; 1 % suppressed), ${HISTORY_CAMPAIGNS + 1}+ campaigns; the campaign being sent: ${fmtInt(n)} messages to the SMTP sink (another process), queued before the API process starts; GET /campaigns/{id} reads it`,
      'the worker: `container.createWorker()` with the default options, with the scheduler, webhook dispatcher and retention as `mailingcore worker` / `start` run them; the load starts once the sink has received the first message, the campaign is cancelled after the window',
      'a verdict is met when every route\'s p99 is within the target, every request was answered 2xx, and (under a send) the campaign was still sending when the window ended; req/s is answered (2xx) requests per second of the window',
      ...notes,
    ],
  });
}

runIfMain(import.meta.url, main);
