import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import pinoPretty from 'pino-pretty';
import type { Config } from './config.js';
import { createContainer, type Container } from './container.js';
import { describeDatabase, openDatabase } from './db/database.js';
import { isSchemaCurrent, migrateToLatest } from './db/migrate.js';
import type { DeliveryWorker } from './delivery/worker.js';
import { buildApp } from './app.js';
import type { App } from './http/types.js';
import { buildOperationsApp } from './operations/operations.app.js';
import type { Scheduler } from './scheduler/scheduler.js';
import type { Retention } from './events/retention.js';
import type { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';
import { resolveSecret } from './settings/secret.js';
import type { InboundServer } from './inbound/inbound-server.js';

/** start: everything in one process; serve: HTTP API only; worker: scheduler and delivery only. */
export type Role = 'start' | 'serve' | 'worker' | 'inbound';

/** Never log what authenticates a caller or reaches an SMTP server. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.csrfToken',
  '*.token',
  '*.pass',
  '*.apiKey',
  '*.secret',
];

/**
 * JSON lines, or with `logFormat: 'pretty'` one readable line per entry
 * (pino-pretty as a synchronous stream in this process: no worker thread,
 * and redaction happens before it, as for JSON).
 */
export function createLogger(
  config: Pick<Config, 'logLevel'> & Partial<Pick<Config, 'logFormat'>>,
  /** Where to write (default stdout); tests pass a stream to read the lines back. */
  destination?: NodeJS.WritableStream,
): FastifyBaseLogger {
  const options = { level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  if (config.logFormat !== 'pretty') return destination ? pino(options, destination) : pino(options);
  const stream = pinoPretty({
    ...(destination ? { destination } : {}),
    colorize: !destination && Boolean(process.stdout.isTTY),
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    // The request summary's fields are already in its message ("GET /campaigns 200 3.1ms").
    ignore: 'pid,hostname,reqId,method,url,statusCode,ms',
    singleLine: true,
  });
  return pino(options, stream);
}

export interface RunningServer {
  app: App | undefined;
  container: Container;
  url: string | undefined;
  logger: FastifyBaseLogger;
  stop(): Promise<void>;
}

/** Boots one process role. Only `start` migrates; the others require a current schema. */
export async function startServer(config: Config, role: Role, logger = createLogger(config)): Promise<RunningServer> {
  const database = openDatabase(config.database);
  let secret: string;
  try {
    if (role === 'start') {
      const applied = await migrateToLatest(database);
      if (applied.length > 0) logger.info({ migrations: applied }, 'applied migrations');
    } else if (!(await isSchemaCurrent(database))) {
      throw new Error('the database schema is not current: run "mailingcore migrate" first');
    }
    let generated: boolean;
    ({ secret, generated } = await resolveSecret(database.db, config.secret));
    if (generated) {
      logger.warn('MAILINGCORE_SECRET is not set: using a secret generated and stored in the database; set it in production');
    }
  } catch (error) {
    await database.close();
    throw error;
  }

  const container = createContainer(database, {
    secret,
    logger,
    onBackgroundError: (err) => logger.error({ err }, 'background task failed'),
    rateLimit: config.rateLimit,
    testSendsPerHour: config.testSendsPerHour,
    softBounceLimit: config.softBounceLimit,
    breaker: config.breaker,
    redisUrl: config.redisUrl,
    apiKeyCacheMs: config.apiKeyCacheMs,
    listTotalCacheMs: config.listTotalCacheMs,
    sending: config.sending,
    processMetrics: true,
    outbound: config.outbound,
    render: config.render,
    tracking: config.tracking,
    // An endpoint's lease is as long as a message's (WORKER_LEASE_MS): how soon a dead worker's work is taken over.
    webhooks: { ...config.webhooks, leaseMs: config.sending.leaseMs },
    eventsRetentionDays: config.eventsRetentionDays,
    dns: { servers: config.dnsServers },
    bounceDomain: config.bounceDomain,
    bounceMxHost: config.bounceMxHost,
    delivery: {
      smtpUrl: config.smtpUrl,
      outboxDir: path.join(config.dataDir, 'outbox'),
      mailFrom: config.mailFrom,
      publicUrl: config.publicUrl,
      priorityConnections: config.sending.priority.connections,
    },
  });
  if (!config.smtpUrl && (role === 'start' || role === 'worker')) {
    logger.info({ outbox: path.join(config.dataDir, 'outbox') }, 'SMTP_URL is not set: emails without an SMTP project are captured as .eml files');
  }

  let app: App | undefined;
  let url: string | undefined;
  let operationsApp: App | undefined;
  let metricsUrl: string | undefined;
  let worker: DeliveryWorker | undefined;
  let scheduler: Scheduler | undefined;
  let dispatcher: WebhookDispatcher | undefined;
  let retention: Retention | undefined;
  let inbound: InboundServer | undefined;
  let inboundAddress: { host: string; port: number } | undefined;
  if (role === 'inbound' && config.inbound.port === undefined) {
    await container.close();
    throw new Error('INBOUND_SMTP_PORT is not set: the inbound listener needs a port (25 behind the bounce domain\'s MX)');
  }
  if (role === 'inbound' || (role === 'start' && config.inbound.port !== undefined)) {
    inbound = container.createInboundServer({ host: config.inbound.host, port: config.inbound.port! });
    inboundAddress = await inbound.listen();
  }
  if (role === 'inbound') {
    if (config.metricsPort !== undefined) {
      operationsApp = await buildOperationsApp(container, { logger, metricsToken: config.metricsToken });
      metricsUrl = await operationsApp.listen({ host: config.host, port: config.metricsPort });
    }
  } else if (role !== 'worker') {
    app = await buildApp(container, { logger, metricsToken: config.metricsToken, trustProxy: config.trustProxy });
    // First run: nobody has an account yet. One line with a fresh one-time link (the previous start's stops working),
    // written before the port opens, so whoever sees the server answer can already read it.
    const setupUrl = await container.accounts.issueSetupLink();
    if (setupUrl) logger.warn(`First run: open ${setupUrl} to create the first owner account (one-time link)`);
    url = await app.listen({ host: config.host, port: config.port });
  } else if (config.metricsPort !== undefined) {
    operationsApp = await buildOperationsApp(container, { logger, metricsToken: config.metricsToken });
    metricsUrl = await operationsApp.listen({ host: config.host, port: config.metricsPort });
  }
  if (role === 'start' || role === 'worker') {
    scheduler = container.createScheduler();
    worker = container.createWorker();
    dispatcher = container.createWebhookDispatcher();
    retention = container.createRetention();
    scheduler.start();
    worker.start();
    dispatcher.start();
    retention.start();
  }
  logger.info(
    { url, metricsUrl, inbound: inboundAddress, database: config.database.dialect, location: describeDatabase(config.database), role },
    role === 'worker' ? 'MailingCore worker running' : role === 'inbound' ? 'MailingCore inbound SMTP listening' : 'MailingCore is listening',
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await app?.close(); // stop taking requests first
      await inbound?.close();
      await operationsApp?.close();
      await scheduler?.stop();
      await Promise.all([
        worker?.stop(), // finishes in-flight sends, releases the rest
        dispatcher?.stop(), // lets each endpoint's request in flight finish and be recorded, releases the endpoints
        retention?.stop(),
      ]);
      await container.close();
    })());
  return { app, container, url, logger, stop };
}
