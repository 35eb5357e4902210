import ipaddr from 'ipaddr.js';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { domainToASCII } from 'node:url';
import type { DatabaseConfig } from './db/database.js';

import { parseAllowList, type OutboundSettings } from './net/outbound-policy.js';

export type { DatabaseConfig };

/**
 * How delivery behaves, in one object: the worker's batches and leases, the
 * retry budget, the fan-out lease. WORKER_* and FANOUT_LEASE_MS set parts of
 * it; every default is in DEFAULTS.sending (config.ts).
 */
export interface SendingPolicy {
  /** Independent claim → send → record loops per process (WORKER_CONCURRENCY). */
  loops: number;
  /**
   * The most messages one loop holds claimed and not yet recorded, so also
   * the most a killed loop can have sent without recording them; claimed in
   * halves (WORKER_BATCH_SIZE).
   */
  batchSize: number;
  /**
   * Sends in flight at once in one loop (WORKER_SEND_CONCURRENCY). Unset:
   * enough for every loop of the process together to keep each campaign SMTP
   * connection busy with one message on the wire and one being prepared
   * (`sendSlotsPerLoop`), at least 10.
   */
  sendConcurrency: number;
  /**
   * Pooled SMTP connections per transport (SMTP_URL's, and each SMTP
   * project's unless the project sets `maxConnections`) for the campaign
   * loops of one process (SMTP_MAX_CONNECTIONS). With a relay that answers
   * in L ms, one process sends at most smtpConnections / L messages per ms.
   */
  smtpConnections: number;
  /** How long a claim holds a message; renewed every third of it while the worker lives (WORKER_LEASE_MS). */
  leaseMs: number;
  /** Sleep when the queue is empty. */
  idlePollMs: number;
  /**
   * The priority lane (docs/SENDING.md): one more loop per process that
   * claims transactional messages only, with sends of its own
   * (TX_CONCURRENCY) over SMTP connections of its own, and that looks for due
   * ones this often (TX_POLL_MS; a read, not a claim, when nothing is due).
   */
  priority: {
    sendConcurrency: number;
    pollMs: number;
    /** Pooled SMTP connections per transport reserved for the lane. */
    connections: number;
  };
  /** A send that has not settled by then is abandoned and retried: a lost callback must not hold a batch forever. */
  sendTimeoutMs: number;
  /** How long one process may hold a campaign's fan-out before another may take it over (FANOUT_LEASE_MS). */
  fanoutLeaseMs: number;
  /**
   * The fan-out's committed chunks: the first small, so the first emails
   * leave at once, then doubling up to `max` (FANOUT_CHUNK_ROWS). Unset: the
   * engine's default (FANOUT_CHUNK_DEFAULTS).
   */
  fanoutChunkRows?: { first: number; max: number };
  /**
   * Outcomes are written as sends finish, in groups of at most `maxPending`
   * or after `maxDelayMs` (delivery/outcome-recorder.ts): what a killed
   * worker had sent but not recorded — sent again by another — is its sends
   * in flight plus one group.
   */
  outcomeGroups: { maxPending: number; maxDelayMs: number };
  retry: {
    /** Attempts in all, the first included. */
    maxAttempts: number;
    baseDelayMs: number;
    maxDelayMs: number;
  };
}

/** Open and click tracking: how hits are batched into the database, and what counts as a machine open (docs/TRACKING.md). */
export interface TrackingSettings {
  /** Hits wait in memory at most this long before they are written in one transaction (TRACKING_FLUSH_MS). */
  flushMs: number;
  /** A flush starts at once when this many hits are waiting (TRACKING_FLUSH_HITS). */
  flushHits: number;
  /** Opens this soon after the message was sent are machine opens; 0 turns the rule off (TRACKING_MACHINE_OPEN_SECONDS). */
  machineOpenSeconds: number;
}

