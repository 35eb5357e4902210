import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import type { DB } from './schema.js';

/**
 * PostgreSQL: runs `work` in one transaction on a client checked out of the
 * pool, handing it both the transaction (for queries through Kysely) and the
 * client the transaction runs on — for what Kysely cannot send, such as
 * `COPY … FROM STDIN` (pg-copy-streams). Kysely never exposes the client of
 * its own transactions, so this checks one out itself and gives Kysely a
 * pool of that single client.
 */
export type ClientTransaction = <T>(work: (trx: Kysely<DB>, client: pg.PoolClient) => Promise<T>) => Promise<T>;

export function clientTransactionOf(pool: pg.Pool): ClientTransaction {
  // One Kysely per pooled client, built on first use: the pool's clients are long-lived.
  const bound = new WeakMap<pg.PoolClient, { db: Kysely<DB>; discarded: () => boolean }>();
  return async (work) => {
    const client = await pool.connect();
    let broken = false;
    try {
      let entry = bound.get(client);
      if (!entry) {
        const single = singleClientPool(client);
        entry = { db: new Kysely<DB>({ dialect: new PostgresDialect({ pool: single.pool }) }), discarded: single.discarded };
        bound.set(client, entry);
      }
      const { db, discarded } = entry;
      try {
        return await db.transaction().execute((trx) => work(trx, client));
      } finally {
        broken = discarded();
      }
    } catch (error) {
      // An answer of the server (it has a SQLSTATE) leaves the connection usable; anything else may not.
      if (typeof (error as { code?: unknown } | null)?.code !== 'string') broken = true;
      throw error;
    } finally {
      // A broken client is destroyed by the pool rather than handed out again.
      client.release(broken);
    }
  };
}

/** A pool that always hands out `client` and never releases it (clientTransactionOf does). */
function singleClientPool(client: pg.PoolClient): { pool: PostgresPool; discarded: () => boolean } {
  let discarded = false;
  const shared: PostgresPoolClient = {
    query: client.query.bind(client) as PostgresPoolClient['query'],
    release: (discard?: boolean) => {
      if (discard) discarded = true;
    },
  };
  return {
    pool: {
      connect: async () => shared,
      end: async () => {},
    },
    discarded: () => discarded,
  };
}
