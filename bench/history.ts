/**
 * Benchmark 6 — history. A tenant mails the same audience again and again:
 * SENDS campaigns in a row to min(BENCH_SCALE, 20 000) contacts in one
 * database, the messages of earlier sends kept. Each send is benchmark 1's
 * measurement (POST /send through the app until the counters show the
 * queued messages). Baseline, in the same run: the first send, made with an
 * empty message history. A fan-out should not slow down as history grows:
 * the last sends within 1.5× of the first. The reads after a send (the
 * report, the recipients log, the event log — every recipient of every send
 * given its `email.sent` event) are timed after the first send and after the
 * last, same target (issue 18, target 7).
 *
 *   node --import tsx bench/history.ts          (BENCH_SCALE, BENCH_ENGINES)
 */
import { fmtInt, fmtMs, fmtRatio, runIfMain, log, median, recordTarget, report, settings, verdict } from './lib/common.js';
import { measureAppOnce, prepareFanOut } from './fanout.js';
import { REPORT_QUERIES, seedSentEvents, timeReportQueries, type ReportTimings } from './lib/report-queries.js';

export const HISTORY_TARGET = 1.5;
const SENDS = 20;

export async function main(): Promise<void> {
  const contacts = Math.min(settings.scale, 20_000);
  const rows: string[][] = [];
  const notes: string[] = [];
  const readRows: string[][] = [];
  for (const engine of settings.engines) {
    const setup = await prepareFanOut(engine, contacts);
    try {
      const runs: number[] = [];
      let firstReads: ReportTimings | undefined;
      let lastReads: ReportTimings | undefined;
      for (let send = 0; send < SENDS; send++) {
        const sent = await measureAppOnce(setup, { keepHistory: true });
        runs.push(sent.ms);
        await seedSentEvents(setup.database, setup.tenant.tenantId, sent.campaignId);
        if (send === 0) firstReads = await timeReportQueries(setup.fixture, setup.tenant, sent.campaignId);
        if (send === SENDS - 1) lastReads = await timeReportQueries(setup.fixture, setup.tenant, sent.campaignId);
        log(`${engine}: send ${send + 1} of ${SENDS} → ${fmtMs(runs.at(-1)!)}`);
      }
      const first = runs[0]!;
      const last = median(runs.slice(-5));
      const ratio = last / first;
      rows.push([
        engine,
        fmtInt(setup.audience),
        fmtMs(first),
        `${fmtMs(last)} (median of sends ${SENDS - 4}–${SENDS})`,
        fmtInt(setup.audience * (SENDS - 1)),
        fmtRatio(ratio),
        `≤ ${HISTORY_TARGET}×: ${verdict(ratio <= HISTORY_TARGET)}`,
      ]);
      notes.push(`${engine} sends, in order: ${runs.map((ms) => fmtMs(ms)).join(', ')}`);
      recordTarget({ target: '7 history: fan-out', engine, figure: `${fmtMs(last)} (${fmtRatio(ratio)})`, baseline: `first send ${fmtMs(first)}`, goal: `≤ ${HISTORY_TARGET}×`, met: ratio <= HISTORY_TARGET });
      for (const query of Object.keys(REPORT_QUERIES) as (keyof ReportTimings)[]) {
        const before = firstReads![query];
        const after = lastReads![query];
        const readRatio = after / before;
        readRows.push([engine, query, `${before.toFixed(1)} ms`, `${after.toFixed(1)} ms`, fmtRatio(readRatio), `≤ ${HISTORY_TARGET}×: ${verdict(readRatio <= HISTORY_TARGET)}`]);
        recordTarget({ target: `7 history: ${query}`, engine, figure: `${after.toFixed(1)} ms (${fmtRatio(readRatio)})`, baseline: `after the first send ${before.toFixed(1)} ms`, goal: `≤ ${HISTORY_TARGET}×`, met: readRatio <= HISTORY_TARGET });
      }
    } finally {
      await setup.close();
    }
  }
  report({
    title: 'History (the same audience mailed again and again)',
    table: {
      columns: ['engine', 'audience', 'baseline: first send (empty history)', `last sends`, 'messages already in history at the last send', 'ratio', 'target'],
      rows,
    },
    notes: [
      `${SENDS} campaigns to the same audience in one database, messages kept; each send is benchmark 1's measurement (a fresh process, POST /send until the counters show the queued messages)`,
      ...notes,
    ],
  });
  report({
    title: 'History: the reads after a send, first send against the last',
    table: { columns: ['engine', 'read', 'after the first send', `after send ${SENDS}`, 'ratio', 'target'], rows: readRows },
    notes: [
      `after each send every recipient gets an \`email.sent\` event (so the event log holds ${SENDS} × the audience at the end); each read through the app (inject), median of 30 after 3 warm-up calls, of that send's campaign`,
    ],
  });
}

runIfMain(import.meta.url, main);
