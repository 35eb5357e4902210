/**
 * Benchmark — delivery bound by SMTP latency, and scale-out over worker
 * processes on one PostgreSQL (issue 18, target 3). The SMTP sink
 * (bench/sink-process.ts, another process) answers each message 50 ms after
 * its data, like a relay far away: a worker's throughput is then bound by
 * its SMTP connections (N connections: at most N / 50 ms), not by its CPU.
 *
 * N = min(BENCH_SCALE, 10 000) messages per scenario, each a fresh campaign
 * to the same audience, sent by fresh worker processes (bench/child.ts, the
 * real `container.createWorker()`):
 *   1 worker with the default connections (SMTP_MAX_CONNECTIONS's default);
 *   1 worker with 20 connections;
 *   2 and 4 workers with the default connections.
 * Timed from the moment every worker is told to start until the campaign is
 * SENT. Baseline, same run: Nodemailer alone (createSmtpTransport, no
 * database) with 5 and with 20 connections against the same sink — what the
 * SMTP conversation itself allows. Reported beside each: the ideal (workers × connections / 50 ms), the
 * ratio to one worker, and what coordinating through the database cost:
 * claims per second (counted in the workers), outcome writes per second,
 * PostgreSQL commits per second (pg_stat_database) and lock waits (backends
 * of the database waiting on a heavyweight lock, `pg_stat_activity`
 * sampled every 50 ms).
 *
 *   node --import tsx bench/scale-out.ts          (BENCH_SCALE; PostgreSQL only)
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { DEFAULTS, sendSlotsPerLoop, type DatabaseConfig } from '../src/config.js';
import { createContainer } from '../src/container.js';
import { openDatabase } from '../src/db/database.js';
import { createSmtpTransport } from '../src/net/smtp-transport.js';
import type { ChildContext } from './child.js';
import {
  BENCH_OUTBOUND, BENCH_SECRET, fmtInt, fmtMs, fmtRatio, log, peakRssMiB, recordTarget, report, runChild, runIfMain, settings, sleep, startChild, startSink, verdict,
  type ChildResult,
} from './lib/common.js';
import { contactsToQueue, freshDatabase, seedContacts, warm } from './lib/db.js';
import { BENCH_RATE_LIMIT, createTenant, openApp, publishedTemplate, queueCampaign, smtpProject } from './lib/setup.js';

/** How long the sink waits before answering each message. */
export const RELAY_DELAY_MS = 50;
/** 4 workers ≥ this × 1 worker. */
export const SCALE_OUT_TARGET = 3.5;
/** One worker ≥ this × N / RELAY_DELAY_MS. */
export const CONNECTIONS_TARGET = 0.9;
const PUBLIC_URL = 'https://mail.acme.example';
const LOCK_SAMPLE_MS = 50;

interface ScaleOutWorkerParams {
  config: DatabaseConfig;
  /** SMTP connections of the process (SMTP_MAX_CONNECTIONS). */
  connections: number;
}

interface ScaleOutWorkerResult extends ChildResult {
  /** Campaign claims made (each one `claimDue` statement) and the messages they returned. */
  claims: number;
  claimed: number;
  /** Outcome transactions (`recordOutcomes`). */
  outcomeWrites: number;
  /** The priority lane's "anything due?" reads. */
  polls: number;
  sendSlots: number;
}

/** Child role: one worker process, SMTP_MAX_CONNECTIONS = `connections`, started on the parent's word and stopped on the next. */
export async function scaleOutWorker(params: ScaleOutWorkerParams, ctx: ChildContext): Promise<ScaleOutWorkerResult> {
  const database = openDatabase(params.config, { poolSize: 10 });
  const container = createContainer(database, {
    secret: BENCH_SECRET,
    delivery: { publicUrl: PUBLIC_URL },
    rateLimit: BENCH_RATE_LIMIT,
    outbound: BENCH_OUTBOUND,
    sending: { smtpConnections: params.connections },
  });
  // Count the statements the worker coordinates through (the worker calls them on this very object).
  const store = container.deliveryStore;
  const counts = { claims: 0, claimed: 0, outcomeWrites: 0, polls: 0 };
  const claimDue = store.claimDue.bind(store);
  store.claimDue = async (...args) => {
    const batch = await claimDue(...args);
    if (args[4] !== 'transactional') {
      counts.claims += 1;
      counts.claimed += batch.length;
    }
    return batch;
  };
  const recordOutcomes = store.recordOutcomes.bind(store);
  store.recordOutcomes = async (...args) => {
    counts.outcomeWrites += 1;
    return recordOutcomes(...args);
  };
  const anyDue = store.anyDue.bind(store);
  store.anyDue = async (...args) => {
    counts.polls += 1;
    return anyDue(...args);
  };
  const worker = container.createWorker();
  ctx.emit({ ready: true });
  await ctx.command();
  worker.start();
  await ctx.command();
  await worker.stop();
  await container.close();
  return { ...counts, sendSlots: DEFAULTS.sending.loops * sendSlotsPerLoop(DEFAULTS.sending.loops, params.connections), peakRssMiB: peakRssMiB() };
}

