import type { Kysely, Selectable } from 'kysely';
import type { DB, UsersTable } from '../db/schema.js';

export type UserRow = Selectable<UsersTable>;

/** The only writer of the users table. Bound to a transaction with `in(trx)`. */
export class UserRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): UserRepository {
    return new UserRepository(trx);
  }

  async insert(row: UserRow): Promise<void> {
    await this.db.insertInto('users').values(row).execute();
  }

  getById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** By the normalised address (accounts/account-input.ts). */
  getByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  }

  /** Whether anyone has an account: first-run setup is open only while nobody has. */
  async any(): Promise<boolean> {
    return (await this.db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
  }

  list(): Promise<UserRow[]> {
    return this.db.selectFrom('users').selectAll().orderBy('email').execute();
  }

  async setPasswordHash(id: string, passwordHash: string, at: string): Promise<void> {
    await this.db.updateTable('users').set({ password_hash: passwordHash, updated_at: at }).where('id', '=', id).execute();
  }
}
