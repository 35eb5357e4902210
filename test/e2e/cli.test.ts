import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { assertBuilt, runCli, startCliServer } from '../helpers/cli.js';

/** The newcomer's path, through the real CLI and real HTTP, on both databases. */
describe.each(DIALECTS)('mailingcore CLI and server (%s)', { timeout: 120_000 }, (dialect) => {
  let testDb: TestDatabase;
  let env: Record<string, string>;
  let dataDir: string;

  beforeAll(async () => {
    assertBuilt();
    testDb = await createTestDatabase(dialect);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailingcore-cli-'));
    const url = testDb.config.dialect === 'sqlite' ? `sqlite:${testDb.config.file}` : testDb.config.url;
    env = { DATABASE_URL: url, DATA_DIR: dataDir, LOG_LEVEL: 'warn', MAILINGCORE_SECRET: 's'.repeat(40) };
  });

  afterAll(async () => {
    await testDb?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('migrates, creates a tenant whose key works with the seed example, and manages keys', async () => {
    const migrate = runCli(['migrate'], env);
    expect(migrate.status, migrate.stderr).toBe(0);
    expect(runCli(['migrate'], env).stdout).toContain('up to date');

    const created = runCli(['tenants', 'create', '--name', 'Acme', '--quota', '5000', '--json'], env);
    expect(created.status, created.stderr).toBe(0);
    const { tenant, apiKey } = JSON.parse(created.stdout) as { tenant: { id: string }; apiKey: string };
    expect(tenant).toMatchObject({ name: 'Acme', monthlyQuota: 5000 });
    expect(apiKey).toMatch(/^mc_live_[0-9A-Za-z]{32,}$/);

    const server = await startCliServer(dialect === 'sqlite' ? 'start' : 'serve', env);
    try {
      const headers = { authorization: `Bearer ${apiKey}`, 'x-tenant-id': tenant.id, 'content-type': 'application/json' };
      const res = await fetch(`${server.url}/campaigns`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          name: 'June product update',
          subject: "What's new in June",
          audienceFilter: { locale: 'en', optIn: true, attributes: { plan: 'pro' } },
          timezone: 'Europe/Madrid',
        }),
      });
      expect(res.status).toBe(201);
      expect(((await res.json()) as { status: string }).status).toBe('DRAFT');

      const readKey = runCli(['keys', 'create', '--tenant', tenant.id, '--scopes', 'campaigns:read', '--name', 'ro', '--json'], env);
      expect(readKey.status, readKey.stderr).toBe(0);
      const key = JSON.parse(readKey.stdout);
      expect(key).toMatchObject({ scopes: ['campaigns:read'] });
      const roHeaders = { authorization: `Bearer ${key.apiKey}`, 'x-tenant-id': tenant.id };
      expect((await fetch(`${server.url}/campaigns`, { headers: roHeaders })).status).toBe(200);
      const denied = await fetch(`${server.url}/campaigns`, { method: 'POST', headers: { ...roHeaders, 'content-type': 'application/json' }, body: '{"name":"x"}' });
      expect(denied.status).toBe(403);

      const list = runCli(['keys', 'list', '--tenant', tenant.id, '--json'], env);
      const keys = JSON.parse(list.stdout) as { id: string; prefix: string }[];
      expect(keys).toHaveLength(2);
      expect(list.stdout).not.toContain(apiKey);
      expect(list.stdout).not.toContain(key.apiKey);

      expect(runCli(['keys', 'revoke', key.id], env).status).toBe(0);
      // The server trusts a verified key for API_KEY_CACHE_MS (1 s by default) before looking it up again.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await fetch(`${server.url}/campaigns`, { headers: roHeaders })).status).toBe(401);
      expect(server.output()).not.toContain(apiKey);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('refuses bad arguments and bad configuration with one clear line and exit code 1', () => {
    const badScope = runCli(['keys', 'create', '--tenant', 'x', '--scopes', 'campaigns:delete'], env);
    expect(badScope.status).not.toBe(0);
    expect(badScope.stderr).toContain('unknown scope "campaigns:delete"');

    const badPort = runCli(['start'], { ...env, PORT: 'eighty' });
    expect(badPort.status).toBe(1);
    expect(badPort.stderr.trim().split('\n')).toEqual(['mailingcore: configuration error: PORT must be an integer from 0 to 65535 (got "eighty")']);

    const noTenant = runCli(['keys', 'create', '--tenant', 'missing', '--scopes', 'campaigns:read'], env);
    expect(noTenant.status).toBe(1);
    expect(noTenant.stderr.trim()).toBe('mailingcore: tenant missing not found');
  });
});
