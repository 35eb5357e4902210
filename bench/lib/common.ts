/**
 * Shared plumbing of the benchmark suite: settings from the environment,
 * measured phases in child processes (so each reports its own peak RSS),
 * tables, and the dated entries appended to docs/BENCHMARKS.md.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** bench/lib, whether run from source (tsx) or compiled to bench/.build/bench/lib (npm run bench). */
const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Run from TypeScript source through tsx: children are started the same way. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const EXT = FROM_SOURCE ? 'ts' : 'js';

/** The repository root: above bench/lib, or above bench/.build/bench/lib when compiled. */
export const ROOT = path.resolve(HERE, ...(FROM_SOURCE ? ['..', '..'] : ['..', '..', '..', '..']));

/** A file of the suite (e.g. "child", "sink-process"), as this run executes it. */
export const benchFile = (name: string) => path.join(HERE, '..', `${name}.${EXT}`);
const execArgvFor = () => (FROM_SOURCE ? ['--import', 'tsx'] : []);
export type Engine = 'sqlite' | 'postgres';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer (got "${raw}")`);
  return value;
}

/** Everything a run can be told through the environment. */
export const settings = {
  /** Rows / contacts of the main measurements (quick pass 20 000; full 1 000 000). */
  scale: intFromEnv('BENCH_SCALE', 20_000),
  engines: (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',').map((e) => e.trim()).filter(Boolean) as Engine[],
  /** Which benchmarks `bench/run.ts` runs (default: all, in this order). */
  only: (process.env.BENCH_ONLY ?? 'fanout,first-email,delivery,scale-out,chaos,import,api,api-load,scaling,history,tracking,webhooks,priority').split(',').map((e) => e.trim()).filter(Boolean),
  /**
   * Messages per delivery-rate measurement (delivery, priority): the rate is steady after a few
   * thousand messages, so the full pass sends 25,000 per side rather than 100,000 (an hour of
   * delivery alone on two cores, with every message DKIM-signed).
   */
  deliveryMessages: process.env.BENCH_DELIVERY_MESSAGES ? intFromEnv('BENCH_DELIVERY_MESSAGES', 1) : Math.min(intFromEnv('BENCH_SCALE', 20_000), 25_000),
  /** Seconds of load per API measurement. */
  apiSeconds: intFromEnv('BENCH_API_SECONDS', 10),
  /** Repetitions of a fan-out measurement (median reported); default 5 up to 100k contacts (3 up to 20k in scaling), 1 above. */
  reps: process.env.BENCH_REPS ? intFromEnv('BENCH_REPS', 1) : undefined,
  /** Where entries are appended; "-" prints them only. */
  resultsFile: process.env.BENCH_RESULTS_FILE ?? path.join(ROOT, 'docs', 'BENCHMARKS.md'),
  /** A sentence added to each entry, e.g. about other load on the machine. */
  note: process.env.BENCH_NOTE ?? '',
  postgresAdminUrl: process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  /** Write a V8 CPU profile of every measured child process into this folder. */
  cpuProfileDir: process.env.BENCH_CPU_PROF,
};

for (const engine of settings.engines) {
  if (engine !== 'sqlite' && engine !== 'postgres') throw new Error(`BENCH_ENGINES: unknown engine "${engine}"`);
}

/** The same secret in every process of a run, so project passwords sealed by one are opened by another. */
export const BENCH_SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';
/** The benchmark's SMTP sinks listen on 127.0.0.1, which tenants' projects may not reach by default. */
export const BENCH_OUTBOUND = { smtpAllowHosts: ['127.0.0.1'] };

const isMain = (url: string): boolean => process.argv[1] !== undefined && url === pathToFileURL(path.resolve(process.argv[1])).href;

/** Runs a benchmark's `main` when its module is the one node was started with; a failure exits 1. */
export function runIfMain(url: string, main: () => Promise<void>): void {
  if (!isMain(url)) return;
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

/** Peak resident set size of this process so far, MiB. */
export const peakRssMiB = (): number => process.resourceUsage().maxRSS / 1024;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The nearest-rank percentile (p in 0–100). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const fmtMs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
export const fmtRatio = (r: number) => `${r.toFixed(2)}×`;
export const fmtMiB = (m: number) => `${m.toFixed(0)} MiB`;

// ── child processes ─────────────────────────────────────────────────────────

export interface ChildResult {
  peakRssMiB: number;
  [key: string]: unknown;
}

export interface ChildHandle<R> {
  /** Messages the child sends before its result (e.g. `{port}`), in order. */
  next(): Promise<Record<string, unknown>>;
  send(message: Record<string, unknown>): void;
  result: Promise<R>;
}

/**
 * Runs `role` (a function registered in bench/child.ts) in a fresh Node
 * process, so the phase it measures has its own peak RSS and heap.
 */
export function startChild<R extends ChildResult>(role: string, params: unknown): ChildHandle<R> {
  const execArgv = execArgvFor();
  if (settings.cpuProfileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDir}`);
  const child = fork(benchFile('child'), [role], {
    execArgv,
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, LOG_LEVEL: 'silent' },
  });
  const inbox: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  let settle: { resolve: (r: R) => void; reject: (e: Error) => void };
  const result = new Promise<R>((resolve, reject) => (settle = { resolve, reject }));
  let done = false;
  child.on('message', (raw) => {
    const message = raw as { type: string; result?: R; error?: string; data?: Record<string, unknown> };
    if (message.type === 'result') {
      done = true;
      settle.resolve(message.result!);
    } else if (message.type === 'error') {
      done = true;
      settle.reject(new Error(`${role}: ${message.error}`));
    } else if (message.type === 'event') {
      const waiter = waiters.shift();
      if (waiter) waiter(message.data!);
      else inbox.push(message.data!);
    }
  });
  child.on('exit', (code, signal) => {
    if (!done) settle.reject(new Error(`${role}: child exited (${code ?? signal}) before reporting`));
  });
  child.once('spawn', () => {
    if (settings.cpuProfileDir) log(`${role}: pid ${child.pid} (CPU profile in ${settings.cpuProfileDir})`);
    child.send({ type: 'params', params });
  });
  return {
    next: () => {
      const queued = inbox.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        waiters.push(resolve);
        result.catch(reject);
      });
    },
    send: (message) => child.send({ type: 'command', ...message }),
    result,
  };
}

