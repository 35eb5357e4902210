/**
 * Benchmark 5 — scaling (issue 18, target 7: cost as work grows). At three
 * audience sizes, each in a fresh database — top/100, top/10 and top
 * contacts, where top = min(10 × BENCH_SCALE, 1 000 000): 2k, 20k, 200k in
 * the quick pass; 10k, 100k, 1M in the full one — three costs that should
 * not grow with the audience (the largest within 1.5× of the smallest):
 * - the fan-out's time per contact (benchmark 1's measurement);
 * - delivery's time per message: the real worker (a fresh process) sending
 *   the first SLICE messages of a campaign queued to the whole audience,
 *   to the SMTP sink, then stopped (timed from its first sends: start-up left out);
 * - the reads after a send: the report, the recipients log and the event
 *   log, with an `email.sent` event for every recipient in the event table.
 *
 *   node --import tsx bench/scaling.ts          (BENCH_SCALE, BENCH_ENGINES)
 */
import { fmtInt, fmtMs, fmtRatio, runIfMain, log, median, recordTarget, report, runChild, settings, startSink, verdict, type Engine, type Sink } from './lib/common.js';
import { measureAppOnce, prepareFanOut, type FanOutSetup } from './fanout.js';
import type { DeliveryAppParams, DeliveryResult } from './delivery.js';
import { REPORT_QUERIES, seedSentEvents, timeReportQueries, type ReportTimings } from './lib/report-queries.js';
import { queueCampaign, smtpProject } from './lib/setup.js';

export const SCALING_TARGET = 1.5;

export function sizes(scale: number): number[] {
  const top = Math.min(10 * scale, 1_000_000);
  return [Math.round(top / 100), Math.round(top / 10), top];
}

interface SizeFigures {
  contacts: number;
  audience: number;
  fanOutMs: number;
  fanOutReps: number;
  /** µs per queued message. */
  fanOutUs: number;
  /** ms per delivered message of the slice. */
  deliveryMsPerMessage: number;
  reads: ReportTimings;
}

/** A campaign to the whole audience through the sink's project: its first `slice` delivered by a fresh worker process, then every recipient given its sent event; the reads timed. */
async function afterTheSend(setup: FanOutSetup, sink: Sink, slice: number): Promise<{ deliveryMsPerMessage: number; reads: ReportTimings }> {
  const projectId = await smtpProject(setup.fixture.app, setup.tenant, sink.port);
  const campaignId = await queueCampaign(setup.fixture, setup.tenant, { templateVersionId: setup.baseVersionId, projectId }, setup.audience);
  await sink.reset();
  const delivered = await runChild<DeliveryResult>('delivery-app', { config: setup.bench.config, campaignId, expected: setup.audience, stopAfter: slice } satisfies DeliveryAppParams);
  const events = await seedSentEvents(setup.database, setup.tenant.tenantId, campaignId);
  log(`${setup.engine}: ${fmtInt(delivered.sent)} delivered in ${fmtMs(delivered.ms)}; ${fmtInt(events)} sent events in the log`);
  const reads = await timeReportQueries(setup.fixture, setup.tenant, campaignId);
  return { deliveryMsPerMessage: delivered.ms / delivered.sent, reads };
}

