import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { LruMap } from '../shared/lru-map.js';

const LONG_SQL = 8192;

interface Cached {
  statement: SQLite.Statement;
  handle: SqliteStatement;
}

/**
 * better-sqlite3 statements are reusable, but Kysely's SQLite driver calls
 * `prepare()` for every query: on the API's hot path that was a tenth of the
 * server's CPU. This wrapper hands Kysely a cached statement per SQL text,
 * least recently used evicted: up to 500 short ones, and only 16 long ones
 * (multi-row inserts, IN lists of a whole batch), since a compiled
 * statement with thousands of parameters is large and SQL with inlined
 * lists varies. A statement still being iterated by a stream is busy and
 * cannot run a second query, so a busy one is never handed out: a fresh one is.
 *
 * Rows are read as arrays and made into objects here (see `rowsAsObjects`).
 */
export function withStatementCache(database: SQLite.Database): SqliteDatabase {
  const short = new LruMap<string, Cached>(500);
  const long = new LruMap<string, Cached>(16);
  return {
    close: () => {
      short.clear();
      long.clear();
      database.close();
    },
    prepare(sql: string): SqliteStatement {
      const cache = sql.length > LONG_SQL ? long : short;
      const cached = cache.get(sql);
      if (cached && !cached.statement.busy) return cached.handle;
      const statement = database.prepare(sql);
      const fresh = { statement, handle: rowsAsObjects(statement) };
      if (!cached) cache.set(sql, fresh);
      return fresh.handle;
    },
  };
}

/**
 * A reading statement whose rows better-sqlite3 returns as arrays, turned
 * into objects by a function compiled once per statement (an object literal
 * of its columns). better-sqlite3 builds each row object through V8's C++
 * API one property at a time: for a row of 26 columns that was 2–3× the cost
 * of reading the row (`GET /campaigns?limit=20`: 680 µs for the page's 20
 * rows as objects, 190 µs as arrays; docs/DECISIONS.md). Same objects,
 * same order of keys, the last of two same-named columns winning, as before.
 */
export function rowsAsObjects(statement: SQLite.Statement): SqliteStatement {
  if (!statement.reader) return statement;
  statement.raw(true);
  const toObject = objectBuilder(statement.columns().map((column) => column.name));
  return {
    reader: true,
    all: (parameters) => {
      const rows = statement.all(parameters) as unknown[][];
      const objects = new Array<unknown>(rows.length);
      for (let i = 0; i < rows.length; i++) objects[i] = toObject(rows[i]!);
      return objects;
    },
    run: (parameters) => statement.run(parameters),
    iterate: function* (parameters) {
      for (const row of statement.iterate(parameters) as IterableIterator<unknown[]>) yield toObject(row);
    },
  };
}

function objectBuilder(names: string[]): (row: unknown[]) => Record<string, unknown> {
  if (names.includes('__proto__')) {
    return (row) => {
      const object: Record<string, unknown> = {};
      names.forEach((name, i) => Object.defineProperty(object, name, { value: row[i], enumerable: true, writable: true, configurable: true }));
      return object;
    };
  }
  // Names are quoted as JSON strings: any column name makes a valid literal key.
  return new Function('row', `return { ${names.map((name, i) => `${JSON.stringify(name)}: row[${i}]`).join(', ')} };`) as (row: unknown[]) => Record<string, unknown>;
}
