/**
 * Profiling aid for the fan-out (not part of `npm run bench`): seeds
 * BENCH_SCALE contacts, sends a campaign through the app with every SQL
 * statement timed (Kysely's query log), then prints the plan of the
 * fan-out's INSERT … SELECT and of the baseline's (EXPLAIN ANALYZE on
 * PostgreSQL — rolled back —, EXPLAIN QUERY PLAN on SQLite).
 *
 *   BENCH_SCALE=100000 node --import tsx bench/explain-fanout.ts
 */
import { performance } from 'node:perf_hooks';
import { Kysely, PostgresDialect, SqliteDialect, type LogEvent } from 'kysely';
import pg from 'pg';
import SQLite from 'better-sqlite3';
import type { Database } from '../src/db/database.js';
import type { DB } from '../src/db/schema.js';
import { fmtMs, runIfMain, settings, sleep } from './lib/common.js';
import { cloneTable, createBenchDatabase, seedContacts, warm } from './lib/db.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { call, createCampaign, createTenant, openApp, publishedTemplate } from './lib/setup.js';

const clip = (text: string) => text.replace(/\s+/g, ' ').slice(0, 160);

async function explainEngine(engine: 'sqlite' | 'postgres'): Promise<void> {
  const bench = await createBenchDatabase(engine);
  try {
    const plain = openDatabase(bench.config);
    await migrateToLatest(plain);
    await plain.close();

    const log: { sql: string; parameters: readonly unknown[]; ms: number }[] = [];
    const capture = (event: LogEvent) => {
      log.push({ sql: event.query.sql, parameters: event.query.parameters, ms: event.queryDurationMillis });
    };
    let db: Kysely<DB>;
    if (bench.config.dialect === 'postgres') {
      const pool = new pg.Pool({ connectionString: bench.config.url, max: 10 });
      db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), log: capture });
    } else {
      const file = new SQLite(bench.config.file);
      file.pragma('journal_mode = WAL');
      file.pragma('synchronous = NORMAL');
      file.pragma('foreign_keys = ON');
      db = new Kysely<DB>({ dialect: new SqliteDialect({ database: file }), log: capture });
    }
    const database: Database = { db, dialect: engine, close: () => db.destroy() };
    const fixture = await openApp(database);
    const tenant = await createTenant(fixture.container, settings.scale * 10);
    const base = await publishedTemplate(fixture.app, tenant);
    await seedContacts(database, tenant.tenantId, settings.scale);
    await cloneTable(database, 'messages', 'bench_messages');
    await warm(database);
    const campaignId = await createCampaign(fixture.app, tenant, { templateVersionId: base });

    log.length = 0;
    const started = performance.now();
    await call(fixture.app, tenant, 'POST', `/campaigns/${campaignId}/send`, undefined, [202]);
    const answered = performance.now() - started;
    for (;;) {
      const row = await db.selectFrom('campaigns').select('fanout_completed_at').where('id', '=', campaignId).executeTakeFirstOrThrow();
      if (row.fanout_completed_at) break;
      await sleep(5);
    }
    const total = performance.now() - started;
    console.log(`\n## ${engine}, ${settings.scale} contacts: POST /send answered in ${fmtMs(answered)}, fan-out committed after ${fmtMs(total)}`);
    for (const entry of log.filter((e) => !/fanout_completed_at" from "campaigns" where "id"/.test(e.sql))) {
      console.log(`${entry.ms.toFixed(1).padStart(8)} ms  ${clip(entry.sql)}`);
    }

    const insert = log.find((e) => e.sql.startsWith('insert into "messages"'));
    const other = await createCampaign(fixture.app, tenant, { templateVersionId: base });
    const baselineSql = `insert into bench_messages (tenant_id, campaign_id, contact_id, email, locale, template_version_id, status, next_attempt_at, created_at, updated_at)
      select '${tenant.tenantId}', '${other}', c.id, c.email, c.locale, '${base}', 'QUEUED', '2030-01-01T00:00:00Z', '2030-01-01T00:00:00Z', '2030-01-01T00:00:00Z'
      from contacts c where c.tenant_id = '${tenant.tenantId}' and c.opt_in = 1
      and not exists (select 1 from suppressions s where s.tenant_id = '${tenant.tenantId}' and s.email = c.email)
      on conflict (campaign_id, contact_id) do nothing`;
    if (bench.config.dialect === 'postgres') {
      const client = new pg.Client({ connectionString: bench.config.url });
      await client.connect();
      try {
        const explain = async (title: string, text: string, values: unknown[] = []) => {
          console.log(`\n### EXPLAIN (ANALYZE, BUFFERS) — ${title} (rolled back)`);
          await client.query('begin');
          const plan = await client.query(`explain (analyze, buffers) ${text}`, values);
          console.log(plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
          await client.query('rollback');
        };
        await explain('baseline', baselineSql);
        // The app's own statement, for another campaign (the first one's rows are all there).
        if (insert) await explain('the fan-out INSERT … SELECT', insert.sql, insert.parameters.map((p) => (p === campaignId ? other : p)));
      } finally {
        await client.end();
      }
    } else {
      const file = new SQLite(bench.config.file, { readonly: true });
      const plan = (text: string, values: unknown[] = []) =>
        (file.prepare(`explain query plan ${text}`).all(...values) as { detail: string }[]).map((r) => `  ${r.detail}`).join('\n');
      console.log(`\n### EXPLAIN QUERY PLAN — baseline\n${plan(baselineSql)}`);
      if (insert) console.log(`\n### EXPLAIN QUERY PLAN — the fan-out INSERT … SELECT\n${plan(insert.sql, [...insert.parameters])}`);
      file.close();
    }
    await fixture.close();
  } finally {
    await bench.drop();
  }
}

async function main(): Promise<void> {
  for (const engine of settings.engines) await explainEngine(engine);
}

runIfMain(import.meta.url, main);