interface ScaleOutBaselineParams {
  port: number;
  count: number;
  connections: number;
}

/**
 * Child role: Nodemailer alone, `connections` pooled connections and two
 * sends in flight per connection (as the worker holds them), sending
 * `count` copies of one pre-built ~3 KB email to the sink: what the SMTP
 * conversation itself allows against a relay 50 ms away, without a database.
 */
export async function scaleOutBaseline(params: ScaleOutBaselineParams): Promise<ChildResult & { ms: number }> {
  const transport = createSmtpTransport({ host: '127.0.0.1', port: params.port, secure: false }, { maxConnections: params.connections });
  const html = `<html><body>${'<p>Paragraph: this month we shipped faster imports and a new delivery pipeline.</p>'.repeat(40)}</body></html>`;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 2 * params.connections }, async () => {
      while (next < params.count) {
        const i = next++;
        await transport.sendMail({ from: 'news@acme.example', to: `contact${i}@bench.example`, subject: `News ${i}`, html, messageId: `<baseline.${i}@acme.example>` });
      }
    }),
  );
  const ms = performance.now() - started;
  transport.close();
  return { ms, peakRssMiB: peakRssMiB() };
}

interface Scenario {
  label: string;
  workers: number;
  connections: number;
}

interface LockWaits {
  samples: number;
  /** Samples in which at least one backend waited on a lock. */
  waiting: number;
  /** The most backends waiting at once. */
  max: number;
  /** Waiting statement (first words) and lock → backends seen waiting, over all samples. */
  statements: Map<string, number>;
}

interface Measured {
  scenario: Scenario;
  ms: number;
  rate: number;
  workers: ScaleOutWorkerResult[];
  commits: number;
  lock: LockWaits;
}

/** Samples the bench database's backends waiting on a lock, until stopped. */
function sampleLockWaits(url: string): { stop(): Promise<LockWaits> } {
  const client = new pg.Client({ connectionString: url });
  const result: LockWaits = { samples: 0, waiting: 0, max: 0, statements: new Map() };
  let running = true;
  const loop = (async () => {
    await client.connect();
    while (running) {
      // What waits, and on what: the waiting statement's first words and the lock's kind.
      const { rows } = await client.query<{ query: string; locktype: string | null }>(
        `select left(regexp_replace(a.query, '\\s+', ' ', 'g'), 60) as query,
                (select l.locktype || ' on ' || coalesce(l.relation::regclass::text, l.locktype) from pg_locks l where l.pid = a.pid and not l.granted limit 1) as locktype
           from pg_stat_activity a
          where a.datname = current_database() and a.pid <> pg_backend_pid() and a.wait_event_type = 'Lock'`,
      );
      result.samples += 1;
      if (rows.length > 0) result.waiting += 1;
      result.max = Math.max(result.max, rows.length);
      for (const row of rows) {
        const key = `${row.query} (${row.locktype ?? '?'})`;
        result.statements.set(key, (result.statements.get(key) ?? 0) + 1);
      }
      await sleep(LOCK_SAMPLE_MS);
    }
    await client.end();
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return result;
    },
  };
}

async function commitsOf(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Counters are flushed by each backend at most once a second; a fresh snapshot reads them as they are now.
    await client.query('select pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ commits: string }>('select xact_commit as commits from pg_stat_database where datname = current_database()');
    return Number(rows[0]!.commits);
  } finally {
    await client.end();
  }
}

