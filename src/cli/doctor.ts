import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { DatabaseMissingError, describeDatabase, NativeBindingError, openDatabase, openSqlite, type Database } from '../db/database.js';
import { migrationStatus } from '../db/migrate.js';
import { createSmtpTransport } from '../net/smtp-transport.js';

/**
 * `mailingcore doctor`: checks the setup a process would run with — the
 * configuration, the native SQLite binding, the database (reachable, never
 * created), its migrations and the SMTP_URL server — and says what to do
 * about each failure. Exits 1 when a check fails.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do, for warn and fail. */
  fix?: string;
}

const TIMEOUT_MS = 5000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const reason = (error: unknown): string => {
  const e = error as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' && e.message ? e.message : String(error);
  return typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
};

function smtpShown(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return '(unparseable)';
  }
}

export async function runChecks(env: NodeJS.ProcessEnv = process.env, smtpTimeoutMs = TIMEOUT_MS): Promise<Check[]> {
  const checks: Check[] = [];
  let config: Config | undefined;
  try {
    config = loadConfig(env);
    checks.push({
      name: 'configuration',
      status: 'ok',
      detail: `database ${describeDatabase(config.database)}; ${config.smtpUrl ? `SMTP ${smtpShown(config.smtpUrl)}` : 'SMTP_URL unset'}`,
    });
  } catch (error) {
    checks.push({
      name: 'configuration',
      status: 'fail',
      detail: error instanceof ConfigError ? error.message : reason(error),
      fix: 'fix that environment variable (the README lists every setting)',
    });
  }

  // The binding is needed for SQLite; on PostgreSQL a failure is only a warning.
  let bindingLoads = true;
  try {
    openSqlite(':memory:').close();
    checks.push({ name: 'native binding', status: 'ok', detail: `better-sqlite3 loads on Node.js ${process.version}` });
  } catch (error) {
    bindingLoads = false;
    const sqlite = config?.database.dialect !== 'postgres';
    const cause = error instanceof NativeBindingError && error.cause !== undefined ? error.cause : error;
    checks.push({
      name: 'native binding',
      status: sqlite ? 'fail' : 'warn',
      detail: `better-sqlite3 on Node.js ${process.version}: ${reason(cause).split('\n')[0]}`,
      fix: 'run "npm rebuild better-sqlite3" (npm must be allowed to run its install script: "allowScripts" in package.json)',
    });
  }

  if (!config) {
    checks.push({ name: 'database', status: 'skip', detail: 'needs a valid configuration' });
    checks.push({ name: 'migrations', status: 'skip', detail: 'needs a valid configuration' });
    checks.push({ name: 'SMTP', status: 'skip', detail: 'needs a valid configuration' });
    return checks;
  }

  const shown = describeDatabase(config.database);
  if (config.database.dialect === 'sqlite' && !bindingLoads) {
    checks.push({ name: 'database', status: 'skip', detail: `${shown}: needs the native binding` });
    checks.push({ name: 'migrations', status: 'skip', detail: 'needs the database' });
    checks.push(await smtpCheck(config, smtpTimeoutMs));
    return checks;
  }
  let database: Database | undefined;
  try {
    database = openDatabase(config.database, { poolSize: 1, mustExist: true });
    await withTimeout(migrationStatus(database), TIMEOUT_MS, 'the database').then((status) => {
      checks.push({ name: 'database', status: 'ok', detail: `${shown} answers` });
      if (status.applied === 0) {
        checks.push({
          name: 'migrations',
          status: 'fail',
          detail: 'no MailingCore schema in this database',
          fix: 'if this is the right database, run "mailingcore migrate" (or "mailingcore start"); otherwise set DATA_DIR / DATABASE_URL to the server\'s',
        });
      } else if (status.pending > 0) {
        checks.push({
          name: 'migrations',
          status: 'fail',
          detail: `${status.pending} pending (${status.applied} applied)`,
          fix: 'run "mailingcore migrate"',
        });
      } else {
        checks.push({ name: 'migrations', status: 'ok', detail: `current (${status.applied} applied)` });
      }
    });
  } catch (error) {
    checks.push({
      name: 'database',
      status: 'fail',
      detail: error instanceof DatabaseMissingError ? `no database at ${error.file}` : `${shown}: ${reason(error)}`,
      fix:
        config.database.dialect === 'sqlite'
          ? `set DATA_DIR (or DATABASE_URL=sqlite:/path/to/mailingcore.db) to the server's database, or create one with "mailingcore migrate"`
          : 'check that PostgreSQL runs and that DATABASE_URL names the right host, port, database and credentials',
    });
    checks.push({ name: 'migrations', status: 'skip', detail: 'needs the database' });
  } finally {
    await database?.close().catch(() => {});
  }

  checks.push(await smtpCheck(config, smtpTimeoutMs));
  return checks;
}

/** SMTP_URL's server: connect, greet, log in, quit (the transport's verify), within a short timeout. */
async function smtpCheck(config: Config, timeoutMs: number): Promise<Check> {
  if (!config.smtpUrl) {
    return {
      name: 'SMTP',
      status: 'ok',
      detail: `SMTP_URL unset: emails without an SMTP project are captured under ${path.join(config.dataDir, 'outbox')}`,
    };
  }
  const transport = createSmtpTransport(config.smtpUrl, {
    pool: false,
    connectionTimeoutMs: timeoutMs,
    greetingTimeoutMs: timeoutMs,
    socketTimeoutMs: timeoutMs,
  });
  try {
    await withTimeout(transport.verify(), timeoutMs + 1000, 'the SMTP server');
    return { name: 'SMTP', status: 'ok', detail: `${smtpShown(config.smtpUrl)} accepts a connection and the login` };
  } catch (error) {
    return {
      name: 'SMTP',
      status: 'fail',
      detail: `${smtpShown(config.smtpUrl)}: ${reason(error)}`,
      fix: "check SMTP_URL's host, port, smtp:// vs smtps:// and credentials, and that this host may reach it",
    };
  } finally {
    transport.close();
  }
}

export function formatChecks(checks: Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`);
    if (c.fix && (c.status === 'fail' || c.status === 'warn')) lines.push(`${' '.repeat(6 + width)}  → ${c.fix}`);
  }
  return lines.join('\n');
}
