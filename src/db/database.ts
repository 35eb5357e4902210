import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { createRequire } from 'node:module';
import type pg from 'pg';
import { clientTransactionOf, type ClientTransaction } from './client-transaction.js';
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
  /** PostgreSQL only: a transaction that also hands out its client, for COPY (client-transaction.ts). */
  clientTransaction?: ClientTransaction;
  close(): Promise<void>;
}

/** node-postgres, loaded the first time a PostgreSQL database is opened: a process on SQLite never pays its ~10 MB. */
let pgModule: typeof pg | undefined;
const loadPg = (): typeof pg => (pgModule ??= createRequire(import.meta.url)('pg') as typeof pg);

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
    return loadPg().types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

export interface OpenOptions {
  poolSize?: number;
  /**
   * SQLite: refuse (DatabaseMissingError) instead of creating the file when it
   * does not exist — the admin CLI must not hand out keys from a fresh,
   * empty database the server never reads.
   */
  mustExist?: boolean;
}

/** The SQLite file named by the configuration does not exist (and `mustExist` was asked). */
export class DatabaseMissingError extends Error {
  constructor(readonly file: string) {
    super(
      `no database at ${file}: run this where the server runs, with its DATA_DIR (or DATABASE_URL=sqlite:/path/to/mailingcore.db), ` +
        `or create one with "mailingcore migrate"`,
    );
  }
}

/** better-sqlite3's compiled module is missing or built for another Node.js. */
export class NativeBindingError extends Error {}

const BINDING_FAILURE = /Could not locate the bindings file|NODE_MODULE_VERSION|ERR_DLOPEN_FAILED|better_sqlite3\.node|invalid ELF header|wrong ELF class/;

export function isNativeBindingFailure(error: unknown): boolean {
  const e = error as { message?: unknown; code?: unknown };
  return e?.code === 'ERR_DLOPEN_FAILED' || (typeof e?.message === 'string' && BINDING_FAILURE.test(e.message));
}

/** Opens a SQLite connection, turning a missing native binding into one line that says what to do. */
export function openSqlite(file: string, options: SQLite.Options = {}): SQLite.Database {
  try {
    return new SQLite(file, options);
  } catch (error) {
    if (isNativeBindingFailure(error)) {
      throw new NativeBindingError(
        `the native SQLite module (better-sqlite3) is not built for Node.js ${process.version}: run "npm rebuild better-sqlite3"`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** The database as it may be shown: the SQLite path, or the URL without its password. */
export function describeDatabase(config: DatabaseConfig): string {
  if (config.dialect === 'sqlite') return config.file;
  try {
    const url = new URL(config.url);
    url.password = '';
    return url.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

export function openDatabase(config: DatabaseConfig, options: OpenOptions = {}): Database {
  if (config.dialect === 'postgres') {
    const pool = new (loadPg().Pool)({ connectionString: config.url, max: options.poolSize ?? 10, types: pgTypes });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', clientTransaction: clientTransactionOf(pool), close: () => db.destroy() };
  }
  if (options.mustExist && config.file !== ':memory:' && !fs.existsSync(config.file)) throw new DatabaseMissingError(config.file);
  if (config.file !== ':memory:') fs.mkdirSync(path.dirname(config.file), { recursive: true });
  const sqlite = openSqlite(config.file);
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
