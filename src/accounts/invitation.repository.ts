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

  /** An invitation of the tenant not accepted yet (expired or not); undefined for another tenant's. */
  getOpen(tenantId: string, id: string): Promise<InvitationRow | undefined> {
    return this.db
      .selectFrom('invitations')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('accepted_at', 'is', null)
      .executeTakeFirst();
  }

  /** A new link for a not yet accepted invitation: the old token's hash is replaced, so the old link stops working. */
  async renew(tenantId: string, id: string, change: { token_hash: string; expires_at: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('invitations')
      .set(change)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('accepted_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Cancels a not yet accepted invitation (its link stops working); an accepted one stays as the record of who joined. */
  async deleteOpen(tenantId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('invitations')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('accepted_at', 'is', null)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
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