export const runChild = <R extends ChildResult>(role: string, params: unknown): Promise<R> => startChild<R>(role, params).result;

// ── reporting ───────────────────────────────────────────────────────────────

export type Table = { columns: string[]; rows: string[][] };

export function markdownTable({ columns, rows }: Table): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(columns), line(columns.map(() => '---')), ...rows.map(line)].join('\n');
}

export function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const memGiB = os.totalmem() / 1024 ** 3;
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' / ');
  return `${cpus.length} cores (${model}), ${memGiB.toFixed(1)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}; load average ${load} (1/5/15 min) at the end`;
}

/** How this run was started, as someone would type it again. */
export function command(): string {
  const env = Object.entries(process.env)
    .filter(([key]) => key.startsWith('BENCH_') && key !== 'BENCH_RESULTS_FILE' && key !== 'BENCH_NOTE' && key !== 'BENCH_CHILD')
    .map(([key, value]) => `${key}=${value}`);
  const file = path.relative(ROOT, process.argv[1] ?? 'bench/run.ts');
  const script = process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : FROM_SOURCE ? `node --import tsx ${file}` : `node ${file}`;
  return [...env, script].join(' ');
}

export interface Entry {
  title: string;
  table: Table;
  /** Sentences under the table: the baseline, targets, anything odd. */
  notes: string[];
}

