/**
 * Benchmark — time to the first email (issue 18, target 1). `BENCH_SCALE`
 * opted-in contacts (1 % suppressed, three locales), a campaign to all of
 * them through an SMTP project pointing at a local sink (another process).
 * A fresh process plays `mailingcore start`: the API and a worker with its
 * default options. Measured, from the moment `POST /campaigns/{id}/send` is
 * called:
 *
 *   - the send request itself (its 202: template, sender, quota and preflight checks);
 *   - the first message accepted by the sink (the sink stamps it; same machine clock);
 *   - the end of the fan-out (the whole audience queued), the worker sending meanwhile.
 *
 * Baseline, in the same run, database and process shape: the same send with
 * the fan-out as one transaction (`fanoutChunkRows` larger than the
 * audience), i.e. as before the fan-out was streamed, when no worker could
 * claim anything until the whole audience had committed.
 *
 *   node --import tsx bench/first-email.ts          (BENCH_SCALE, BENCH_ENGINES, BENCH_REPS)
 */
import { performance } from 'node:perf_hooks';
import type { ChildContext } from './child.js';
import type { DatabaseConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import {
  fmtInt, fmtMs, log, median, peakRssMiB, recordTarget, report, runIfMain, settings, sleep, startChild, startSink, verdict,
  type ChildResult,
} from './lib/common.js';
import { empty } from './lib/db.js';
import { prepareFanOut } from './fanout.js';
import { call, createCampaign, openApp, smtpProject, type Tenant } from './lib/setup.js';

const TARGET_MS = 1000;
const PUBLIC_URL = 'https://mail.acme.example';
/** A chunk larger than any audience here: the fan-out as one transaction, as before it was streamed. */
const ONE_TRANSACTION = { first: 1e9, max: 1e9 };

const epochMs = () => performance.timeOrigin + performance.now();

interface FirstEmailParams {
  config: DatabaseConfig;
  tenant: Tenant;
  campaignId: string;
  /** The fan-out's chunks; the default ones when absent. */
  chunkRows?: { first: number; max: number };
}

export interface FirstEmailResult extends ChildResult {
  /** When POST /send answered 202 (epoch ms). */
  acceptedAt: number;
  /** Its call → 202. */
  sendMs: number;
  /** 202 → the whole audience queued. */
  fanOutMs: number;
}

/**
 * Child role: the API and a worker in one process (as `mailingcore start`),
 * warmed up by a test send of the campaign (render threads, SMTP pool); tells
 * the parent, which resets the sink's clock; then sends the campaign and waits
 * for its fan-out.
 */
export async function firstEmailApp(params: FirstEmailParams, ctx: ChildContext): Promise<FirstEmailResult> {
  const database = openDatabase(params.config, { poolSize: 10 });
  const { app, container, close } = await openApp(database, { publicUrl: PUBLIC_URL }, params.chunkRows ? { fanoutChunkRows: params.chunkRows } : undefined);
  const worker = container.createWorker();
  worker.start();
  const url = `/campaigns/${params.campaignId}`;
  // A running server is warm: routes compiled, connections open, render threads started.
  for (let i = 0; i < 20; i++) await call(app, params.tenant, 'GET', url);
  await call(app, params.tenant, 'POST', `${url}/test`, { emails: ['warm-up@bench.example'] });
  ctx.emit({ warm: true });
  await ctx.command();

  const calledAt = epochMs();
  await call(app, params.tenant, 'POST', `${url}/send`, undefined, [202]);
  const acceptedAt = epochMs();
  const sendMs = acceptedAt - calledAt;
  for (;;) {
    const row = await database.db.selectFrom('campaigns').select(['fanout_completed_at', 'status']).where('id', '=', params.campaignId).executeTakeFirstOrThrow();
    if (row.fanout_completed_at !== null) break;
    if (row.status !== 'SENDING') throw new Error(`campaign ${row.status} before its fan-out finished`);
    await sleep(5);
  }
  const fanOutMs = epochMs() - acceptedAt;
  await worker.stop();
  await close();
  return { acceptedAt, sendMs, fanOutMs, peakRssMiB: peakRssMiB() };
}

interface Run extends FirstEmailResult {
  firstMs: number;
}

export async function main(): Promise<void> {
  const contacts = settings.scale;
  const reps = settings.reps ?? (contacts <= 200_000 ? 3 : 1);
  const rows: string[][] = [];
  const notes: string[] = [];
  const sink = await startSink();
  try {
    for (const engine of settings.engines) {
      const setup = await prepareFanOut(engine, contacts);
      try {
        const projectId = await smtpProject(setup.fixture.app, setup.tenant, sink.port);
        const once = async (chunkRows?: FirstEmailParams['chunkRows']): Promise<Run> => {
          const campaignId = await createCampaign(setup.fixture.app, setup.tenant, { templateVersionId: setup.baseVersionId, projectId });
          const child = startChild<FirstEmailResult>('first-email-app', { config: setup.bench.config, tenant: setup.tenant, campaignId, chunkRows } satisfies FirstEmailParams);
          await child.next(); // warmed up: the test send reached the sink
          await sink.reset();
          child.send({ action: 'go' });
          const result = await child.result;
          const { firstAt } = await sink.count();
          if (firstAt === null) throw new Error('no message reached the sink');
          await setup.database.db.deleteFrom('usage').execute();
          await empty(setup.database.db, engine, 'messages');
          return { ...result, firstMs: firstAt - result.acceptedAt };
        };
        const streamed: Run[] = [];
        const whole: Run[] = [];
        for (let rep = 0; rep < reps; rep++) {
          // Alternate the order so neither side always runs on the warmer cache.
          if (rep % 2 === 0) {
            whole.push(await once(ONE_TRANSACTION));
            streamed.push(await once());
          } else {
            streamed.push(await once());
            whole.push(await once(ONE_TRANSACTION));
          }
          log(`${engine}: rep ${rep + 1}/${reps}: first email ${fmtMs(streamed.at(-1)!.firstMs)} streamed, ${fmtMs(whole.at(-1)!.firstMs)} one transaction`);
        }
        const m = (runs: Run[], key: 'firstMs' | 'sendMs' | 'fanOutMs') => median(runs.map((r) => r[key]));
        rows.push([
          engine,
          fmtInt(setup.audience),
          fmtMs(m(streamed, 'sendMs')),
          fmtMs(m(streamed, 'firstMs')),
          fmtMs(m(whole, 'firstMs')),
          `≤ ${fmtMs(TARGET_MS)}: ${verdict(m(streamed, 'firstMs') <= TARGET_MS)}`,
          fmtMs(m(streamed, 'fanOutMs')),
          fmtMs(m(whole, 'fanOutMs')),
        ]);
        recordTarget({
          target: '1 first email after the 202',
          engine,
          figure: `${fmtMs(m(streamed, 'firstMs'))} at ${fmtInt(setup.audience)} (POST /send → 202: ${fmtMs(m(streamed, 'sendMs'))})`,
          baseline: `one transaction ${fmtMs(m(whole, 'firstMs'))}`,
          goal: `≤ ${fmtMs(TARGET_MS)}`,
          met: m(streamed, 'firstMs') <= TARGET_MS,
        });
        notes.push(
          `${engine} runs, first email (streamed / one transaction): ${streamed.map((r) => fmtMs(r.firstMs)).join(', ')} / ${whole.map((r) => fmtMs(r.firstMs)).join(', ')}; ` +
            `whole audience queued: ${streamed.map((r) => fmtMs(r.fanOutMs)).join(', ')} / ${whole.map((r) => fmtMs(r.fanOutMs)).join(', ')}`,
        );
      } finally {
        await setup.close();
      }
    }
  } finally {
    await sink.close();
  }
  report({
    title: 'Time to the first email (issue 18, target 1)',
    table: {
      columns: ['engine', 'recipients', 'POST /send → 202', '202 → first email (streamed fan-out)', 'baseline: 202 → first email, fan-out in one transaction', 'target', '202 → whole audience queued (streamed, worker sending)', '202 → whole audience queued (one transaction)'],
      rows,
    },
    notes: [
      `median of ${reps} run(s) each, alternating, in a fresh process running the API and a worker (default options, as \`mailingcore start\`), warmed up by a test send; times are from the 202 of \`POST /campaigns/{id}/send\` (its own latency in the third column); the first email is the sink's acceptance of the first message`,
      'the total fan-out time without a worker competing for the cores, against a bare INSERT … SELECT, is the fan-out benchmark\'s',
      ...notes,
    ],
  });
}

runIfMain(import.meta.url, main);
