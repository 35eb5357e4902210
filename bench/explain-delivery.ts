/**
 * Profiling aid for delivery (not part of `npm run bench`): queues
 * min(BENCH_SCALE, 100 000) messages, runs the real worker against the SMTP
 * sink process with every SQL statement timed (Kysely's query log), and
 * prints where the database time went, grouped by statement, next to the
 * wall-clock time. Combine with `node --cpu-prof` for the JavaScript side.
 *
 *   BENCH_SCALE=5000 BENCH_ENGINES=postgres node --import tsx bench/explain-delivery.ts
 */
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type LogEvent } from 'kysely';
import pg from 'pg';
import { createContainer } from '../src/container.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { DB } from '../src/db/schema.js';
import { BENCH_OUTBOUND, BENCH_SECRET, fmtInt, fmtMs, runIfMain, settings, sleep, startSink } from './lib/common.js';
import { createBenchDatabase, seedContacts } from './lib/db.js';
import { call, createCampaign, createTenant, openApp, publishedTemplate, smtpProject } from './lib/setup.js';

/** A statement's shape: its first words, with identifiers and lists collapsed. */
const shape = (text: string) => text.replace(/\s+/g, ' ').replace(/\(\$\d+(, \$\d+)*\)/g, '(…)').slice(0, 110);

async function explainEngine(engine: 'sqlite' | 'postgres'): Promise<void> {
  const n = Math.min(settings.scale, 100_000);
  const bench = await createBenchDatabase(engine);
  const sink = await startSink();
  try {
    const plain = openDatabase(bench.config);
    await migrateToLatest(plain);
    const fixture = await openApp(plain);
    const tenant = await createTenant(fixture.container, n * 10);
    const base = await publishedTemplate(fixture.app, tenant);
    const projectId = await smtpProject(fixture.app, tenant, sink.port);
    await seedContacts(plain, tenant.tenantId, n);
    const campaignId = await createCampaign(fixture.app, tenant, { templateVersionId: base, projectId });
    await call(fixture.app, tenant, 'POST', `/campaigns/${campaignId}/send`, undefined, [202]);
    for (;;) {
      const row = await plain.db.selectFrom('campaigns').select('fanout_completed_at').where('id', '=', campaignId).executeTakeFirstOrThrow();
      if (row.fanout_completed_at) break;
      await sleep(20);
    }
    await fixture.app.close();

    const stats = new Map<string, { count: number; ms: number }>();
    const capture = (event: LogEvent) => {
      const key = shape(event.query.sql);
      const entry = stats.get(key) ?? { count: 0, ms: 0 };
      entry.count += 1;
      entry.ms += event.queryDurationMillis;
      stats.set(key, entry);
    };
    let db: Kysely<DB>;
    if (bench.config.dialect === 'postgres') {
      // The row shapes of src/db/database.ts: timestamps as ISO strings, bigints as numbers.
      const types = {
        getTypeParser: (oid: number, format?: 'text' | 'binary') =>
          oid === 20 ? (v: string) => Number(v) : oid === 1184 ? (v: string) => new Date(v).toISOString() : pg.types.getTypeParser(oid, format as 'text'),
      } as pg.CustomTypesConfig;
      db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: bench.config.url, max: 10, types }) }), log: capture });
    } else {
      const file = new SQLite(bench.config.file);
      file.pragma('journal_mode = WAL');
      file.pragma('synchronous = NORMAL');
      file.pragma('foreign_keys = ON');
      file.pragma('busy_timeout = 5000');
      db = new Kysely<DB>({ dialect: new SqliteDialect({ database: file }), log: capture });
    }
    const database: Database = { db, dialect: engine, close: () => db.destroy() };
    const container = createContainer(database, { secret: BENCH_SECRET, outbound: BENCH_OUTBOUND });
    const worker = container.createWorker();
    const started = performance.now();
    worker.start();
    for (;;) {
      const row = await db.selectFrom('campaigns').select('status').where('id', '=', campaignId).executeTakeFirstOrThrow();
      if (row.status !== 'SENDING') break;
      await sleep(20);
    }
    const wall = performance.now() - started;
    await worker.stop();
    await container.close();
    console.log(`\n## ${engine}: ${fmtInt(n)} messages in ${fmtMs(wall)} (${fmtInt((n / wall) * 1000)} msg/s); SQL time by statement (summed over concurrent loops):`);
    const sorted = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
    for (const [key, { count, ms }] of sorted.slice(0, 15)) {
      console.log(`${fmtMs(ms).padStart(9)} ${String(count).padStart(7)}×  ${key}`);
    }
    const errors = await plain.db
      .selectFrom('messages')
      .select(['last_error', (eb) => eb.fn.countAll<number>().as('n')])
      .where('last_error', 'is not', null)
      .groupBy('last_error')
      .orderBy('n', 'desc')
      .limit(5)
      .execute();
    for (const e of errors) console.log(`last_error ×${e.n}: ${e.last_error}`);
    await fixture.container.close();
  } finally {
    await sink.close();
    await bench.drop();
  }
}

async function main(): Promise<void> {
  for (const engine of settings.engines) await explainEngine(engine);
}

runIfMain(import.meta.url, main);
