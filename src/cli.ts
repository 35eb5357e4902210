#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from './config.js';
import { registerKeyCommands, registerTenantCommands, registerUserCommands } from './cli/admin.js';
import { CliError, errorLines, EXIT } from './cli/errors.js';
import { registerOperatorCommands } from './cli/operator.js';
import { describeDatabase, NativeBindingError, openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import type { Role } from './server.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

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
  .version(VERSION, '-V, --version', 'print the version')
  .showHelpAfterError()
  // Usage errors (unknown command or option, bad or missing argument) exit 2; --help and --version exit 0.
  .exitOverride();

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
  .command('inbound')
  .description('run the inbound SMTP listener for bounce addresses only (INBOUND_SMTP_PORT; DSNs and complaints)')
  .action(() => runServer('inbound'));

program
  .command('migrate')
  .description('apply pending schema migrations and exit (creates the SQLite file when there is none)')
  .action(async () => {
    const config = loadConfig();
    process.stderr.write(`mailingcore: database ${describeDatabase(config.database)}\n`);
    const database = openDatabase(config.database, { poolSize: 1 });
    try {
      const applied = await migrateToLatest(database);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
    } finally {
      await database.close();
    }
  });

program
  .command('doctor')
  .description('check the configuration, the native SQLite binding, the database, its migrations and SMTP_URL, and say what to fix')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const { formatChecks, runChecks } = await import('./cli/doctor.js');
    const checks = await runChecks();
    console.log(opts.json ? JSON.stringify(checks, null, 2) : formatChecks(checks));
    if (checks.some((c) => c.status === 'fail')) {
      if (!opts.json) console.log('\nsome checks failed: see → above for what to do');
      process.exitCode = EXIT.error;
    }
  });

registerTenantCommands(program);
registerKeyCommands(program);
registerUserCommands(program);
registerOperatorCommands(program);

function fail(lines: string[], code: number): never {
  for (const line of lines) process.stderr.write(`${line}\n`);
  process.exit(code);
}

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (and the help).
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  if (error instanceof CliError) fail(errorLines(error), error.exitCode);
  if (error instanceof ConfigError) fail([`mailingcore: configuration error: ${error.message}`], EXIT.error);
  if (error instanceof NativeBindingError) fail([`mailingcore: ${error.message}`], EXIT.error);
  fail([`mailingcore: ${(error as Error).message}`], EXIT.error);
});