/** How webhook deliveries are sent and retried (WEBHOOK_* settings; defaults in DEFAULTS.webhooks). */
export interface WebhookSettings {
  /** Delay after failed attempt 1, 2, …; once spent the delivery is `failed` (WEBHOOK_RETRY_SCHEDULE). */
  retryScheduleMs: number[];
  /** Each delay is moved by up to ± this fraction, at random, so retries of many deliveries spread out. */
  jitter: number;
  /** One attempt — connect, send, the answer's status and first 2 KiB — must finish within this (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** An endpoint failing without a success for this long is disabled (WEBHOOK_DISABLE_AFTER_MS). */
  disableAfterMs: number;
  /**
   * Endpoints one dispatcher delivers to at once (each one delivery at a time).
   * A receiver that hangs holds a slot for the timeout of each of its turns:
   * others wait only when this many hang at once.
   */
  endpointsPerWorker: number;
  /** Deliveries sent per claim of an endpoint before it is released for fairness. */
  deliveriesPerClaim: number;
  /** How long a claim holds an endpoint; renewed every third of it while the dispatcher lives. */
  leaseMs: number;
  /** Sleep when nothing is due. */
  idlePollMs: number;
}

/**
 * The fan-out's chunks per engine. On SQLite every statement runs on the
 * event loop, so a chunk blocks the whole process (HTTP answers, the SMTP
 * conversations of the worker beside it) while it runs: 5,000 rows is about
 * 25 ms here. On PostgreSQL a chunk only holds the tenant's usage row: larger
 * chunks mean fewer commits.
 */
export const FANOUT_CHUNK_DEFAULTS = {
  sqlite: { first: 500, max: 5_000 },
  postgres: { first: 1_000, max: 20_000 },
} as const;

/** FANOUT_CHUNK_ROWS: chunks that grow to `max`, the first at most 500. */
const chunkRows = (max: number) => ({ first: Math.min(FANOUT_CHUNK_DEFAULTS.sqlite.first, max), max });

/**
 * Send slots per loop so that the process's loops together hold two sends
 * per SMTP connection: one on the wire, one being rendered and re-checked, so
 * a connection never waits for the worker between two messages. At least
 * DEFAULTS.sending.sendConcurrency.
 */
export function sendSlotsPerLoop(loops: number, smtpConnections: number): number {
  return Math.max(10, Math.ceil((2 * smtpConnections) / loops));
}

/** Every default, defined once; the container falls back to these when a caller (a test, a bench) gives no value. */
export const DEFAULTS = {
  sending: {
    loops: 2,
    batchSize: 100,
    sendConcurrency: 10,
    smtpConnections: 5,
    leaseMs: 120_000,
    idlePollMs: 500,
    priority: { sendConcurrency: 10, pollMs: 25, connections: 2 },
    sendTimeoutMs: 120_000,
    fanoutLeaseMs: 60_000,
    outcomeGroups: { maxPending: 10, maxDelayMs: 20 },
    retry: { maxAttempts: 5, baseDelayMs: 30_000, maxDelayMs: 3_600_000 },
  } satisfies SendingPolicy,
  /** Two render threads on a 2-core machine, one core left to the event loop beyond that, at most 8. */
  render: {
    threads: Math.max(2, Math.min(8, os.availableParallelism() - 1)),
    timeoutMs: 2000,
    maxHeapMb: 128,
    maxBytes: 1024 * 1024,
  } satisfies RenderConfig,
  rateLimit: { max: 300, windowMs: 60_000 },
  tracking: { flushMs: 250, flushHits: 500, machineOpenSeconds: 10 } satisfies TrackingSettings,
  webhooks: {
    retryScheduleMs: [10_000, 60_000, 600_000, 3_600_000, 21_600_000, 86_400_000],
    jitter: 0.1,
    timeoutMs: 10_000,
    disableAfterMs: 3 * 86_400_000,
    endpointsPerWorker: 32,
    deliveriesPerClaim: 50,
    leaseMs: 60_000,
    idlePollMs: 500,
  } satisfies WebhookSettings,
  /** Events, finished webhook deliveries and tracking firsts are kept this many days (EVENTS_RETENTION_DAYS). */
  eventsRetentionDays: 90,
  testSendsPerHour: 50,
  /** Soft bounces in a row, across campaigns, after which an address is suppressed (`bounce`) (SOFT_BOUNCE_LIMIT). */
  softBounceLimit: 3,
  /** The circuit breaker (campaigns/circuit-breaker.ts): BREAKER_BOUNCE_RATE, BREAKER_COMPLAINT_RATE, BREAKER_MIN_SENT. */
  breaker: { bounceRate: 0.05, complaintRate: 0.003, minSent: 1000 } satisfies BreakerSettings,
  /** Domain verification's DNS look-ups: each must answer within this. */
  dns: { timeoutMs: 5000 },
  /** GET /campaigns/{id}/progress: one read and one event per second; streams per tenant and process. */
  progress: { intervalMs: 1000, maxStreamsPerTenant: 20 },
  mailFrom: 'MailingCore <noreply@mailingcore.invalid>',
  apiKeyCacheMs: 1000,
  /** How long a list page's `total` (a COUNT over the tenant's matching rows) is kept in a process (shared/list-totals.ts). */
  listTotalCacheMs: 1000,
  port: 3000,
  host: '127.0.0.1',
} as const;

