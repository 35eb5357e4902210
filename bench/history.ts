/**
 * Benchmark 6 — history. A tenant mails the same audience again and again:
 * SENDS campaigns in a row to min(BENCH_SCALE, 20 000) contacts in one
 * database, the messages of earlier sends kept. Each send is benchmark 1's
 * measurement (POST /send through the app until the counters show the
 * queued messages). Baseline, in the same run: the first send, made with an
 * empty message history. A fan-out should not slow down as history grows:
 * the last sends within 1.5× of the first.
 *
 *   node --import tsx bench/history.ts          (BENCH_SCALE, BENCH_ENGINES)
 */
import { fmtInt, fmtMs, fmtRatio, runIfMain, log, median, report, settings, verdict } from './lib/common.js';
import { measureAppOnce, prepareFanOut } from './fanout.js';

export const HISTORY_TARGET = 1.5;
const SENDS = 20;

export async function main(): Promise<void> {
  const contacts = Math.min(settings.scale, 20_000);
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const engine of settings.engines) {
    const setup = await prepareFanOut(engine, contacts);
    try {
      const runs: number[] = [];
      for (let send = 0; send < SENDS; send++) {
        runs.push((await measureAppOnce(setup, { keepHistory: true })).ms);
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
}

runIfMain(import.meta.url, main);
