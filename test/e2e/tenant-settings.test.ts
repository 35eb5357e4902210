import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { assertBuilt, runCli } from '../helpers/cli.js';

/** The tenant's fallback locale (locale routing's third step) is set and shown by the admin CLI. */
describe.each(DIALECTS)('mailingcore tenants show / update (%s)', { timeout: 120_000 }, (dialect) => {
  let testDb: TestDatabase;
  let env: Record<string, string>;
  let dataDir: string;

  beforeAll(async () => {
    assertBuilt();
    testDb = await createTestDatabase(dialect);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailingcore-tenant-'));
    const url = testDb.config.dialect === 'sqlite' ? `sqlite:${testDb.config.file}` : testDb.config.url;
    env = { DATABASE_URL: url, DATA_DIR: dataDir, LOG_LEVEL: 'warn', MAILINGCORE_SECRET: 's'.repeat(40) };
    expect(runCli(['migrate'], env).status).toBe(0);
  });

  afterAll(async () => {
    await testDb?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('sets, normalises, shows and clears the fallback locale; refuses a bad tag and an unknown tenant', () => {
    const created = runCli(['tenants', 'create', '--name', 'Acme', '--json'], env);
    const { tenant } = JSON.parse(created.stdout) as { tenant: { id: string; fallbackLocale: string | null } };
    expect(tenant.fallbackLocale).toBeNull();

    const updated = runCli(['tenants', 'update', tenant.id, '--fallback-locale', 'es-mx', '--json'], env);
    expect(updated.status, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ id: tenant.id, fallbackLocale: 'es-MX' });
    const shown = runCli(['tenants', 'show', tenant.id], env);
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/fallback locale\s+es-MX/);

    const bad = runCli(['tenants', 'update', tenant.id, '--fallback-locale', 'not a locale'], env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('is not a BCP 47 language tag');
    expect(JSON.parse(runCli(['tenants', 'show', tenant.id, '--json'], env).stdout).fallbackLocale).toBe('es-MX');

    const cleared = runCli(['tenants', 'update', tenant.id, '--fallback-locale', 'none', '--json'], env);
    expect(JSON.parse(cleared.stdout).fallbackLocale).toBeNull();

    const unknown = runCli(['tenants', 'update', '0197a1c2-6b1e-7c3d-9a4f-2b8e5d7c9a10', '--fallback-locale', 'es'], env);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('tenant 0197a1c2-6b1e-7c3d-9a4f-2b8e5d7c9a10 not found');
  });
});