/** When the circuit breaker pauses a sending campaign (campaigns/circuit-breaker.ts). */
export interface BreakerSettings {
  /** Hard bounces / (sent + bounced) above which the campaign is paused (BREAKER_BOUNCE_RATE, a fraction: 0.05 = 5 %). */
  bounceRate: number;
  /** Complaints / (sent + bounced) above which the campaign is paused (BREAKER_COMPLAINT_RATE: 0.003 = 0.3 %, Gmail's line). */
  complaintRate: number;
  /** No judgement before this many emails were sent or bounced: a few early bounces are noise (BREAKER_MIN_SENT). */
  minSent: number;
}

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
  /** Worker loops, batches, leases and retries (WORKER_CONCURRENCY, WORKER_BATCH_SIZE, WORKER_SEND_CONCURRENCY, SMTP_MAX_CONNECTIONS, WORKER_LEASE_MS, FANOUT_LEASE_MS). */
  sending: SendingPolicy;
  /** Requests per API key per window; shared through PostgreSQL or Redis, per process on SQLite. */
  rateLimit: { max: number; windowMs: number };
  /** Test sends (POST /campaigns/{id}/test) per tenant per UTC hour, across processes (TEST_SENDS_PER_HOUR). */
  testSendsPerHour: number;
  /** Soft bounces in a row, across campaigns, that suppress an address (SOFT_BOUNCE_LIMIT). */
  softBounceLimit: number;
  /** When a sending campaign is paused for its bounces or complaints (BREAKER_*). */
  breaker: BreakerSettings;
  redisUrl: string | undefined;
  /** How long an API process trusts a verified key without looking it up again: a revocation elsewhere takes this long. */
  apiKeyCacheMs: number;
  /** How long a list page's `total` is kept in a process: another process's writes show in it this late; 0 counts every page. */
  listTotalCacheMs: number;
  /** When set, GET /metrics wants `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /**
   * TRUST_PROXY: the reverse proxies whose X-Forwarded-For names the client
   * (addresses or CIDRs); unset, the socket's address is the client's. Used
   * by the per-IP sign-in limit and the logs.
   */
  trustProxy: string[] | undefined;
  /** A `worker` process serves /healthz, /readyz and /metrics on this port when set (it has no API to serve them). */
  metricsPort: number | undefined;
  /**
   * What tenants' servers may be connected to: ALLOW_PRIVATE_NETWORKS, SMTP_ALLOW_HOSTS,
   * SMTP_ALLOW_PLAIN_AUTH. Not applied to SMTP_URL, which is the operator's own.
   */
  outbound: OutboundSettings;
  /** The pool of threads every template render, CSS inlining and text derivation runs in, and its limits. */
  render: RenderConfig;
  /** Tracking hits' batching and the machine-open window (TRACKING_FLUSH_MS, TRACKING_FLUSH_HITS, TRACKING_MACHINE_OPEN_SECONDS). */
  tracking: TrackingSettings;
  /** Webhook retries, timeout and auto-disable (WEBHOOK_RETRY_SCHEDULE, WEBHOOK_TIMEOUT_MS, WEBHOOK_DISABLE_AFTER_MS). */
  webhooks: WebhookSettings;
  /** Days events, finished webhook deliveries and tracking firsts are kept (EVENTS_RETENTION_DAYS). */
  eventsRetentionDays: number;
  /** DNS_SERVERS: the resolvers domain verification asks (`ip` or `ip:port`, `[v6]:port`); undefined: the system's. */
  dnsServers: string[] | undefined;
  /** BOUNCE_DOMAIN: the VERP return path's domain for mail no verified return-path host covers; undefined: no VERP for it. */
  bounceDomain: string | undefined;
  /**
   * BOUNCE_MX_HOST: the host the suggested MX of each sending domain's
   * return-path host (`bounces.<name>`) points at, and that verify expects
   * there: the machine running the inbound listener. Undefined: the host of PUBLIC_URL.
   */
  bounceMxHost: string | undefined;
  /** The inbound SMTP listener for bounce addresses: INBOUND_SMTP_HOST (default 127.0.0.1), INBOUND_SMTP_PORT (undefined: `start` runs none). */
  inbound: { host: string; port: number | undefined };
}