export async function main(): Promise<void> {
  if (!settings.engines.includes('postgres')) {
    log('scale-out: PostgreSQL only (BENCH_ENGINES has no postgres); skipped');
    return;
  }
  const n = Math.min(settings.scale, 10_000);
  const defaultConnections = DEFAULTS.sending.smtpConnections;
  const scenarios: Scenario[] = [
    { label: `1 worker, ${defaultConnections} connections (default)`, workers: 1, connections: defaultConnections },
    { label: '1 worker, 20 connections', workers: 1, connections: 20 },
    { label: `2 workers, ${defaultConnections} connections each`, workers: 2, connections: defaultConnections },
    { label: `4 workers, ${defaultConnections} connections each`, workers: 4, connections: defaultConnections },
  ];
  const sink = await startSink({ delayMs: RELAY_DELAY_MS });
  const { bench, database } = await freshDatabase('postgres');
  const url = (bench.config as { url: string }).url;
  const fixture = await openApp(database, { publicUrl: PUBLIC_URL });
  const measured: Measured[] = [];
  try {
    const { app, container } = fixture;
    const tenant = await createTenant(container, n * (scenarios.length + 1) * 2);
    const versionId = await publishedTemplate(app, tenant);
    const projectId = await smtpProject(app, tenant, sink.port);
    await seedContacts(database, tenant.tenantId, contactsToQueue(n));
    await warm(database);
    for (const scenario of scenarios) {
      const campaignId = await queueCampaign(fixture, tenant, { templateVersionId: versionId, projectId }, n);
      await sink.reset();
      const children = Array.from({ length: scenario.workers }, () =>
        startChild<ScaleOutWorkerResult>('scale-out-worker', { config: bench.config, connections: scenario.connections } satisfies ScaleOutWorkerParams),
      );
      for (const child of children) await child.next();
      const commitsBefore = await commitsOf(url);
      const locks = sampleLockWaits(url);
      const started = performance.now();
      for (const child of children) child.send({ go: true });
      let row: { status: string; sent_count: number };
      for (;;) {
        row = await database.db.selectFrom('campaigns').select(['status', 'sent_count']).where('id', '=', campaignId).executeTakeFirstOrThrow();
        if (row.status !== 'SENDING') break;
        await sleep(20);
      }
      const ms = performance.now() - started;
      const lock = await locks.stop();
      const commits = (await commitsOf(url)) - commitsBefore;
      for (const child of children) child.send({ stop: true });
      const workers = await Promise.all(children.map((c) => c.result));
      const accepted = (await sink.count()).accepted;
      if (row.status !== 'SENT' || row.sent_count !== n || accepted !== n) {
        throw new Error(`${scenario.label}: campaign ${row.status} with ${row.sent_count} sent, the sink accepted ${accepted}; expected ${n}`);
      }
      const rate = (n / ms) * 1000;
      log(`scale-out: ${scenario.label}: ${fmtInt(rate)} msg/s (${fmtMs(ms)})`);
      measured.push({ scenario, ms, rate, workers, commits, lock });
    }
  } catch (error) {
    await sink.close();
    throw error;
  } finally {
    await fixture.close();
    await bench.drop();
  }

  // The transport alone, same sink, same connections: what the SMTP conversation allows without the worker.
  const baselines: { connections: number; rate: number; ms: number }[] = [];
  try {
    for (const connections of [defaultConnections, 20]) {
      await sink.reset();
      const result = await runChild<ChildResult & { ms: number }>('scale-out-baseline', { port: sink.port, count: n, connections } satisfies ScaleOutBaselineParams);
      const accepted = (await sink.count()).accepted;
      if (accepted !== n) throw new Error(`Nodemailer alone: the sink accepted ${accepted}, expected ${n}`);
      baselines.push({ connections, rate: (n / result.ms) * 1000, ms: result.ms });
      log(`scale-out: Nodemailer alone, ${connections} connections: ${fmtInt((n / result.ms) * 1000)} msg/s`);
    }
  } finally {
    await sink.close();
  }

  const one = measured[0]!.rate;
  const rows = measured.map(({ scenario, ms, rate, workers, commits, lock }) => {
    const ideal = (scenario.workers * scenario.connections * 1000) / RELAY_DELAY_MS;
    const seconds = ms / 1000;
    const claims = workers.reduce((sum, w) => sum + w.claims, 0);
    const claimed = workers.reduce((sum, w) => sum + w.claimed, 0);
    const writes = workers.reduce((sum, w) => sum + w.outcomeWrites, 0);
    const polls = workers.reduce((sum, w) => sum + w.polls, 0);
    const targets: string[] = [];
    if (scenario.workers === 1) {
      targets.push(`≥ ${CONNECTIONS_TARGET}× ideal: ${verdict(rate / ideal >= CONNECTIONS_TARGET)}`);
      const transport = baselines.find((b) => b.connections === scenario.connections);
      recordTarget({
        target: `3 latency-bound: 1 worker, ${scenario.connections} connections`,
        engine: 'postgres',
        figure: `${fmtInt(rate)} msg/s (${fmtRatio(rate / ideal)} of N / ${RELAY_DELAY_MS} ms)`,
        baseline: transport ? `Nodemailer alone: ${fmtInt(transport.rate)} msg/s (${fmtRatio(transport.rate / ideal)})` : '—',
        goal: `≥ ${CONNECTIONS_TARGET} × N / ${RELAY_DELAY_MS} ms = ${fmtInt(CONNECTIONS_TARGET * ideal)} msg/s`,
        met: rate / ideal >= CONNECTIONS_TARGET,
      });
    }
    if (scenario.workers === 4) {
      targets.push(`≥ ${SCALE_OUT_TARGET}× 1 worker: ${verdict(rate / one >= SCALE_OUT_TARGET)}`);
      recordTarget({
        target: '3 latency-bound: 4 worker processes',
        engine: 'postgres',
        figure: `${fmtInt(rate)} msg/s (${fmtRatio(rate / one)}; lock waits in ${lock.waiting}/${lock.samples} samples)`,
        baseline: `1 worker: ${fmtInt(one)} msg/s`,
        goal: `≥ ${SCALE_OUT_TARGET}× 1 worker`,
        met: rate / one >= SCALE_OUT_TARGET,
      });
    }
    return [
      scenario.label,
      `${fmtInt(rate)} msg/s (${fmtMs(ms)})`,
      `${fmtInt(ideal)} msg/s`,
      fmtRatio(rate / ideal),
      scenario.connections === measured[0]!.scenario.connections ? fmtRatio(rate / one) : '—',
      targets.join('; ') || '—',
      `${(claims / seconds).toFixed(1)} (${(claimed / Math.max(1, claims)).toFixed(0)} msgs each)`,
      `${(writes / seconds).toFixed(1)}`,
      `${fmtInt(commits / seconds)}`,
      `${lock.waiting}/${lock.samples} (max ${lock.max})`,
      `${(polls / seconds).toFixed(0)}`,
      `${Math.max(...workers.map((w) => w.peakRssMiB)).toFixed(0)} MiB`,
    ];
  });
  for (const baseline of baselines) {
    const ideal = (baseline.connections * 1000) / RELAY_DELAY_MS;
    rows.push([
      `baseline: Nodemailer alone, ${baseline.connections} connections`,
      `${fmtInt(baseline.rate)} msg/s (${fmtMs(baseline.ms)})`,
      `${fmtInt(ideal)} msg/s`,
      fmtRatio(baseline.rate / ideal),
      '—', '—', '—', '—', '—', '—', '—', '—',
    ]);
  }
  const slots = measured.map((m) => `${m.scenario.label}: ${m.workers[0]?.sendSlots ?? '?'} sends in flight per worker`).join('; ');
  report({
    title: 'Scale-out: delivery bound by SMTP latency (PostgreSQL)',
    table: {
      columns: [
        'workers',
        'throughput',
        `ideal (connections / ${RELAY_DELAY_MS} ms)`,
        'ratio to ideal',
        'ratio to 1 worker',
        'target',
        'claims/s (avg size)',
        'outcome writes/s',
        'PG commits/s',
        'lock-wait samples',
        'tx-lane polls/s',
        'peak RSS (largest worker)',
      ],
      rows,
    },
    notes: [
      `${fmtInt(n)} messages per row, each row a fresh campaign to the same audience, sent by fresh worker processes (\`container.createWorker()\`, default options, SMTP_MAX_CONNECTIONS as shown) on one PostgreSQL; timed from the moment every worker was told to start until the campaign is SENT; the sink's count checked`,
      `sink: \`smtp-server\` in another process answering each message ${RELAY_DELAY_MS} ms after its data (SINK_DELAY_MS); ideal = workers × connections / ${RELAY_DELAY_MS} ms`,
      'baseline rows: `createSmtpTransport` alone in a fresh process (no database, no rendering), the same sink and connections, two sends in flight per connection, one pre-built ~3 KB email: what the SMTP conversation itself allows',
      `claims/s: campaign claims (\`claimDue\` statements, counted in the workers) per second, all workers together; outcome writes/s: outcome transactions; PG commits/s: \`pg_stat_database.xact_commit\` of the bench database over the run (every statement outside a transaction counts one); lock-wait samples: samples (every ${LOCK_SAMPLE_MS} ms) in which a backend of the bench database waited on a heavyweight lock (\`pg_stat_activity.wait_event_type = 'Lock'\`), and the most waiting at once; tx-lane polls/s: the priority lane's "anything due?" reads`,
      slots,
      ...measured.map(({ scenario, lock }) => {
        const top = [...lock.statements].sort((a, b) => b[1] - a[1]).slice(0, 3);
        return `${scenario.label}: what waited on a lock (backends × samples): ${top.map(([what, count]) => `\`${what}\` ${count}`).join('; ') || 'nothing'}`;
      }),
    ],
  });
}

runIfMain(import.meta.url, main);
