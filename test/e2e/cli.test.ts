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
    expect(noTenant.stderr.trim().split('\n').at(-1)).toBe('mailingcore: tenant missing not found');
  });

  it('names the database it opened on stderr, and agrees on unknown tenants (keys list = keys create = tenants show)', () => {
    const shown = dialect === 'sqlite' ? (testDb.config as { file: string }).file : (testDb.config as { url: string }).url;
    const list = runCli(['tenants', 'list', '--json'], env);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stderr.trim()).toBe(`mailingcore: database ${shown}`);
    expect(JSON.parse(list.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Acme', monthlyQuota: 5000 })]));

    for (const args of [
      ['keys', 'list', '--tenant', 'missing'],
      ['keys', 'create', '--tenant', 'missing', '--scopes', 'campaigns:read'],
      ['tenants', 'show', 'missing'],
    ]) {
      const result = runCli(args, env);
      expect(result.status, args.join(' ')).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toEqual([`mailingcore: database ${shown}`, 'mailingcore: tenant missing not found']);
    }
  });

  it('tenants list / show as text', () => {
    const created = runCli(['tenants', 'create', '--name', 'Shown', '--quota', '42', '--json'], env);
    const { tenant } = JSON.parse(created.stdout) as { tenant: { id: string } };
    const list = runCli(['tenants', 'list'], env);
    expect(list.stdout).toMatch(new RegExp(`^${tenant.id}\\s+42/month  Shown$`, 'm'));
    const show = runCli(['tenants', 'show', tenant.id], env);
    expect(show.status, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/^name\s+Shown$/m);
    expect(show.stdout).toMatch(/^monthly quota\s+42$/m);
    expect(show.stdout).toMatch(/^API keys\s+1 active, 0 revoked$/m);
    expect(JSON.parse(runCli(['tenants', 'show', tenant.id, '--json'], env).stdout)).toMatchObject({
      id: tenant.id,
      name: 'Shown',
      monthlyQuota: 42,
      fallbackLocale: null,
      apiKeys: { active: 1, revoked: 0 },
    });

    const update = runCli(['tenants', 'update', tenant.id, '--fallback-locale', 'ES'], env);
    expect(update.status, update.stderr).toBe(0);
    expect(runCli(['tenants', 'show', tenant.id], env).stdout).toMatch(/^fallback locale\s+es$/m);
    const regional = runCli(['tenants', 'update', tenant.id, '--fallback-locale', 'es-mx', '--json'], env);
    expect(JSON.parse(regional.stdout)).toMatchObject({ id: tenant.id, fallbackLocale: 'es-MX' });
    const bad = runCli(['tenants', 'update', tenant.id, '--fallback-locale', 'not a locale'], env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('is not a BCP 47 language tag');
    expect(JSON.parse(runCli(['tenants', 'show', tenant.id, '--json'], env).stdout).fallbackLocale).toBe('es-MX');
    const cleared = runCli(['tenants', 'update', tenant.id, '--fallback-locale', 'none', '--json'], env);
    expect(JSON.parse(cleared.stdout).fallbackLocale).toBeNull();
    const unknown = runCli(['tenants', 'update', 'missing', '--fallback-locale', 'es'], env);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr.trim().split('\n').at(-1)).toBe('mailingcore: tenant missing not found');
  });

  it('prints one setup link at start while nobody has an account; users create (password on stdin, never echoed) and list', async () => {
    const created = runCli(['tenants', 'create', '--name', 'People', '--json'], env);
    const { tenant } = JSON.parse(created.stdout) as { tenant: { id: string } };
    const server = await startCliServer(dialect === 'sqlite' ? 'start' : 'serve', env);
    let setupLines: string[];
    try {
      // Written before the port opens; a moment more for the pipe to deliver it.
      for (let i = 0; i < 50 && !server.output().includes('/setup?token='); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      setupLines = server.output().split('\n').filter((line) => line.includes('/setup?token='));
      expect(setupLines).toHaveLength(1);
      expect(setupLines[0]).toMatch(/http:\/\/127\.0\.0\.1:\d+\/setup\?token=mcu_[0-9A-Za-z]{43}/);
      expect(((await (await fetch(`${server.url}/auth/setup`)).json()) as { open: boolean }).open).toBe(true);

      const password = 'a long enough password 123';
      const user = runCli(['users', 'create', '--email', 'Ana@People.test', '--tenant', tenant.id, '--role', 'admin', '--password-stdin', '--json'], env, `${password}\n`);
      expect(user.status, user.stderr).toBe(0);
      expect(JSON.parse(user.stdout)).toMatchObject({ email: 'ana@people.test', created: true, role: 'admin' });
      expect(user.stdout + user.stderr).not.toContain(password);
      // An existing account gets a role in another tenant without a password.
      const second = JSON.parse(runCli(['tenants', 'create', '--name', 'Second', '--json'], env).stdout).tenant.id as string;
      const again = runCli(['users', 'create', '--email', 'ana@people.test', '--tenant', second, '--role', 'viewer'], env, '');
      expect(again.status, again.stderr).toBe(0);
      expect(again.stdout).toContain('Updated ana@people.test');
      const weak = runCli(['users', 'create', '--email', 'bob@people.test', '--tenant', tenant.id, '--role', 'editor', '--password-stdin'], env, 'short\n');
      expect(weak.status).toBe(1);
      expect(weak.stderr).toContain('password');
      expect(weak.stderr).not.toContain('short');
      const badRole = runCli(['users', 'create', '--email', 'bob@people.test', '--tenant', tenant.id, '--role', 'king'], env);
      expect(badRole.status).toBe(2);

      const list = runCli(['users', 'list', '--json'], env);
      expect(list.status, list.stderr).toBe(0);
      const users = JSON.parse(list.stdout) as { email: string; tenants: { role: string }[] }[];
      expect(users).toHaveLength(1);
      expect(users[0]!.tenants.map((t) => t.role).sort()).toEqual(['admin', 'viewer']);
      expect(list.stdout).not.toContain('scrypt');

      // The account signs in over HTTP; setup is closed.
      const signIn = await fetch(`${server.url}/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ana@people.test', password }),
      });
      expect(signIn.status).toBe(200);
      expect(signIn.headers.get('set-cookie')).toMatch(/^mc_session=mcs_/);
      expect(((await (await fetch(`${server.url}/auth/setup`)).json()) as { open: boolean }).open).toBe(false);
      expect(server.output()).not.toContain(password);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    // The next start prints no link: an account exists.
    const next = await startCliServer(dialect === 'sqlite' ? 'start' : 'serve', env);
    try {
      expect(next.output()).not.toContain('/setup?token=');
    } finally {
      expect(await next.stop()).toBe(0);
    }
  });

  it('doctor: every check ok on a working setup', () => {
    const doctor = runCli(['doctor', '--json'], env);
    expect(doctor.status, doctor.stdout + doctor.stderr).toBe(0);
    const checks = JSON.parse(doctor.stdout) as { name: string; status: string }[];
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['configuration', 'ok'],
      ['native binding', 'ok'],
      ['database', 'ok'],
      ['migrations', 'ok'],
      ['SMTP', 'ok'],
    ]);
  });
});

/** Setups that are wrong: the admin CLI and doctor say what is wrong and what to do, and create nothing. */
describe('mailingcore CLI on a wrong setup', { timeout: 120_000 }, () => {
  let dir: string;
  beforeAll(() => {
    assertBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailingcore-wrong-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const noBinding = path.resolve('test/fixtures/no-sqlite-binding.cjs');

  it('refuses to run admin commands on a missing SQLite file, naming it and how to point at the right one; creates nothing', () => {
    const dataDir = path.join(dir, 'elsewhere');
    for (const args of [['tenants', 'create', '--name', 'Lost'], ['tenants', 'list'], ['keys', 'list', '--tenant', 'x']]) {
      const result = runCli(args, { DATA_DIR: dataDir, DATABASE_URL: '' });
      expect(result.status, args.join(' ')).toBe(1);
      const file = path.join(dataDir, 'mailingcore.db');
      expect(result.stderr.trim().split('\n')).toEqual([
        `mailingcore: database ${file}`,
        `mailingcore: no database at ${file}: run this where the server runs, with its DATA_DIR (or DATABASE_URL=sqlite:/path/to/mailingcore.db), or create one with "mailingcore migrate"`,
      ]);
    }
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('refuses an existing database without the schema, and one whose migrations are behind', async () => {
    const file = path.join(dir, 'empty.db');
    fs.writeFileSync(file, '');
    const empty = runCli(['tenants', 'list'], { DATABASE_URL: `sqlite:${file}` });
    expect(empty.status).toBe(1);
    expect(empty.stderr).toContain('has no MailingCore schema: is it the server\'s database?');

    const testDb = await createTestDatabase('postgres');
    try {
      const pgEmpty = runCli(['tenants', 'list'], { DATABASE_URL: (testDb.config as { url: string }).url });
      expect(pgEmpty.status).toBe(1);
      expect(pgEmpty.stderr).toContain('has no MailingCore schema');
    } finally {
      await testDb.drop();
    }
  });

  it('shows a PostgreSQL URL without its password', () => {
    const result = runCli(['tenants', 'list'], { DATABASE_URL: 'postgres://mc:hunter2@127.0.0.1:9/mc' });
    expect(result.status).toBe(1);
    expect(result.stderr.split('\n')[0]).toBe('mailingcore: database postgres://mc@127.0.0.1:9/mc');
    expect(result.stderr).not.toContain('hunter2');
    expect(result.stderr).toMatch(/cannot read the database postgres:\/\/mc@127\.0\.0\.1:9\/mc: .*ECONNREFUSED/);
  });

  it('prints its version; usage errors exit 2, --help exits 0', () => {
    const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };
    expect(runCli(['--version'], {})).toMatchObject({ status: 0, stdout: `${pkg.version}\n` });
    expect(runCli(['--help'], {}).status).toBe(0);
    expect(runCli(['nonsense'], {}).status).toBe(2);
    expect(runCli(['tenants', 'create'], {}).status).toBe(2); // --name is required
    expect(runCli(['tenants', 'create', '--name', 'x', '--quota', 'lots'], {}).status).toBe(2);
  });

  it('doctor reports an unreachable database, a wrong SMTP host and a missing binding, each with what to do', () => {
    const pg = runCli(['doctor'], { DATABASE_URL: 'postgres://mc:hunter2@127.0.0.1:9/mc', SMTP_URL: 'smtp://user:secret@127.0.0.1:9' });
    expect(pg.status).toBe(1);
    expect(pg.stdout).toMatch(/^FAIL {2}database +postgres:\/\/mc@127\.0\.0\.1:9\/mc: .*ECONNREFUSED/m);
    expect(pg.stdout).toContain('→ check that PostgreSQL runs and that DATABASE_URL names the right host, port, database and credentials');
    expect(pg.stdout).toMatch(/^SKIP {2}migrations/m);
    expect(pg.stdout).toMatch(/^FAIL {2}SMTP +smtp:\/\/user@127\.0\.0\.1:9: .*ECONNREFUSED/m);
    expect(pg.stdout).toContain("→ check SMTP_URL's host, port");
    expect(pg.stdout + pg.stderr).not.toMatch(/hunter2|secret/);

    const file = path.join(dir, 'doctor.db');
    expect(runCli(['migrate'], { DATABASE_URL: `sqlite:${file}` }).status).toBe(0);
    const binding = runCli(['doctor'], { DATABASE_URL: `sqlite:${file}`, NODE_OPTIONS: `--require ${noBinding}` });
    expect(binding.status).toBe(1);
    expect(binding.stdout).toMatch(/^FAIL {2}native binding +.*Could not locate the bindings file/m);
    expect(binding.stdout).toContain('→ run "npm rebuild better-sqlite3"');

    const bad = runCli(['doctor'], { PORT: 'eighty' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^FAIL {2}configuration +PORT must be an integer/m);
  });

  it('a missing native binding stops start with one line saying to run npm rebuild better-sqlite3', () => {
    const result = runCli(['start'], { DATA_DIR: path.join(dir, 'nobinding'), NODE_OPTIONS: `--require ${noBinding}`, PORT: '0' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `mailingcore: the native SQLite module (better-sqlite3) is not built for Node.js ${process.version}: run "npm rebuild better-sqlite3"`,
    ]);
  });
});