/** The pool of threads every template render, CSS inlining and text derivation runs in, and its limits. */
export interface RenderConfig {
  /** Render threads (RENDER_THREADS). */
  threads: number;
  /** Wall-clock budget of one render (one message's three parts) or one freeze, ms (RENDER_TIMEOUT_MS); the thread is terminated past it. */
  timeoutMs: number;
  /** Heap limit of each render thread, MB (RENDER_MAX_HEAP_MB); a thread that needs more dies alone. */
  maxHeapMb: number;
  /** Most UTF-8 bytes of one rendered part (RENDER_MAX_BYTES). */
  maxBytes: number;
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
  const host = env.HOST?.trim() || DEFAULTS.host;
  const port = parsePort(env.PORT);
  const database = parseDatabaseUrl(env.DATABASE_URL, dataDir);
  const publicUrl = parsePublicUrl(env.PUBLIC_URL, host, port);
  const secret = parseSecret(env.MAILINGCORE_SECRET);
  const smtpUrl = parseSmtpUrl(env.SMTP_URL);
  const mailFrom = parseMailFrom(env.MAIL_FROM);
  const defaults = DEFAULTS.sending;
  const loops = parsePositiveInt('WORKER_CONCURRENCY', env.WORKER_CONCURRENCY, defaults.loops, 64);
  const smtpConnections = parsePositiveInt('SMTP_MAX_CONNECTIONS', env.SMTP_MAX_CONNECTIONS, defaults.smtpConnections, 50);
  const sending: SendingPolicy = {
    ...defaults,
    loops,
    smtpConnections,
    sendConcurrency: env.WORKER_SEND_CONCURRENCY?.trim()
      ? parsePositiveInt('WORKER_SEND_CONCURRENCY', env.WORKER_SEND_CONCURRENCY, defaults.sendConcurrency, 500)
      : sendSlotsPerLoop(loops, smtpConnections),
    leaseMs: parseMilliseconds('WORKER_LEASE_MS', env.WORKER_LEASE_MS, defaults.leaseMs, 1000),
    batchSize: parsePositiveInt('WORKER_BATCH_SIZE', env.WORKER_BATCH_SIZE, defaults.batchSize, 1000),
    priority: {
      sendConcurrency: parsePositiveInt('TX_CONCURRENCY', env.TX_CONCURRENCY, defaults.priority.sendConcurrency, 100),
      pollMs: parseMilliseconds('TX_POLL_MS', env.TX_POLL_MS, defaults.priority.pollMs, 5),
      connections: parsePositiveInt('TX_SMTP_CONNECTIONS', env.TX_SMTP_CONNECTIONS, defaults.priority.connections, 20),
    },
    fanoutLeaseMs: parseMilliseconds('FANOUT_LEASE_MS', env.FANOUT_LEASE_MS, defaults.fanoutLeaseMs, 1000),
    ...(env.FANOUT_CHUNK_ROWS ? { fanoutChunkRows: chunkRows(parsePositiveInt('FANOUT_CHUNK_ROWS', env.FANOUT_CHUNK_ROWS, 0, 10_000_000)) } : {}),
  };
  const rateLimit = {
    max: parsePositiveInt('RATE_LIMIT_MAX', env.RATE_LIMIT_MAX, DEFAULTS.rateLimit.max, 1_000_000),
    windowMs: parsePositiveInt('RATE_LIMIT_WINDOW_MS', env.RATE_LIMIT_WINDOW_MS, DEFAULTS.rateLimit.windowMs, 86_400_000),
  };
  const testSendsPerHour = parsePositiveInt('TEST_SENDS_PER_HOUR', env.TEST_SENDS_PER_HOUR, DEFAULTS.testSendsPerHour, 100_000);
  const softBounceLimit = parsePositiveInt('SOFT_BOUNCE_LIMIT', env.SOFT_BOUNCE_LIMIT, DEFAULTS.softBounceLimit, 1000);
  const breaker: BreakerSettings = {
    bounceRate: parseRate('BREAKER_BOUNCE_RATE', env.BREAKER_BOUNCE_RATE, DEFAULTS.breaker.bounceRate),
    complaintRate: parseRate('BREAKER_COMPLAINT_RATE', env.BREAKER_COMPLAINT_RATE, DEFAULTS.breaker.complaintRate),
    minSent: parsePositiveInt('BREAKER_MIN_SENT', env.BREAKER_MIN_SENT, DEFAULTS.breaker.minSent, 100_000_000),
  };
  const redisUrl = parseRedisUrl(env.REDIS_URL);
  const apiKeyCacheMs = parseMilliseconds('API_KEY_CACHE_MS', env.API_KEY_CACHE_MS, DEFAULTS.apiKeyCacheMs, 0, 60_000);
  const listTotalCacheMs = parseMilliseconds('LIST_TOTAL_CACHE_MS', env.LIST_TOTAL_CACHE_MS, DEFAULTS.listTotalCacheMs, 0, 60_000);
  const metricsToken = parseMetricsToken(env.METRICS_TOKEN);
  const trustProxy = parseTrustProxy(env.TRUST_PROXY);
  const metricsPort = env.METRICS_PORT?.trim() ? parsePort(env.METRICS_PORT, 'METRICS_PORT') : undefined;
  const outbound: OutboundSettings = {
    allowPrivateNetworks: parseBoolean('ALLOW_PRIVATE_NETWORKS', env.ALLOW_PRIVATE_NETWORKS),
    smtpAllowHosts: parseAllowHosts(env.SMTP_ALLOW_HOSTS),
    smtpAllowPlainAuth: parseBoolean('SMTP_ALLOW_PLAIN_AUTH', env.SMTP_ALLOW_PLAIN_AUTH),
    webhookAllowPrivate: parseBoolean('WEBHOOK_ALLOW_PRIVATE', env.WEBHOOK_ALLOW_PRIVATE),
  };
  const webhooks: WebhookSettings = {
    ...DEFAULTS.webhooks,
    retryScheduleMs: parseRetrySchedule(env.WEBHOOK_RETRY_SCHEDULE),
    timeoutMs: parseMilliseconds('WEBHOOK_TIMEOUT_MS', env.WEBHOOK_TIMEOUT_MS, DEFAULTS.webhooks.timeoutMs, 100, 60_000),
    disableAfterMs: parseMilliseconds('WEBHOOK_DISABLE_AFTER_MS', env.WEBHOOK_DISABLE_AFTER_MS, DEFAULTS.webhooks.disableAfterMs, 60_000, 90 * 86_400_000),
  };
  const dnsServers = parseDnsServers(env.DNS_SERVERS);
  const bounceDomain = parseBounceDomain(env.BOUNCE_DOMAIN);
  const bounceMxHost = parseHostName('BOUNCE_MX_HOST', env.BOUNCE_MX_HOST, 'mx.mc.example');
  const inbound = {
    host: env.INBOUND_SMTP_HOST?.trim() || '127.0.0.1',
    port: env.INBOUND_SMTP_PORT?.trim() ? parsePort(env.INBOUND_SMTP_PORT, 'INBOUND_SMTP_PORT') : undefined,
  };
  const eventsRetentionDays = parseBounded('EVENTS_RETENTION_DAYS', env.EVENTS_RETENTION_DAYS, DEFAULTS.eventsRetentionDays, 1, 3650);
  const render: RenderConfig = {
    threads: parsePositiveInt('RENDER_THREADS', env.RENDER_THREADS, DEFAULTS.render.threads, 64),
    timeoutMs: parseMilliseconds('RENDER_TIMEOUT_MS', env.RENDER_TIMEOUT_MS, DEFAULTS.render.timeoutMs, 100, 60_000),
    maxHeapMb: parseBounded('RENDER_MAX_HEAP_MB', env.RENDER_MAX_HEAP_MB, DEFAULTS.render.maxHeapMb, 32, 16_384),
    maxBytes: parseBounded('RENDER_MAX_BYTES', env.RENDER_MAX_BYTES, DEFAULTS.render.maxBytes, 1024, 64 * 1024 * 1024),
  };
  const tracking: TrackingSettings = {
    flushMs: parseMilliseconds('TRACKING_FLUSH_MS', env.TRACKING_FLUSH_MS, DEFAULTS.tracking.flushMs, 10, 60_000),
    flushHits: parsePositiveInt('TRACKING_FLUSH_HITS', env.TRACKING_FLUSH_HITS, DEFAULTS.tracking.flushHits, 10_000),
    machineOpenSeconds: parseBounded('TRACKING_MACHINE_OPEN_SECONDS', env.TRACKING_MACHINE_OPEN_SECONDS, DEFAULTS.tracking.machineOpenSeconds, 0, 3600),
  };
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }
  const logFormat = parseLogFormat(env.LOG_FORMAT, stdoutIsTTY);
  return {
    database, dataDir, host, port, publicUrl, secret, smtpUrl, mailFrom, logLevel, logFormat,
    sending, rateLimit, testSendsPerHour, softBounceLimit, breaker, redisUrl, apiKeyCacheMs, listTotalCacheMs, metricsToken, trustProxy, metricsPort, outbound, render, tracking,
    webhooks, eventsRetentionDays, dnsServers, bounceDomain, bounceMxHost, inbound,
  };
}

