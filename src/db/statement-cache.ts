import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { LruMap } from '../shared/lru-map.js';

const LONG_SQL = 8192;

/**
 * better-sqlite3 statements are reusable, but Kysely's SQLite driver calls
 * `prepare()` for every query: on the API's hot path that was a tenth of the
 * server's CPU. This wrapper hands Kysely a cached statement per SQL text,
 * least recently used evicted: up to 500 short ones, and only 16 long ones
 * (multi-row inserts, IN lists of a whole batch), since a compiled
 * statement with thousands of parameters is large and SQL with inlined
 * lists varies. A statement still being iterated by a stream is busy and
 * cannot run a second query, so a busy one is never handed out: a fresh one is.
 */
export function withStatementCache(database: SQLite.Database): SqliteDatabase {
  const short = new LruMap<string, SQLite.Statement>(500);
  const long = new LruMap<string, SQLite.Statement>(16);
  return {
    close: () => {
      short.clear();
      long.clear();
      database.close();
    },
    prepare(sql: string): SqliteStatement {
      const cache = sql.length > LONG_SQL ? long : short;
      const cached = cache.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = database.prepare(sql);
      if (!cached) cache.set(sql, statement);
      return statement;
    },
  };
}
