import { sql, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { DB, IdempotencyKeysTable } from '../db/schema.js';

export type IdempotencyRow = Selectable<IdempotencyKeysTable>;

/** The status of an answer an erasure purged (response null): the key still holds, its answer is gone. */
export const ERASED_ANSWER_STATUS = 410;

/** The only writer of idempotency_keys: one row per tenant and key, pending until the first answer is stored. */
export class IdempotencyRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): IdempotencyRepository {
    return new IdempotencyRepository(trx);
  }

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

  /**
   * GDPR erasure: stored answers holding any of `needles` (a contact's address
   * and id, as written or JSON-escaped) lose their answer. The key stays, so a
   * retry is not run a second time: it is answered 410 IDEMPOTENT_ANSWER_ERASED.
   */
  async eraseAnswersHolding(tenantId: string, needles: readonly string[]): Promise<void> {
    const patterns = [...new Set(needles.flatMap((needle) => [needle, JSON.stringify(needle).slice(1, -1)]))]
      .filter((needle) => needle.length > 0)
      .map((needle) => `%${needle.replace(/[\\%_]/g, (char) => `\\${char}`)}%`);
    if (patterns.length === 0) return;
    await this.db
      .updateTable('idempotency_keys')
      .set({ response: null, status_code: ERASED_ANSWER_STATUS })
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'done')
      .where((eb) => eb.or(patterns.map((pattern) => sql<SqlBool>`response like ${pattern} escape '\\'`)))
      .execute();
  }
}
