import type { Kysely, Selectable } from 'kysely';
import type { BounceProvidersTable, DB } from '../../db/schema.js';

export type BounceProviderRow = Selectable<BounceProvidersTable>;

/** The only writer of bounce_providers and bounce_provider_tokens. */
export class BounceProviderRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: BounceProviderRow): Promise<void> {
    await this.db.insertInto('bounce_providers').values(row).execute();
  }

  async countOf(tenantId: string): Promise<number> {
    const row = await this.db
      .selectFrom('bounce_providers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The tenant's integrations, oldest first (ids are time-ordered). */
  listOf(tenantId: string): Promise<BounceProviderRow[]> {
    return this.db.selectFrom('bounce_providers').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute();
  }

  /** The public receiver's look-up: by id alone (the URL names no tenant), and the provider it was made for. */
  find(id: string, provider: string): Promise<BounceProviderRow | undefined> {
    return this.db.selectFrom('bounce_providers').selectAll().where('id', '=', id).where('provider', '=', provider).executeTakeFirst();
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('bounce_providers').where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async noteReceived(id: string, at: string): Promise<void> {
    await this.db.updateTable('bounce_providers').set({ last_received_at: at }).where('id', '=', id).execute();
  }

  /**
   * True the first time this integration sees a signature token; false for
   * a replay. Tokens older than `forgetBefore` are pruned (their signatures
   * are refused by age anyway).
   */
  async claimToken(integrationId: string, token: string, at: string, forgetBefore: string): Promise<boolean> {
    await this.db.deleteFrom('bounce_provider_tokens').where('seen_at', '<', forgetBefore).execute();
    const rows = await this.db
      .insertInto('bounce_provider_tokens')
      .values({ integration_id: integrationId, token, seen_at: at })
      .onConflict((oc) => oc.columns(['integration_id', 'token']).doNothing())
      .returning('token')
      .execute();
    return rows.length > 0;
  }

  /** A token whose request could not be processed (the provider will retry it). */
  async releaseToken(integrationId: string, token: string): Promise<void> {
    await this.db.deleteFrom('bounce_provider_tokens').where('integration_id', '=', integrationId).where('token', '=', token).execute();
  }
}