function parsePort(raw: string | undefined, name = 'PORT'): number {
  if (raw === undefined || raw.trim() === '') return DEFAULTS.port;
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
  if (!value) return DEFAULTS.mailFrom;
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

function parseBounded(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  const value = raw?.trim();
  if (!value) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${value}")`);
  return n;
}

/** A fraction from 0 (exclusive) to 1: `0.05` is 5 %. */
function parseRate(name: string, raw: string | undefined, fallback: number): number {
  const value = raw?.trim();
  if (!value) return fallback;
  const n = Number(value);
  if (!/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(value) || n <= 0 || n > 1) {
    throw new ConfigError(`${name} must be a fraction above 0 and at most 1, e.g. 0.05 for 5 % (got "${value}")`);
  }
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

/**
 * A comma-separated list of proxy addresses and CIDRs. "true" (trust any
 * sender of X-Forwarded-For) is refused: any client could then choose its
 * own address and walk past the per-IP sign-in limit. (A hop count is not
 * offered: Fastify 5 treats it as trusting no one, since it cannot check
 * the peer.)
 */
function parseTrustProxy(raw: string | undefined): string[] | undefined {
  const value = raw?.trim();
  if (!value || value === 'false') return undefined;
  const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const entry of entries) {
    const [address = '', bits, extra] = entry.split('/');
    const valid =
      extra === undefined &&
      (ipaddr.IPv4.isValidFourPartDecimal(address) || (address.includes(':') && ipaddr.IPv6.isValid(address))) &&
      (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (ipaddr.parse(address).kind() === 'ipv4' ? 32 : 128)));
    if (!valid) {
      throw new ConfigError(
        `TRUST_PROXY must be proxy addresses or CIDRs separated by commas (e.g. 10.0.0.5,10.1.0.0/16); "${entry}" is not one` +
          (value === 'true' ? ' (trusting every sender would let any client pick its own address)' : ''),
      );
    }
  }
  return entries;
}

