/**
 * Child processes of the built CLI for crash tests: workers started, killed
 * and replaced at will, and a group that makes sure none outlives the test.
 *
 *   const group = new ProcessGroup();
 *   const w = group.startWorker(env);            // `mailingcore worker`
 *   await w.ready;                               // its "worker running" log line
 *   await w.kill('SIGKILL');                     // → { code: null, signal: 'SIGKILL' }
 *   group.adopt(await startCliServer('serve', env));
 *   afterEach(() => group.killAll());            // SIGKILL whatever still runs
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, TEST_OUTBOUND_ENV, type ServerProcess } from './cli.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildHandle {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<Exit>;
  running(): boolean;
  output(): string;
  /** Sends the signal and resolves with the exit. */
  kill(signal?: NodeJS.Signals): Promise<Exit>;
}

export interface WorkerHandle extends ChildHandle {
  /** Resolves once the worker logged that it runs; rejects if it exits first or takes over 20 s. */
  ready: Promise<void>;
}

const FATAL_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/**
 * Every child started or adopted here is SIGKILLed by killAll(), and when the
 * test process exits or is stopped by a signal (a run cut short by `timeout`
 * or Ctrl-C), so no worker outlives the test. Only a SIGKILL of the test
 * process itself escapes this.
 */
export class ProcessGroup {
  private readonly children = new Set<ChildHandle>();
  private counter = 0;
  private readonly onExit = () => {
    for (const handle of this.children) if (handle.running()) handle.child.kill('SIGKILL');
  };
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.onExit();
    this.unhook();
    // Then die of it as if we had not been here — unless someone else (the test runner) handles it.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };

  constructor() {
    process.once('exit', this.onExit);
    for (const signal of FATAL_SIGNALS) process.once(signal, this.onSignal);
  }

  /** `mailingcore worker` with the given environment (LOG_LEVEL=info unless set, for the ready line). */
  startWorker(env: Record<string, string>): WorkerHandle {
    const name = `worker-${++this.counter}`;
    const child = spawn(process.execPath, [CLI, 'worker'], {
      env: { ...process.env, ...TEST_OUTBOUND_ENV, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const handle = this.track(name, child);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 20 s:\n${handle.output()}`)), 20_000);
      const check = () => {
        if (handle.output().includes('MailingCore worker running')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      void handle.exited.then((exit) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${exit.code ?? exit.signal}) before it was ready:\n${handle.output()}`));
      });
    });
    ready.catch(() => {}); // a worker killed before it was ready is not an error unless someone awaits it
    return { ...handle, ready };
  }

  /** Takes charge of a process started elsewhere (startCliServer). */
  adopt(server: ServerProcess, name = 'server'): ChildHandle {
    return this.track(name, server.child, server.output);
  }

  running(): ChildHandle[] {
    return [...this.children].filter((c) => c.running());
  }

  /** SIGKILLs every child still running and waits for them to go. */
  async killAll(): Promise<void> {
    await Promise.all(this.running().map((c) => c.kill('SIGKILL')));
  }

  /** killAll, and forget the exit and signal hooks. */
  async dispose(): Promise<void> {
    await this.killAll();
    this.unhook();
  }

  private unhook(): void {
    process.removeListener('exit', this.onExit);
    for (const signal of FATAL_SIGNALS) process.removeListener(signal, this.onSignal);
  }

  private track(name: string, child: ChildProcess, output?: () => string): ChildHandle {
    let captured = '';
    if (!output) {
      child.stdout!.on('data', (d) => (captured += d));
      child.stderr!.on('data', (d) => (captured += d));
    }
    const exited = new Promise<Exit>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const handle: ChildHandle = {
      name,
      child,
      pid: child.pid!,
      exited,
      running: () => child.exitCode === null && child.signalCode === null,
      output: output ?? (() => captured),
      kill: (signal = 'SIGTERM') => {
        if (handle.running()) child.kill(signal);
        return exited;
      },
    };
    this.children.add(handle);
    return handle;
  }
}
