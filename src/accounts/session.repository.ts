import type { Kysely, Selectable } from 'kysely';
import type { DB, SessionsTable } from '../db/schema.js';

export type SessionRow = Selectable<SessionsTable>;

/** The only writer of the sessions table. */
export class SessionRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): SessionRepository {
    return new SessionRepository(trx);
  }

  async insert(row: SessionRow): Promise<void> {
    await this.db.insertInto('sessions').values(row).execute();
  }

  /** The authentication look-up: one indexed read by the token's SHA-256. */
  getByHash(tokenHash: string): Promise<SessionRow | undefined> {
    return this.db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /** last_seen_at only moves forward. */
  async touch(id: string, at: string): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).where('last_seen_at', '<', at).execute();
  }

  async setTenant(id: string, tenantId: string): Promise<void> {
    await this.db.updateTable('sessions').set({ tenant_id: tenantId }).where('id', '=', id).execute();
  }

  async revoke(id: string, at: string): Promise<void> {
    await this.db.updateTable('sessions').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  /** Every open session of the user (sign out everywhere); how many were open. */
  async revokeAllOfUser(userId: string, at: string): Promise<number> {
    const result = await this.db
      .updateTable('sessions')
      .set({ revoked_at: at })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** The user's sessions that have ended (revoked, past their absolute end, idle since `idleBefore`): deleted at each sign-in, so the table stays the size of the live sessions. */
  async deleteEndedOfUser(userId: string, now: string, idleBefore: string): Promise<number> {
    const result = await this.db
      .deleteFrom('sessions')
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('revoked_at', 'is not', null), eb('expires_at', '<=', now), eb('last_seen_at', '<=', idleBefore)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
