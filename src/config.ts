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
  /** `pretty`: one readable line per entry (pino-pretty); `json`: JSON lines. LOG_FORMAT, else pretty when stdout is a terminal. */
  logFormat: LogFormat;
  /** Delivery worker loops in a `start` or `worker` process. */
  workerConcurrency: number;
  /** Requests per API key per window; shared through PostgreSQL or Redis, per process on SQLite. */
  rateLimit: { max: number; windowMs: number };
  redisUrl: string | undefined;
  /** How long a worker's claim holds a message before another worker may take it (its process died). */
  workerLeaseMs: number;
  /** Messages one worker loop holds claimed and unrecorded (claimed in two halves). */
  workerBatchSize: number;
  /** How long one process may hold a campaign's fan-out before another may take it over (its process died). */
  fanoutLeaseMs: number;
  /** How long an API process trusts a verified key without looking it up again: a revocation elsewhere takes this long. */
  apiKeyCacheMs: number;
  /** When set, GET /metrics wants `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** A `worker` process serves /healthz, /readyz and /metrics on this port when set (it has no API to serve them). */
  metricsPort: number | undefined;
}

/** Thrown for any bad setting; the CLI prints its message as one line and exits. */
export class ConfigError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

function parseLogFormat(raw: string | undefined, isTTY: boolean): LogFormat {
  const value = raw?.trim().toLowerCase();
  if (!value) return isTTY ? 'pretty' : 'json';
  if (!(LOG_FORMATS as readonly string[]).includes(value)) {
    throw new ConfigError(`LOG_FORMAT must be pretty or json (got "${raw}")`);
  }
  return value as LogFormat;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, stdoutIsTTY = Boolean(process.stdout.isTTY)): Config {
  const dataDir = path.resolve(env.DATA_DIR?.trim() || './data');
  const host = env.HOST?.trim() || '127.0.0.1';
  const port = parsePort(env.PORT);
  const database = parseDatabaseUrl(env.DATABASE_URL, dataDir);
  const publicUrl = parsePublicUrl(env.PUBLIC_URL, host, port);
  const secret = parseSecret(env.MAILINGCORE_SECRET);
  const smtpUrl = parseSmtpUrl(env.SMTP_URL);
  const mailFrom = parseMailFrom(env.MAIL_FROM);
  const workerConcurrency = parsePositiveInt('WORKER_CONCURRENCY', env.WORKER_CONCURRENCY, 2, 64);
  const workerLeaseMs = parseMilliseconds('WORKER_LEASE_MS', env.WORKER_LEASE_MS, 120_000, 1000);
  const workerBatchSize = parsePositiveInt('WORKER_BATCH_SIZE', env.WORKER_BATCH_SIZE, 100, 1000);
  const fanoutLeaseMs = parseMilliseconds('FANOUT_LEASE_MS', env.FANOUT_LEASE_MS, 60_000, 1000);
  const rateLimit = {
    max: parsePositiveInt('RATE_LIMIT_MAX', env.RATE_LIMIT_MAX, 300, 1_000_000),
    windowMs: parsePositiveInt('RATE_LIMIT_WINDOW_MS', env.RATE_LIMIT_WINDOW_MS, 60_000, 86_400_000),
  };
  const redisUrl = parseRedisUrl(env.REDIS_URL);
  const apiKeyCacheMs = parseMilliseconds('API_KEY_CACHE_MS', env.API_KEY_CACHE_MS, 1000, 0, 60_000);
  const metricsToken = parseMetricsToken(env.METRICS_TOKEN);
  const metricsPort = env.METRICS_PORT?.trim() ? parsePort(env.METRICS_PORT, 'METRICS_PORT') : undefined;
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }
  const logFormat = parseLogFormat(env.LOG_FORMAT, stdoutIsTTY);
  return {
    database, dataDir, host, port, publicUrl, secret, smtpUrl, mailFrom, logLevel, logFormat,
    workerConcurrency, workerLeaseMs, workerBatchSize, fanoutLeaseMs, rateLimit, redisUrl, apiKeyCacheMs, metricsToken, metricsPort,
  };
}

function parsePort(raw: string | undefined, name = 'PORT'): number {
  if (raw === undefined || raw.trim() === '') return 3000;
  const port = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || port < 0 || port > 65535) {
    throw new ConfigError(`${name} must be an integer from 0 to 65535 (got "${raw}")`);
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

/** A duration in milliseconds: a whole number from `min` up to a day. */
function parseMilliseconds(name: string, raw: string | undefined, fallback: number, min: number, max = 86_400_000): number {
  const value = raw?.trim();
  if (!value) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number of milliseconds from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

function parseMetricsToken(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  if (value.length < 16 || /\s/.test(value)) throw new ConfigError('METRICS_TOKEN must be at least 16 characters, without spaces');
  return value;
}

function parseRedisUrl(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  if (!/^rediss?:\/\/[^\s]+$/.test(value)) throw new ConfigError('REDIS_URL must look like redis://host:6379 or rediss://…');
  return value;
}
