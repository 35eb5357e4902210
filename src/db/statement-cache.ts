import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { LruMap } from '../shared/lru-map.js';

/**
 * better-sqlite3 statements are reusable, but Kysely's SQLite driver calls
 * `prepare()` for every query: on the API's hot path that was a tenth of the
 * server's CPU. This wrapper hands Kysely a cached statement per SQL text
 * (bounded, since SQL with inlined lists varies). A statement still being
 * iterated by a stream is busy and cannot run a second query, so a busy one
 * is never handed out: a fresh one is.
 */
export function withStatementCache(database: SQLite.Database, capacity = 500): SqliteDatabase {
  const cache = new LruMap<string, SQLite.Statement>(capacity);
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = database.prepare(sql);
      if (!cached) cache.set(sql, statement);
      return statement;
    },
  };
}
