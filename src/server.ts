import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import type { Config } from './config.js';
import { createContainer, type Container } from './container.js';
import { openDatabase } from './db/database.js';
import { isSchemaCurrent, migrateToLatest } from './db/migrate.js';
import { buildApp } from './http/app.js';
import type { App } from './http/types.js';
import { resolveSecret } from './settings/secret.js';

export type Role = 'start' | 'serve';

/** Never log what authenticates a caller or reaches an SMTP server. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.pass',
  '*.apiKey',
  '*.secret',
];

export function createLogger(config: Config): FastifyBaseLogger {
  return pino({ level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}

export interface RunningServer {
  app: App;
  container: Container;
  url: string;
  stop(): Promise<void>;
}

/** Boots one process role: `start` migrates then serves; `serve` requires a current schema. */
export async function startServer(config: Config, role: Role, logger = createLogger(config)): Promise<RunningServer> {
  const database = openDatabase(config.database);
  let secret: string;
  let generated: boolean;
  try {
    if (role === 'start') {
      const applied = await migrateToLatest(database);
      if (applied.length > 0) logger.info({ migrations: applied }, 'applied migrations');
    } else if (!(await isSchemaCurrent(database))) {
      throw new Error('the database schema is not current: run "mailingcore migrate" first');
    }
    ({ secret, generated } = await resolveSecret(database.db, config.secret));
    if (generated) {
      logger.warn('MAILINGCORE_SECRET is not set: using a secret generated and stored in the database; set it in production');
    }
  } catch (error) {
    await database.close();
    throw error;
  }

  const container = createContainer(database, { secret, onBackgroundError: (err) => logger.error({ err }, 'background task failed') });
  const app = await buildApp(container, { logger });
  const url = await app.listen({ host: config.host, port: config.port });
  logger.info({ url, database: config.database.dialect, role }, 'MailingCore is listening');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await app.close();
      await container.close();
    })());
  return { app, container, url, stop };
}
