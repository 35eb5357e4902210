import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The built CLI, exactly as `npx mailingcore` runs it (npm test builds it first). */
export const CLI = path.resolve('dist/cli.js');

export function assertBuilt(): void {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run "npm run build" (npm test does it for you)');
}

/**
 * The suite's SMTP sinks listen on 127.0.0.1, which the outbound-connection policy
 * refuses by default: every process the tests start allows it (and plain AUTH to it), and webhook receivers on it.
 */
export const TEST_OUTBOUND_ENV: Record<string, string> = { SMTP_ALLOW_HOSTS: '127.0.0.1', SMTP_ALLOW_PLAIN_AUTH: 'true', WEBHOOK_ALLOW_PRIVATE: 'true' };

export function runCli(args: string[], env: Record<string, string>, input?: string) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...TEST_OUTBOUND_ENV, ...env },
    encoding: 'utf8',
    timeout: 30_000,
    ...(input === undefined ? {} : { input }),
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `mailingcore <role>` and resolves once /healthz answers. */
export async function startCliServer(role: string, env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, role], {
    env: { ...process.env, ...TEST_OUTBOUND_ENV, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mailingcore ${role} exited early:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`mailingcore ${role} did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => output,
    stop: (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
}
