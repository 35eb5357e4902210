import type { Kysely, Selectable } from 'kysely';
import type { DB, IdempotencyKeysTable } from '../db/schema.js';

export type IdempotencyRow = Selectable<IdempotencyKeysTable>;

/** The only writer of idempotency_keys: one row per tenant and key, pending until the first answer is stored. */
export class IdempotencyRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Forgets the key's answer when older than `answeredBefore`, or its pending claim when idle since `abandonedBefore`. */
  async forgetStale(tenantId: string, key: string, answeredBefore: string, abandonedBefore: string): Promise<void> {
    await this.db
      .deleteFrom('idempotency_keys')
      .where('tenant_id', '=', tenantId)
      .where('key', '=', key)
      .where((eb) =>
        eb.or([eb('created_at', '<', answeredBefore), eb.and([eb('status', '=', 'pending'), eb('updated_at', '<', abandonedBefore)])]),
      )
      .execute();
  }

  /** Claims the key as pending for this request; false when it exists already. */
  async reserve(tenantId: string, key: string, fingerprint: string, at: string): Promise<boolean> {
    const inserted = await this.db
      .insertInto('idempotency_keys')
      .values({ tenant_id: tenantId, key, fingerprint, status: 'pending', status_code: null, response: null, created_at: at, updated_at: at })
      .onConflict((oc) => oc.columns(['tenant_id', 'key']).doNothing())
      .returning('key')
      .execute();
    return inserted.length > 0;
  }

  get(tenantId: string, key: string): Promise<IdempotencyRow | undefined> {
    return this.db.selectFrom('idempotency_keys').selectAll().where('tenant_id', '=', tenantId).where('key', '=', key).executeTakeFirst();
  }

  async storeAnswer(tenantId: string, key: string, statusCode: number, response: string, at: string): Promise<void> {
    await this.db
      .updateTable('idempotency_keys')
      .set({ status: 'done', status_code: statusCode, response, updated_at: at })
      .where('tenant_id', '=', tenantId)
      .where('key', '=', key)
      .execute();
  }

  async forget(tenantId: string, key: string): Promise<void> {
    await this.db.deleteFrom('idempotency_keys').where('tenant_id', '=', tenantId).where('key', '=', key).execute();
  }
}
