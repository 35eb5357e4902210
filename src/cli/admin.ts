import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { ApiKeyRepository } from '../auth/api-key.repository.js';
import { ApiKeyService } from '../auth/api-key.service.js';
import { parseScopes } from '../auth/scopes.js';
import { isRole, ROLES, type Role } from '../auth/roles.js';
import { AccountService } from '../accounts/account.service.js';
import { SessionService } from '../accounts/session.service.js';
import { SignInThrottle } from '../accounts/sign-in-throttle.js';
import { transactionOf } from '../db/database.js';
import { createRepositories } from '../repositories.js';
import { readPassword } from './password-input.js';
import { DatabaseMissingError, describeDatabase, NativeBindingError, openDatabase, type Database } from '../db/database.js';
import { migrationStatus } from '../db/migrate.js';
import { systemClock } from '../shared/time.js';
import { TenantRepository } from '../tenants/tenant.repository.js';
import { TenantService, type Tenant } from '../tenants/tenant.service.js';
import { CliError } from './errors.js';

/**
 * Admin commands (tenants, keys) work on the database directly. They never
 * create one: a missing SQLite file or an empty / unmigrated database is
 * refused with what to do, and the database they opened is named on stderr,
 * so a key is never handed out from a database the server does not read.
 */

/** What the admin commands need: tenants and keys (the server's full container is loaded only to serve). */
export interface AdminServices {
  tenants: TenantService;
  apiKeys: ApiKeyService;
  /** Users and memberships (`mailingcore users …`). */
  accounts: AccountService;
  database: Database;
}

const POINT_AT_IT = 'set DATA_DIR (or DATABASE_URL) as the server has it';

/** Opens the configured database (never creating it), checks its schema, runs `task`, closes it. */
export async function withAdminServices<T>(config: Config, task: (services: AdminServices) => Promise<T>): Promise<T> {
  const shown = describeDatabase(config.database);
  process.stderr.write(`mailingcore: database ${shown}\n`);
  let database: Database;
  try {
    database = openDatabase(config.database, { poolSize: 2, mustExist: true });
  } catch (error) {
    if (error instanceof DatabaseMissingError || error instanceof NativeBindingError) throw new CliError(error.message);
    throw error;
  }
  try {
    let status: Awaited<ReturnType<typeof migrationStatus>>;
    try {
      status = await migrationStatus(database);
    } catch (error) {
      throw new CliError(`cannot read the database ${shown}: ${(error as Error).message} (${POINT_AT_IT}; "mailingcore doctor" checks the setup)`);
    }
    if (status.applied === 0) {
      throw new CliError(
        `the database ${shown} has no MailingCore schema: is it the server's database? (${POINT_AT_IT}, or run "mailingcore migrate" to set up this one)`,
      );
    }
    if (status.pending > 0) throw new CliError(`the database schema at ${shown} is not current: run "mailingcore migrate" first`);
    const tenantRepository = new TenantRepository(database.db);
    const apiKeys = new ApiKeyService({ keys: new ApiKeyRepository(database.db), tenants: tenantRepository, clock: systemClock });
    const tenants = new TenantService({ tenants: tenantRepository, apiKeys, clock: systemClock });
    const repositories = createRepositories(database);
    const accounts = new AccountService({
      transaction: transactionOf(database.db),
      users: repositories.users,
      memberships: repositories.memberships,
      tenants: tenantRepository,
      invitations: repositories.invitations,
      setupTokens: repositories.setupTokens,
      sessions: new SessionService({ sessions: repositories.sessions, memberships: repositories.memberships, clock: systemClock }),
      throttle: new SignInThrottle(),
      clock: systemClock,
      publicUrl: config.publicUrl,
    });
    try {
      return await task({ apiKeys, tenants, accounts, database });
    } catch (error) {
      if (error instanceof CliError) throw error;
      // The services' refusals ("tenant X not found", bad names) are one line, exit code 1.
      throw new CliError((error as Error).message);
    }
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

const tenantNotFound = (id: string) => new CliError(`tenant ${id} not found`);

const describeTenant = (t: Tenant) =>
  `Tenant ${t.name} (${t.id}), monthly quota ${t.monthlyQuota}, fallback locale ${t.fallbackLocale ?? 'none (the base version)'}`;

function showTenant(t: Tenant, keys: { active: number; revoked: number }): string {
  const rows: [string, string][] = [
    ['id', t.id],
    ['name', t.name],
    ['monthly quota', String(t.monthlyQuota)],
    ['fallback locale', t.fallbackLocale ?? 'none (the base version)'],
    ['API keys', `${keys.active} active, ${keys.revoked} revoked`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

/** `mailingcore tenants …` (create, list, show, update). */
export function registerTenantCommands(program: Command): Command {
  const tenants = program.command('tenants').description('manage tenants (directly in the database)');
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

  tenants
    .command('list')
    .description('list tenants, oldest first')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await withAdminServices(loadConfig(), (c) => c.tenants.list());
      const width = Math.max(0, ...list.map((t) => String(t.monthlyQuota).length));
      const lines = list.map((t) => `${t.id}  ${String(t.monthlyQuota).padStart(width)}/month  ${t.name}`);
      print(list, Boolean(opts.json), lines.length ? lines.join('\n') : 'no tenants');
    });

  tenants
    .command('show')
    .description("a tenant's settings and how many API keys it has")
    .argument('<id>', 'tenant id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const { tenant, keys } = await withAdminServices(loadConfig(), async (c) => {
        const tenant = await c.tenants.get(id);
        if (!tenant) throw tenantNotFound(id);
        const all = await c.apiKeys.list(id);
        const revoked = all.filter((k) => k.revokedAt !== null).length;
        return { tenant, keys: { active: all.length - revoked, revoked } };
      });
      print({ ...tenant, apiKeys: keys }, Boolean(opts.json), showTenant(tenant, keys));
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
      if (!tenant) throw tenantNotFound(id);
      print(tenant, Boolean(opts.json), describeTenant(tenant));
    });
  return tenants;
}

