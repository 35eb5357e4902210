import type { Kysely } from 'kysely';
import { atomically } from '../db/database.js';
import type { DB } from '../db/schema.js';

/** The only writer of the setup_tokens table: at most one row, the current first-run token's hash. */
export class SetupTokenRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): SetupTokenRepository {
    return new SetupTokenRepository(trx);
  }

  /** Replaces any previous token (which stops working). */
  async replace(tokenHash: string, at: string): Promise<void> {
    await atomically(this.db, async (trx) => {
      await trx.deleteFrom('setup_tokens').execute();
      await trx.insertInto('setup_tokens').values({ token_hash: tokenHash, created_at: at }).execute();
    });
  }

  /** Deletes the token if it is the current one: true for exactly one caller (one-time use). */
  async consume(tokenHash: string): Promise<boolean> {
    const result = await this.db.deleteFrom('setup_tokens').where('token_hash', '=', tokenHash).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async clear(): Promise<void> {
    await this.db.deleteFrom('setup_tokens').execute();
  }
}
