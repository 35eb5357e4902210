import type { Kysely, Selectable } from 'kysely';
import type { DB, InvitationsTable } from '../db/schema.js';

export type InvitationRow = Selectable<InvitationsTable>;

/** The only writer of the invitations table. */
export class InvitationRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): InvitationRepository {
    return new InvitationRepository(trx);
  }

  async insert(row: InvitationRow): Promise<void> {
    await this.db.insertInto('invitations').values(row).execute();
  }

  getByHash(tokenHash: string): Promise<InvitationRow | undefined> {
    return this.db.selectFrom('invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /** Invitations of the tenant not yet accepted nor expired, newest first. */
  listPending(tenantId: string, now: string): Promise<InvitationRow[]> {
    return this.db
      .selectFrom('invitations')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('accepted_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .execute();
  }

  /** Single use: true only for the one caller that marks it accepted (an accepted or expired one is refused). */
  async accept(id: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('invitations')
      .set({ accepted_at: at })
      .where('id', '=', id)
      .where('accepted_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
