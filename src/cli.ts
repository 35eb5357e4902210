#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type Config } from './config.js';
import { ApiKeyRepository } from './auth/api-key.repository.js';
import { ApiKeyService } from './auth/api-key.service.js';
import { parseScopes } from './auth/scopes.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { registerOperatorCommands } from './cli/operator.js';
import type { Role } from './server.js';
import { systemClock } from './shared/time.js';
import { TenantRepository } from './tenants/tenant.repository.js';
import { TenantService } from './tenants/tenant.service.js';

/** What the admin commands need: tenants and keys (the server's full container is loaded only to serve). */
interface AdminServices {
  tenants: TenantService;
  apiKeys: ApiKeyService;
}

/** Runs `task` with a migrated database and closes it afterwards. */
async function withAdminServices<T>(config: Config, task: (services: AdminServices) => Promise<T>): Promise<T> {
  const database = openDatabase(config.database, { poolSize: 2 });
  try {
    await migrateToLatest(database);
    const tenantRepository = new TenantRepository(database.db);
    const apiKeys = new ApiKeyService({ keys: new ApiKeyRepository(database.db), tenants: tenantRepository, clock: systemClock });
    return await task({ apiKeys, tenants: new TenantService({ tenants: tenantRepository, apiKeys, clock: systemClock }) });
  } finally {
    await database.close();
  }
}

const print = (value: unknown, json: boolean, text: string) => console.log(json ? JSON.stringify(value, null, 2) : text);

function parseQuota(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('must be a whole number of emails per month');
  }
  return Number(value);
}

async function runServer(role: Role): Promise<void> {
  const { startServer } = await import('./server.js');
  const server = await startServer(loadConfig(), role);
  const shutdown = (signal: string) => {
    server.logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (error) => {
        console.error(`mailingcore: shutdown failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

const program = new Command('mailingcore')
  .description('MailingCore: multi-tenant newsletter service')
  .showHelpAfterError();

program
  .command('start')
  .description('migrate, then run the HTTP API, scheduler and delivery workers (the embedded all-in-one default)')
  .action(() => runServer('start'));

program
  .command('serve')
  .description('run the HTTP API only (the schema must already be migrated)')
  .action(() => runServer('serve'));

program
  .command('worker')
  .description('run the scheduler and delivery workers only (any number may share one PostgreSQL)')
  .action(() => runServer('worker'));

program
  .command('migrate')
  .description('apply pending schema migrations and exit')
  .action(async () => {
    const database = openDatabase(loadConfig().database, { poolSize: 1 });
    try {
      const applied = await migrateToLatest(database);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
    } finally {
      await database.close();
    }
  });

const tenants = program.command('tenants').description('manage tenants');
tenants
  .command('create')
  .description('create a tenant and its first API key (every scope); the key is printed once')
  .requiredOption('--name <name>', 'tenant name')
  .option('--quota <emails>', 'monthly email quota', parseQuota)
  .option('--json', 'print JSON')
  .action(async (opts: { name: string; quota?: number; json?: boolean }) => {
    const result = await withAdminServices(loadConfig(), (c) => c.tenants.create({ name: opts.name, monthlyQuota: opts.quota }));
    print(
      result,
      Boolean(opts.json),
      `Tenant ${result.tenant.name} (${result.tenant.id}), monthly quota ${result.tenant.monthlyQuota}\n` +
        `API key (shown once, keep it safe): ${result.apiKey}`,
    );
  });

const describeTenant = (t: { id: string; name: string; monthlyQuota: number; fallbackLocale: string | null }) =>
  `Tenant ${t.name} (${t.id}), monthly quota ${t.monthlyQuota}, fallback locale ${t.fallbackLocale ?? 'none (the base version)'}`;

tenants
  .command('show')
  .description("a tenant's settings")
  .argument('<id>', 'tenant id')
  .option('--json', 'print JSON')
  .action(async (id: string, opts: { json?: boolean }) => {
    const tenant = await withAdminServices(loadConfig(), (c) => c.tenants.get(id));
    if (!tenant) throw new Error(`tenant not found: ${id}`);
    print(tenant, Boolean(opts.json), describeTenant(tenant));
  });

tenants
  .command('update')
  .description("change a tenant's settings")
  .argument('<id>', 'tenant id')
  .requiredOption('--fallback-locale <locale>', 'locale whose variant contacts without one of their own get (e.g. es); "none" for the base version')
  .option('--json', 'print JSON')
  .action(async (id: string, opts: { fallbackLocale: string; json?: boolean }) => {
    const locale = opts.fallbackLocale === 'none' ? null : opts.fallbackLocale;
    const tenant = await withAdminServices(loadConfig(), (c) => c.tenants.setFallbackLocale(id, locale));
    if (!tenant) throw new Error(`tenant not found: ${id}`);
    print(tenant, Boolean(opts.json), describeTenant(tenant));
  });

const keys = program.command('keys').description('manage API keys');
keys
  .command('create')
  .description('create an API key; it is printed once')
  .requiredOption('--tenant <id>', 'tenant id')
  .requiredOption('--scopes <list>', 'comma-separated scopes, e.g. campaigns:read,campaigns:write', (v) => {
    try {
      return parseScopes(v);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  })
  .option('--name <name>', 'a name to recognise the key by')
  .option('--test', 'create a test-mode key (mc_test_…)')
  .option('--json', 'print JSON')
  .action(async (opts: { tenant: string; scopes: ReturnType<typeof parseScopes>; name?: string; test?: boolean; json?: boolean }) => {
    const key = await withAdminServices(loadConfig(), (c) =>
      c.apiKeys.create({ tenantId: opts.tenant, scopes: opts.scopes, name: opts.name, mode: opts.test ? 'test' : 'live' }),
    );
    print(
      { id: key.id, apiKey: key.apiKey, scopes: key.scopes, name: key.name, mode: key.mode },
      Boolean(opts.json),
      `API key ${key.id} (${key.scopes.join(',')}), shown once: ${key.apiKey}`,
    );
  });

keys
  .command('list')
  .description("list a tenant's API keys (prefixes only; secrets are never stored)")
  .requiredOption('--tenant <id>', 'tenant id')
  .option('--json', 'print JSON')
  .action(async (opts: { tenant: string; json?: boolean }) => {
    const list = await withAdminServices(loadConfig(), (c) => c.apiKeys.list(opts.tenant));
    const lines = list.map(
      (k) =>
        `${k.id}  ${k.prefix}…  ${k.name}  ${k.scopes.join(',')}  last used: ${k.lastUsedAt ?? 'never'}${k.revokedAt ? `  REVOKED ${k.revokedAt}` : ''}`,
    );
    print(list, Boolean(opts.json), lines.length ? lines.join('\n') : 'no API keys');
  });

keys
  .command('revoke')
  .description('revoke an API key; requests with it are refused from then on')
  .argument('<id>', 'API key id')
  .option('--json', 'print JSON')
  .action(async (id: string, opts: { json?: boolean }) => {
    const key = await withAdminServices(loadConfig(), (c) => c.apiKeys.revoke(id));
    print(key, Boolean(opts.json), `API key ${key.id} revoked at ${key.revokedAt}`);
  });

registerOperatorCommands(program);

program.parseAsync().catch((error: unknown) => {
  const message = error instanceof ConfigError ? `configuration error: ${error.message}` : (error as Error).message;
  console.error(`mailingcore: ${message}`);
  process.exit(1);
});
