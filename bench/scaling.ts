/**
 * Benchmark 5 — scaling. The fan-out of benchmark 1 (POST /send through the
 * app until the counters show the queued messages) at three audience sizes,
 * each in a fresh database: top/100, top/10 and top contacts, where top =
 * min(10 × BENCH_SCALE, 1 000 000) — 2k, 20k, 200k in the quick pass; 10k,
 * 100k, 1M in the full one. The time per contact should stay flat: the
 * largest per-contact time within 1.5× of the smallest.
 *
 *   node --import tsx bench/scaling.ts          (BENCH_SCALE, BENCH_ENGINES)
 */
import { fmtInt, fmtMs, fmtRatio, runIfMain, log, median, report, settings, verdict } from './lib/common.js';
import { measureAppOnce, prepareFanOut } from './fanout.js';

export const SCALING_TARGET = 1.5;

export function sizes(scale: number): number[] {
  const top = Math.min(10 * scale, 1_000_000);
  return [Math.round(top / 100), Math.round(top / 10), top];
}

export async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const engine of settings.engines) {
    const perContact: number[] = [];
    const engineRows: string[][] = [];
    for (const contacts of sizes(settings.scale)) {
      const setup = await prepareFanOut(engine, contacts);
      try {
        const reps = settings.reps ?? (contacts <= 20_000 ? 3 : 1);
        const runs: number[] = [];
        for (let rep = 0; rep < reps; rep++) runs.push((await measureAppOnce(setup)).ms);
        const ms = median(runs);
        const us = (ms * 1000) / setup.audience;
        perContact.push(us);
        log(`${engine}: ${fmtInt(contacts)} contacts → ${fmtMs(ms)} (${us.toFixed(1)} µs per contact)`);
        engineRows.push([engine, fmtInt(contacts), fmtInt(setup.audience), `${fmtMs(ms)}${reps > 1 ? ` (median of ${reps})` : ''}`, `${us.toFixed(1)} µs`]);
      } finally {
        await setup.close();
      }
    }
    const smallest = Math.min(...perContact);
    const spread = Math.max(...perContact) / smallest;
    engineRows.forEach((row, i) => rows.push([...row, fmtRatio(perContact[i]! / smallest), i === engineRows.length - 1 ? `max/min ${fmtRatio(spread)} ≤ ${SCALING_TARGET}×: ${verdict(spread <= SCALING_TARGET)}` : '']));
  }
  report({
    title: 'Scaling (fan-out time per contact)',
    table: { columns: ['engine', 'contacts', 'queued', 'POST /send → queued', 'per queued message', 'vs. fastest', 'target'], rows },
    notes: [
      'each size in a fresh database, seeded like benchmark 1 (3 locales, 1 % suppressed, attributes); the per-contact time includes the fixed cost of the request (authentication, checks, a second process polling), which weighs most on the smallest size',
    ],
  });
}

runIfMain(import.meta.url, main);
