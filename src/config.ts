import path from 'node:path';

export type DatabaseConfig =
  | { dialect: 'sqlite'; file: string }
  | { dialect: 'postgres'; url: string };

export interface Config {
  database: DatabaseConfig;
  dataDir: string;
  host: string;
  port: number;
  publicUrl: string;
  /** Undefined: generated once and stored in the database (see secrets). */
  secret: string | undefined;
  smtpUrl: string | undefined;
  /** Sender of emails whose campaign has no SMTP project: `Name <address>` or `address`. */
  mailFrom: string;
  logLevel: string;
  /** Delivery worker loops in a `start` or `worker` process. */
  workerConcurrency: number;
}

/** Thrown for any bad setting; the CLI prints its message as one line and exits. */
export class ConfigError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = path.resolve(env.DATA_DIR?.trim() || './data');
  const host = env.HOST?.trim() || '127.0.0.1';
  const port = parsePort(env.PORT);
  const database = parseDatabaseUrl(env.DATABASE_URL, dataDir);
  const publicUrl = parsePublicUrl(env.PUBLIC_URL, host, port);
  const secret = parseSecret(env.MAILINGCORE_SECRET);
  const smtpUrl = parseSmtpUrl(env.SMTP_URL);
  const mailFrom = parseMailFrom(env.MAIL_FROM);
  const workerConcurrency = parsePositiveInt('WORKER_CONCURRENCY', env.WORKER_CONCURRENCY, 2, 64);
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }
  return { database, dataDir, host, port, publicUrl, secret, smtpUrl, mailFrom, logLevel, workerConcurrency };
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 3000;
  const port = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be an integer from 0 to 65535 (got "${raw}")`);
  }
  return port;
}

export function parseDatabaseUrl(raw: string | undefined, dataDir: string): DatabaseConfig {
  const value = raw?.trim();
  if (!value) return { dialect: 'sqlite', file: path.join(dataDir, 'mailingcore.db') };
  for (const prefix of ['sqlite:', 'file:']) {
    if (value.startsWith(prefix)) {
      const file = value.slice(prefix.length).replace(/^\/\/(?=\/)/, '');
      if (!file) throw new ConfigError(`DATABASE_URL "${value}" names no SQLite file`);
      return { dialect: 'sqlite', file: file === ':memory:' ? file : path.resolve(file) };
    }
  }
  if (/^postgres(ql)?:\/\//.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new ConfigError('DATABASE_URL is not a valid postgres:// URL');
    }
    return { dialect: 'postgres', url: value };
  }
  throw new ConfigError(
    'DATABASE_URL must start with sqlite:, file:, postgres:// or postgresql:// (or be unset for the embedded SQLite file)',
  );
}

function parsePublicUrl(raw: string | undefined, host: string, port: number): string {
  const value = raw?.trim();
  if (!value) {
    const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
    return `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute http(s) URL (got "${value}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`PUBLIC_URL must be an absolute http(s) URL (got "${value}")`);
  }
  return value.replace(/\/+$/, '');
}

function parseSecret(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 32) throw new ConfigError('MAILINGCORE_SECRET must be at least 32 characters long');
  return raw;
}

function parseSmtpUrl(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('SMTP_URL must be a URL such as smtp://user:pass@host:587 or smtps://host:465');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new ConfigError('SMTP_URL must start with smtp:// or smtps://');
  }
  return value;
}

const MAIL_FROM = /^\s*(?:"?[^"<]*"?\s*<[^<>\s@]+@[^<>\s@]+>|[^<>\s@]+@[^<>\s@]+)\s*$/;

function parseMailFrom(raw: string | undefined): string {
  const value = raw?.trim();
  if (!value) return 'MailingCore <noreply@mailingcore.invalid>';
  if (!MAIL_FROM.test(value) || /[\r\n]/.test(value)) {
    throw new ConfigError(`MAIL_FROM must be "Name <address@domain>" or "address@domain" (got "${value}")`);
  }
  return value;
}

function parsePositiveInt(name: string, raw: string | undefined, fallback: number, max: number): number {
  const value = raw?.trim();
  if (!value) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) throw new ConfigError(`${name} must be an integer from 1 to ${max} (got "${value}")`);
  return n;
}