export function registerKeyCommands(program: Command): Command {
  const keys = program.command('keys').description('manage API keys (directly in the database)');
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
  return keys;
}

function parseRole(value: string): Role {
  if (!isRole(value)) throw new InvalidArgumentError(`must be one of ${ROLES.join(', ')}`);
  return value;
}

/** `mailingcore users …` (create, list): dashboard accounts and their roles in tenants. */
export function registerUserCommands(program: Command): Command {
  const users = program.command('users').description('manage dashboard accounts (directly in the database)');
  users
    .command('create')
    .description(
      'create an account with a role in a tenant (or give an existing account that role there); the password is asked on the terminal, never echoed, or read from stdin',
    )
    .requiredOption('--email <address>', 'the person\'s email address (they sign in with it)')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, parseRole)
    .option('--password-stdin', 'read the password from stdin (one line) instead of prompting')
    .option('--json', 'print JSON')
    .action(async (opts: { email: string; tenant: string; role: Role; passwordStdin?: boolean; json?: boolean }) => {
      const result = await withAdminServices(loadConfig(), async (c) => {
        const password = (await c.accounts.hasUser(opts.email)) ? undefined : await readPassword({ fromStdin: Boolean(opts.passwordStdin) });
        return c.accounts.createUser({ email: opts.email, tenantId: opts.tenant, role: opts.role, ...(password === undefined ? {} : { password }) });
      });
      print(
        { ...result.user, created: result.created, tenantId: opts.tenant, role: opts.role },
        Boolean(opts.json),
        `${result.created ? 'Created' : 'Updated'} ${result.user.email} (${result.user.id}): ${opts.role} of tenant ${opts.tenant}`,
      );
    });

  users
    .command('list')
    .description('list accounts and their roles (never a password)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await withAdminServices(loadConfig(), (c) => c.accounts.listUsers());
      const lines = list.map((u) => `${u.id}  ${u.email}  ${u.tenants.map((t) => `${t.name} (${t.id}): ${t.role}`).join(', ') || 'no tenant'}`);
      print(list, Boolean(opts.json), lines.length ? lines.join('\n') : 'no users');
    });
  return users;
}