function parseRedisUrl(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  if (!/^rediss?:\/\/[^\s]+$/.test(value)) throw new ConfigError('REDIS_URL must look like redis://host:6379 or rediss://…');
  return value;
}

function parseBoolean(name: string, raw: string | undefined): boolean {
  const value = raw?.trim().toLowerCase();
  if (!value || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new ConfigError(`${name} must be true or false (got "${raw}")`);
}

/** Comma-separated host names, IP addresses and CIDR ranges. */
function parseAllowHosts(raw: string | undefined): string[] {
  const entries = (raw ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  try {
    parseAllowList(entries);
  } catch (error) {
    throw new ConfigError(`SMTP_ALLOW_HOSTS: ${(error as Error).message}`);
  }
  return entries;
}

/** `1.1.1.1, 127.0.0.1:5353, [::1]:53`: IP addresses (no names: the resolver cannot look itself up), optional port. */
/** A host name (IDN to punycode, lower case, no trailing dot) whose MX reaches the inbound listener. */
export function parseBounceDomain(raw: string | undefined): string | undefined {
  return parseHostName('BOUNCE_DOMAIN', raw, 'bounces.example.com');
}

/** A host name of at least two labels: IDN to punycode, lower case, no trailing dot; undefined when unset. */
export function parseHostName(name: string, raw: string | undefined, example: string): string | undefined {
  const trimmed = raw?.trim().replace(/\.$/, '').toLowerCase();
  if (!trimmed) return undefined;
  const ascii = domainToASCII(trimmed);
  const labels = ascii.split('.');
  if (ascii === '' || ascii.length > 253 || labels.length < 2 || !labels.every((label) => /^(?!-)[a-z0-9-]{1,63}(?<!-)$/.test(label))) {
    throw new ConfigError(`${name} must be a domain name, e.g. ${example} (got "${raw}")`);
  }
  return ascii;
}

export function parseDnsServers(raw: string | undefined): string[] | undefined {
  const entries = (raw ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) return undefined;
  for (const entry of entries) {
    const match = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(entry) ?? [entry, entry, undefined];
    const [, address, port] = match;
    if (!address || net.isIP(address) === 0 || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
      throw new ConfigError(`DNS_SERVERS: "${entry}" is not an IP address with an optional port (e.g. 1.1.1.1, 127.0.0.1:5353, [::1]:53)`);
    }
  }
  return entries;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `10s,1m,10m,1h,6h,24h`: 1 to 20 delays, each a whole number with a unit (ms, s, m, h, d), from 1 s to 7 days. */
export function parseRetrySchedule(raw: string | undefined): number[] {
  const value = raw?.trim();
  if (!value) return [...DEFAULTS.webhooks.retryScheduleMs];
  const parts = value.split(',').map((part) => part.trim());
  const delays = parts.map((part) => {
    const match = /^(\d+)(ms|s|m|h|d)$/.exec(part);
    const ms = match ? Number(match[1]) * DURATION_UNITS[match[2]!]! : NaN;
    if (!(ms >= 1000 && ms <= 7 * 86_400_000)) {
      throw new ConfigError(
        `WEBHOOK_RETRY_SCHEDULE must be a comma-separated list of delays such as 10s,1m,10m,1h,6h,24h, each from 1s to 7d (got "${part}")`,
      );
    }
    return ms;
  });
  if (delays.length > 20) throw new ConfigError(`WEBHOOK_RETRY_SCHEDULE has ${delays.length} delays; at most 20`);
  return delays;
}
