/**
 * Entry point of the benchmark's child processes: `fork(bench/child.ts, [role])`
 * with an IPC channel. The parent sends `{type: 'params'}`; the role runs and
 * answers `{type: 'result'}` (or `{type: 'error'}`); in between it may emit
 * events (`{type: 'event', data}`) and receive commands.
 */
import { roles } from './roles.js';

export interface ChildContext {
  emit(data: Record<string, unknown>): void;
  /** Resolves with the next command the parent sends. */
  command(): Promise<Record<string, unknown>>;
}

const role = process.argv[2] ?? '';
const load = roles[role];
const send = (message: unknown) => new Promise<void>((resolve) => process.send!(message, () => resolve()));

if (!load || !process.send) {
  console.error(`bench/child.ts: unknown role "${role}" or no IPC channel`);
  process.exit(2);
}

const commands: Record<string, unknown>[] = [];
const waiting: ((c: Record<string, unknown>) => void)[] = [];
let started = false;

process.on('message', (raw) => {
  const message = raw as { type: string; params?: unknown };
  if (message.type === 'params' && !started) {
    started = true;
    const ctx: ChildContext = {
      emit: (data) => void send({ type: 'event', data }),
      command: () => {
        const queued = commands.shift();
        return queued ? Promise.resolve(queued) : new Promise((resolve) => waiting.push(resolve));
      },
    };
    load()
      .then((run) => run(message.params, ctx))
      .then((result) => send({ type: 'result', result }))
      .catch((error: unknown) => send({ type: 'error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }))
      .finally(() => process.exit(0));
  } else if (message.type === 'command') {
    const waiter = waiting.shift();
    if (waiter) waiter(message as Record<string, unknown>);
    else commands.push(message as Record<string, unknown>);
  }
});
