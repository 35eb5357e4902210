/**
 * Issue 18, target 6 — duplicates after a crash, as `npm run chaos` measures
 * them: the crash test's chaos case (test/e2e/crash.test.ts, real worker
 * processes SIGKILLed mid-send and replaced, a real SMTP sink counting every
 * copy) at the production batch size, on both engines, its per-kill figure
 * read from the line the test prints. The bound: a kill may re-send at most
 * what was truly in flight, the worker's concurrent sends (loops × sendConcurrency).
 * No same-run baseline: before issue 18 the same run gave 49.3 (SQLite) and
 * 48.3 (PostgreSQL) per kill (docs/BENCHMARKS.md, "Issue 18 … first findings").
 *
 *   BENCH_ONLY=chaos npm run bench      (builds the server first: the test runs dist/)
 */
import { spawnSync } from 'node:child_process';
import { DEFAULTS } from '../src/config.js';
import { ROOT, fmtInt, log, recordTarget, report, runIfMain, settings, verdict } from './lib/common.js';

const IN_FLIGHT = DEFAULTS.sending.loops * DEFAULTS.sending.sendConcurrency;
const RECIPIENTS = Number(process.env.CHAOS_RECIPIENTS ?? 3000);
const KILLS = Number(process.env.CHAOS_KILLS ?? 4);

interface ChaosLine {
  engine: string;
  workers: string;
  kills: number;
  duplicates: number;
  perKill: number;
  lost: number;
  seconds: number;
}

const LINE = /\[crash (\w+)\] chaos: recipients=\d+ workers=(\S+) loops batch=\d+ kills=(\d+) .*?duplicates=(\d+) \(([\d.]+) per kill\).*? lost=(\d+) .*?time=([\d.]+)s/;

export async function main(): Promise<void> {
  const build = spawnSync('npm', ['run', 'build:server'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build:server failed');
  log(`chaos: ${fmtInt(RECIPIENTS)} recipients, ${KILLS} kills per engine, production batch size`);
  const run = spawnSync('npx', ['vitest', 'run', 'test/e2e/crash.test.ts', '-t', 'SIGKILLed'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CHAOS_RECIPIENTS: String(RECIPIENTS), CHAOS_KILLS: String(KILLS), CHAOS_BATCH_SIZE: String(DEFAULTS.sending.batchSize) },
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = `${run.stdout}\n${run.stderr}`.split('\n').flatMap((text): ChaosLine[] => {
    const m = LINE.exec(text);
    return m ? [{ engine: m[1]!, workers: m[2]!, kills: Number(m[3]), duplicates: Number(m[4]), perKill: Number(m[5]), lost: Number(m[6]), seconds: Number(m[7]) }] : [];
  });
  if (run.status !== 0 || lines.length === 0) {
    console.error(run.stdout.slice(-4000), run.stderr.slice(-4000));
    throw new Error(`the chaos test failed (exit ${run.status}) or printed no result line`);
  }
  const wanted = lines.filter((line) => settings.engines.includes(line.engine as never));
  for (const line of wanted) {
    recordTarget({
      target: '6 duplicates after a crash: per kill',
      engine: line.engine as never,
      figure: `${line.perKill.toFixed(1)} per kill (${line.duplicates} over ${line.kills} kills, ${line.lost} lost)`,
      baseline: 'before issue 18: 49.3 (SQLite), 48.3 (PostgreSQL) per kill',
      goal: `≤ ${IN_FLIGHT} (sends in flight per worker) and 0 lost`,
      met: line.perKill <= IN_FLIGHT && line.lost === 0,
    });
  }
  report({
    title: 'Duplicates after a crash (issue 18, target 6)',
    table: {
      columns: ['engine', 'worker processes × loops', 'kills', 'duplicates', 'per kill', 'lost', 'time', 'target'],
      rows: wanted.map((l) => [l.engine, l.workers, String(l.kills), String(l.duplicates), l.perKill.toFixed(1), String(l.lost), `${l.seconds.toFixed(1)} s`, `≤ ${IN_FLIGHT} per kill, 0 lost: ${verdict(l.perKill <= IN_FLIGHT && l.lost === 0)}`]),
    },
    notes: [
      `\`CHAOS_RECIPIENTS=${RECIPIENTS} CHAOS_KILLS=${KILLS} CHAOS_BATCH_SIZE=${DEFAULTS.sending.batchSize} npx vitest run test/e2e/crash.test.ts -t SIGKILLed\`: a campaign sent by worker processes each SIGKILLed and replaced in turn, every copy counted by a real SMTP sink (the test's own assertions — nobody lost, no stranger — passed); a duplicate is a recipient who got more than one copy`,
    ],
  });
}

runIfMain(import.meta.url, main);
