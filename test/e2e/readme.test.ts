import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, startCliServer, type ServerProcess } from '../helpers/cli.js';

/** The ```sh blocks of the README's walk-through, in order, as one bash script. */
export function walkThroughScript(readme: string): string {
  const start = readme.indexOf('## Walk-through');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.join('\n');
}

/**
 * The README walk-through, run as written (bash, curl, `npx mailingcore`) in
 * a fresh directory against `mailingcore start` there, as a newcomer would.
 */
describe('README walk-through', { timeout: 180_000 }, () => {
  let dir: string;
  let server: ServerProcess;

  beforeAll(async () => {
    assertBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailingcore-readme-'));
    // As in the README: the default ./data of the directory the server and the CLI run in, and
    // WEBHOOK_ALLOW_PRIVATE=true for step 6's receiver on this machine.
    server = await startCliServer('start', { DATA_DIR: path.join(dir, 'data'), DATABASE_URL: '', LOG_LEVEL: 'warn', WEBHOOK_ALLOW_PRIVATE: 'true' });
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs every command of the walk-through; the outputs shown are what they print', () => {
    const script = walkThroughScript(fs.readFileSync('README.md', 'utf8'));
    expect(script).toContain('npx mailingcore tenants create');
    const prelude = [
      'set -eo pipefail',
      // `npx mailingcore` is the built CLI of this checkout.
      `npx() { if [ "$1" = mailingcore ]; then shift; node ${JSON.stringify(CLI)} "$@"; else command npx "$@"; fi; }`,
    ].join('\n');
    const body = script.replace('export MAILINGCORE_URL=http://127.0.0.1:3000', `export MAILINGCORE_URL=${server.url}`);
    expect(body).not.toBe(script);
    const result = spawnSync('bash', ['-c', `${prelude}\n${body}`], {
      cwd: dir,
      env: { ...process.env, DATA_DIR: '', DATABASE_URL: '', LOG_LEVEL: 'warn', MAILINGCORE_URL: '', MAILINGCORE_API_KEY: '', MAILINGCORE_TENANT_ID: '' },
      encoding: 'utf8',
      timeout: 150_000,
    });
    fs.writeFileSync(path.join(os.tmpdir(), 'mailingcore-readme-last-run.txt'), `${result.stdout}\n--- stderr ---\n${result.stderr}`);
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    const out = result.stdout;
    expect(result.stderr).toContain(`mailingcore: database ${fs.realpathSync(dir)}/data/mailingcore.db`);
    expect(out).toContain('{"created":4,"updated":0,"failed":0,"results":[{"index":0,"status":"created","id":"');
    expect(out).toMatch(/\{"email":"dan@example\.com","reason":"manual","createdAt":"[^"]+"\}/);
    expect(out).toMatch(/PUBLISHED\nPUBLISHED\n/);
    expect(out).toContain(
      '[{"locale":"en","count":1,"hasTemplate":true},{"locale":"es","count":1,"hasTemplate":true},{"locale":"es-MX","count":1,"hasTemplate":true}]',
    );
    expect(out).toMatch(/campaign \S+ is SENDING\n/);
    expect(out).toMatch(/^SENT sent 3\/3 queued 0 failed 0 rate [\d.]+\/s eta 0s$/m);
    expect(out).toMatch(/^campaign \S+ SENT: 3 sent, 0 failed, 0 cancelled$/m);
    expect(out).toMatch(/1\.eml\n2\.eml\n3\.eml\n/);
    expect(out).toContain('Subject: Noticias para Ana');
    expect(out).toContain('2027-06-01T07:00:00.000Z');
    expect(out).toMatch(/^\S+ {2}mc_live_\w{4}… {2}dashboard {2}campaigns:read {2}last used: never$/m);
    expect(out).toMatch(/API key \S+ revoked at /);
    expect(out).toMatch(/\{"ok":false,"error":"[^"]+"\}/);
    expect(out).toMatch(/^contact\.unsubscribed erin@example\.com verified \(delivery [0-9a-f-]{36}\)$/m);
    expect(out).toMatch(/^failed$/m);
    expect(out).toMatch(/^SENT$/m); // the transactional email, sync
    expect(out).toMatch(/^email \S+ is SENT$/m);
    expect(out).toMatch(/^\S+\s+SENT\s+\S+\s+ana@example\.com\s+Your receipt$/m);
  });
});
