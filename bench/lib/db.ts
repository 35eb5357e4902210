/**
 * Databases for benchmarks: a fresh one per run (a temporary SQLite file, or
 * a new PostgreSQL database created and dropped like test/helpers/databases.ts
 * does), seeded in SQL so that seeding a million contacts takes seconds.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { DB } from '../../src/db/schema.js';
import { settings, type Engine } from './common.js';

export interface BenchDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
}

export async function createBenchDatabase(engine: Engine): Promise<BenchDatabase> {
  const name = `mc_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailingcore-bench-'));
    return {
      config: { dialect: 'sqlite', file: path.join(dir, `${name}.db`) },
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(settings.postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    config: { dialect: 'postgres', url: url.toString() },
    drop: () => withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

async function withAdmin<T>(task: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: settings.postgresAdminUrl });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL did not answer at ${settings.postgresAdminUrl} (set BENCH_POSTGRES_URL, or BENCH_ENGINES=sqlite): ${(error as Error).message}`);
  }
  try {
    return await task(client);
  } finally {
    await client.end();
  }
}

/** A fresh database, migrated, with the handle the caller closes. */
export async function freshDatabase(engine: Engine): Promise<{ bench: BenchDatabase; database: Database }> {
  const bench = await createBenchDatabase(engine);
  const database = openDatabase(bench.config, { poolSize: 10 });
  await migrateToLatest(database);
  return { bench, database };
}

export const SEED_LOCALES = ['en', 'es', 'fr'] as const;

/**
 * `count` opted-in contacts of a tenant, in three locales (en, es, fr in
 * turn), each with a few attributes; every 100th address is suppressed (1 %).
 * Ids look like UUIDv7 and grow with the row number.
 */
/** How many contacts to seed so that exactly `queued` are queued: seedContacts suppresses 1 % of them. */
export function contactsToQueue(queued: number): number {
  let contacts = queued;
  while (contacts - Math.floor(contacts / 100) < queued) contacts++;
  return contacts;
}

export async function seedContacts(database: Database, tenantId: string, count: number): Promise<{ suppressed: number }> {
  const { db, dialect } = database;
  const prefix = randomBytes(4).toString('hex');
  const now = new Date().toISOString();
  const chunk = 100_000;
  for (let from = 1; from <= count; from += chunk) {
    const to = Math.min(count, from + chunk - 1);
    if (dialect === 'sqlite') {
      await sql`
        with recursive seq(i) as (select ${from} union all select i + 1 from seq where i < ${to})
        insert into contacts (id, tenant_id, email, external_id, locale, opt_in, attributes, consent_version, source, project_id, created_at, updated_at)
        select printf('%s-0000-7000-8000-%012x', ${prefix}, i), ${tenantId}, 'contact' || i || '@bench.example', null,
               case i % 3 when 0 then 'en' when 1 then 'es' else 'fr' end, 1,
               json_object('first_name', 'Name' || i, 'last_name', 'Surname' || (i % 997), 'plan', case i % 4 when 0 then 'pro' else 'free' end, 'score', i % 100),
               'v1', 'bench', null, ${now}, ${now}
        from seq`.execute(db);
    } else {
      await sql`
        insert into contacts (id, tenant_id, email, external_id, locale, opt_in, attributes, consent_version, source, project_id, created_at, updated_at)
        select ${prefix} || '-0000-7000-8000-' || lpad(to_hex(i), 12, '0'), ${tenantId}, 'contact' || i || '@bench.example', null,
               case i % 3 when 0 then 'en' when 1 then 'es' else 'fr' end, 1,
               jsonb_build_object('first_name', 'Name' || i, 'last_name', 'Surname' || (i % 997), 'plan', case i % 4 when 0 then 'pro' else 'free' end, 'score', i % 100),
               'v1', 'bench', null, cast(${now} as timestamptz), cast(${now} as timestamptz)
        from generate_series(${from}::int, ${to}::int) as i`.execute(db);
    }
  }
  const suppressed = await db
    .insertInto('suppressions')
    .columns(['tenant_id', 'email', 'reason', 'created_at'])
    .expression(
      db
        .selectFrom('contacts')
        .select([sql.val(tenantId).as('tenant_id'), 'email', sql.val('manual').as('reason'), sql.val(now).as('created_at')])
        .where('tenant_id', '=', tenantId)
        .where(sql<boolean>`cast(substr(email, 8, length(email) - 21) as integer) % 100 = 0`),
    )
    .executeTakeFirst();
  await analyze(database);
  return { suppressed: Number(suppressed.numInsertedOrUpdatedRows ?? 0n) };
}

/**
 * PostgreSQL plans from statistics that autovacuum would gather within a
 * minute of a bulk load; gather them now. SQLite is left as the app runs it
 * (no ANALYZE), for both the app and the baseline.
 */
export async function analyze(database: Database): Promise<void> {
  if (database.dialect === 'postgres') await sql`analyze`.execute(database.db);
}

/**
 * Reads every contact once so both the app and the baseline start from a
 * warm cache, and (SQLite) folds the write-ahead log back into the file, so
 * that no measured phase pays for a checkpoint of rows written before it.
 */
export async function warm(database: Database): Promise<void> {
  await sql`select count(*), sum(length(email)) from contacts`.execute(database.db);
  await sql`select count(*) from suppressions`.execute(database.db);
  await checkpoint(database.db, database.dialect);
}

async function checkpoint(db: Kysely<DB>, engine: Engine): Promise<void> {
  if (engine === 'sqlite') await sql`pragma wal_checkpoint(truncate)`.execute(db);
}

/**
 * `target`: an empty table of the same shape as `source` — columns, defaults,
 * primary and unique keys, indexes and foreign keys — for baselines that
 * write the same rows without the application.
 */
export async function cloneTable(database: Database, source: 'messages' | 'contacts', target: string): Promise<void> {
  const { db, dialect } = database;
  if (dialect === 'postgres') {
    await sql`create table ${sql.id(target)} (like ${sql.id(source)} including all)`.execute(db);
    const fks = await sql<{ def: string }>`
      select pg_get_constraintdef(oid) as def from pg_constraint where conrelid = ${source}::regclass and contype = 'f'`.execute(db);
    for (const { def } of fks.rows) await sql`alter table ${sql.id(target)} add ${sql.raw(def)}`.execute(db);
    return;
  }
  const objects = await sql<{ type: string; name: string; sql: string | null }>`
    select type, name, sql from sqlite_master where tbl_name = ${source} and sql is not null order by type desc`.execute(db);
  // Names in the stored DDL are quoted or not, depending on how each migration wrote them.
  const name = (n: string) => `(?:"${n}"|\\b${n}\\b)`;
  for (const object of objects.rows) {
    const ddl =
      object.type === 'index'
        ? object.sql!
            .replace(new RegExp(`(index\\s+(?:if not exists\\s+)?)${name(object.name)}`, 'i'), `$1"${target}_${object.name}"`)
            .replace(new RegExp(`(\\bon\\s+)${name(source)}`, 'i'), `$1"${target}"`)
        : object.sql!.replace(new RegExp(`(table\\s+)${name(source)}`, 'i'), `$1"${target}"`);
    await sql.raw(ddl).execute(db);
  }
}

/** Empties a table (between repetitions) and checkpoints. */
export async function empty(db: Kysely<DB>, engine: Engine, table: string): Promise<void> {
  if (engine === 'postgres') await sql`truncate ${sql.id(table)}`.execute(db);
  else await sql`delete from ${sql.id(table)}`.execute(db);
  await checkpoint(db, engine);
}