export async function main(): Promise<void> {
  const rows: string[][] = [];
  const spreadRows: string[][] = [];
  const all = sizes(settings.scale);
  /** Delivered per size: a slice every size has (the smallest audience is 99 % of its contacts). */
  const slice = Math.min(5_000, Math.floor(all[0]! * 0.9));
  const sink = await startSink();
  try {
    for (const engine of settings.engines) {
      const figures: SizeFigures[] = [];
      for (const contacts of all) {
        const setup = await prepareFanOut(engine, contacts);
        try {
          const reps = settings.reps ?? (contacts <= 20_000 ? 3 : 1);
          const runs: number[] = [];
          for (let rep = 0; rep < reps; rep++) runs.push((await measureAppOnce(setup)).ms);
          const fanOutMs = median(runs);
          const after = await afterTheSend(setup, sink, slice);
          figures.push({ contacts, audience: setup.audience, fanOutMs, fanOutReps: reps, fanOutUs: (fanOutMs * 1000) / setup.audience, ...after });
          log(`${engine}: ${fmtInt(contacts)} contacts → fan-out ${fmtMs(fanOutMs)}, delivery ${after.deliveryMsPerMessage.toFixed(2)} ms/message, stats ${fmtMs(after.reads['GET /campaigns/{id}/stats'])}`);
        } finally {
          await setup.close();
        }
      }
      rows.push(...figures.map((f) => sizeRow(engine, f, figures)));
      spreadRows.push(...spreads(engine, figures));
    }
  } finally {
    await sink.close();
  }
  report({
    title: 'Scaling (cost per contact, per message and per read as the audience grows)',
    table: {
      columns: ['engine', 'contacts', 'queued', 'fan-out: POST /send → queued', 'per queued message', `delivery: ms per message (first ${fmtInt(slice)})`, ...Object.keys(REPORT_QUERIES).map((q) => `${q} (median)`)],
      rows,
    },
    notes: [
      'each size in a fresh database, seeded like benchmark 1 (3 locales, 1 % suppressed, attributes); the per-contact time includes the fixed cost of the request (authentication, checks, a second process polling), which weighs most on the smallest size',
      `delivery: the real worker in a fresh process (default options, 5 pooled SMTP connections to the sink process) from start() until ${fmtInt(slice)} messages of a campaign queued to the whole audience are sent, timed from the first sends it records (the process's start-up left out)`,
      'reads: through the app (inject: authentication, hooks, serialization), median of 30 after 3 warm-up calls, with an `email.sent` event in the log for every recipient of that campaign',
    ],
  });
  report({
    title: 'Scaling: spread from the smallest to the largest audience (issue 18, target 7)',
    table: { columns: ['engine', 'cost', 'smallest audience', 'largest audience', 'max / min over the sizes', 'target'], rows: spreadRows },
    notes: ['max / min: the highest of the three sizes\' figures over the lowest (each size in its own database, same run)'],
  });
}

function sizeRow(engine: Engine, f: SizeFigures, all: SizeFigures[]): string[] {
  const fastest = Math.min(...all.map((x) => x.fanOutUs));
  return [
    engine,
    fmtInt(f.contacts),
    fmtInt(f.audience),
    `${fmtMs(f.fanOutMs)}${f.fanOutReps > 1 ? ` (median of ${f.fanOutReps})` : ''}`,
    `${f.fanOutUs.toFixed(1)} µs (${fmtRatio(f.fanOutUs / fastest)})`,
    `${f.deliveryMsPerMessage.toFixed(2)} ms`,
    ...Object.keys(REPORT_QUERIES).map((q) => `${f.reads[q as keyof ReportTimings].toFixed(1)} ms`),
  ];
}

/** Per cost: largest audience against smallest, and its verdict (recorded for the targets table). */
function spreads(engine: Engine, figures: SizeFigures[]): string[][] {
  const first = figures[0]!;
  const last = figures.at(-1)!;
  const costs: [string, (f: SizeFigures) => number, (v: number) => string][] = [
    ['fan-out per contact', (f) => f.fanOutUs, (v) => `${v.toFixed(1)} µs`],
    ['delivery per message', (f) => f.deliveryMsPerMessage, (v) => `${v.toFixed(2)} ms`],
    ...Object.keys(REPORT_QUERIES).map((q): [string, (f: SizeFigures) => number, (v: number) => string] => [q, (f) => f.reads[q as keyof ReportTimings], (v) => `${v.toFixed(1)} ms`]),
  ];
  return costs.map(([label, of, fmt]) => {
    const values = figures.map(of);
    const ratio = Math.max(...values) / Math.min(...values);
    const met = ratio <= SCALING_TARGET;
    recordTarget({
      target: `7 scaling: ${label}`,
      engine,
      figure: `${values.map(fmt).join(' / ')} (max/min ${fmtRatio(ratio)})`,
      baseline: `sizes ${figures.map((f) => fmtInt(f.contacts)).join(' / ')}`,
      goal: `max/min ≤ ${SCALING_TARGET}×`,
      met,
    });
    return [engine, label, `${fmt(of(first))} (${fmtInt(first.contacts)})`, `${fmt(of(last))} (${fmtInt(last.contacts)})`, fmtRatio(ratio), `max/min ≤ ${SCALING_TARGET}×: ${verdict(met)}`];
  });
}

runIfMain(import.meta.url, main);