/** Prints the entry and appends it, dated, to docs/BENCHMARKS.md (unless BENCH_RESULTS_FILE=-). */
export function report(entry: Entry): void {
  const now = new Date();
  const stamp = `${now.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const text = [
    `### ${entry.title} — ${stamp}`,
    '',
    `- machine: ${machine()}`,
    `- command: \`${command()}\` (BENCH_SCALE=${settings.scale})`,
    ...(settings.note ? [`- note: ${settings.note}`] : []),
    '',
    markdownTable(entry.table),
    '',
    ...entry.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  console.log(`\n${text}`);
  if (settings.resultsFile === '-') return;
  const file = settings.resultsFile;
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  fs.writeFileSync(file, `${existing.replace(/\n*$/, '\n\n')}${text}`);
}

export const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

// ── issue 18's targets: one table for the whole run ─────────────────────────

/** One target's figure in this run, beside its same-run baseline. */
export interface TargetFigure {
  /** e.g. `1 first email`; the table is sorted by it. */
  target: string;
  engine: Engine | 'both' | '—';
  /** What was measured, as a reader wants it (`480 ms`, `0.91×`). */
  figure: string;
  /** The same-run baseline it is judged against, or `—` where the goal is absolute. */
  baseline: string;
  /** The goal as the issue states it (`≤ 1 s`). */
  goal: string;
  met: boolean;
}

const targetFigures: TargetFigure[] = [];

/** Benchmarks note every target they measure; `npm run bench` writes them as one table at the end (reportTargets). */
export function recordTarget(figure: TargetFigure): void {
  targetFigures.push(figure);
}

/** The "every target, its figure, its baseline, a verdict" table of issue 18, when this run measured any. */
export function reportTargets(notMeasured: string[], failed: string[] = []): void {
  if (targetFigures.length === 0) return;
  const rows = [...targetFigures]
    .sort((a, b) => a.target.localeCompare(b.target, 'en', { numeric: true }))
    .map((t) => [t.target, t.engine, t.figure, t.baseline, t.goal, verdict(t.met)]);
  const missed = targetFigures.filter((t) => !t.met).length;
  report({
    title: `Targets (issue 18): ${targetFigures.length - missed} met, ${missed} missed`,
    table: { columns: ['target', 'engine', 'figure', 'same-run baseline', 'goal', 'verdict'], rows },
    notes: [
      'each row comes from the benchmark of that name earlier in this run (its own entry above has the runs, the method and the notes)',
      ...(notMeasured.length > 0 ? [`not measured in this run (BENCH_ONLY): ${notMeasured.join(', ')}`] : []),
      ...(failed.length > 0 ? [`failed in this run (its error is in the run's log; its targets have no row): ${failed.join(', ')}`] : []),
    ],
  });
}

export function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

// ── the SMTP sink (another process) ─────────────────────────────────────────

export interface Sink {
  port: number;
  count(): Promise<{ accepted: number; bytes: number; signed: number; firstAt: number | null }>;
  /** When each message to a `tx-…` address was accepted (epoch ms). */
  arrivals(): Promise<Record<string, number>>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** `delayMs`: the sink waits this long before answering each message's DATA (a relay far away; SINK_DELAY_MS of bench/sink-process.ts). */
export async function startSink(options: { delayMs?: number } = {}): Promise<Sink> {
  const child = fork(benchFile('sink-process'), [], {
    execArgv: execArgvFor(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, SINK_DELAY_MS: String(options.delayMs ?? 0) },
  });
  const reply = (type: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (raw: unknown) => {
        const message = raw as Record<string, unknown>;
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message);
      };
      const onExit = () => reject(new Error('the SMTP sink exited'));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { port } = (await reply('listening')) as { port: number };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    port,
    count: async () => {
      const pending = reply('count');
      child.send({ type: 'count' });
      return (await pending) as unknown as { accepted: number; bytes: number; signed: number; firstAt: number | null };
    },
    arrivals: async () => {
      const pending = reply('arrivals');
      child.send({ type: 'arrivals' });
      return ((await pending) as { arrivals: Record<string, number> }).arrivals;
    },
    reset: async () => {
      const pending = reply('reset');
      child.send({ type: 'reset' });
      await pending;
    },
    close: async () => {
      child.send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
