import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { DB } from './schema.js';
import { withStatementCache } from './statement-cache.js';

/** DATABASE_URL, parsed (config.ts). */
export type DatabaseConfig =
  | { dialect: 'sqlite'; file: string }
  | { dialect: 'postgres'; url: string };

export type Dialect = DatabaseConfig['dialect'];

/** Runs `work` in one transaction; repositories bound to `trx` (`repository.in(trx)`) write inside it. */
export type Transaction = <T>(work: (trx: Kysely<DB>) => Promise<T>) => Promise<T>;

export const transactionOf =
  (db: Kysely<DB>): Transaction =>
  (work) =>
    db.transaction().execute(work);

/** `work` in a transaction: `db`'s own when it is one already, a new one otherwise. */
export function atomically<T>(db: Kysely<DB>, work: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

export interface Database {
  db: Kysely<DB>;
  dialect: Dialect;
  close(): Promise<void>;
}

const PG_INT8 = 20;
const PG_TIMESTAMPTZ = 1184;

/**
 * Both engines hand timestamps back as ISO 8601 strings (UTC, milliseconds) and
 * counts as numbers, so repositories never branch on the dialect for row shapes.
 */
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === PG_INT8) return (value: string) => Number(value);
    if (oid === PG_TIMESTAMPTZ) return (value: string) => new Date(value).toISOString();
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

export function openDatabase(config: DatabaseConfig, options: { poolSize?: number } = {}): Database {
  if (config.dialect === 'postgres') {
    const pool = new pg.Pool({ connectionString: config.url, max: options.poolSize ?? 10, types: pgTypes });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', close: () => db.destroy() };
  }
  if (config.file !== ':memory:') fs.mkdirSync(path.dirname(config.file), { recursive: true });
  const sqlite = new SQLite(config.file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  // Deleted rows (an erased contact, its blanked message history) are overwritten with
  // zeros, freed pages included, rather than left readable in the file (docs/RELIABILITY.md, Erasure).
  sqlite.pragma('secure_delete = ON');
  // Several processes (API, workers, CLI) may share the file: wait for a lock rather than fail.
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}
