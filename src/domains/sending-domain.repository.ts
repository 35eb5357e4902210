import type { Kysely, Selectable, Updateable } from 'kysely';
import type { DB, SendingDomainsTable } from '../db/schema.js';

export type SendingDomainRow = Selectable<SendingDomainsTable>;
export type SendingDomainPatch = Omit<Updateable<SendingDomainsTable>, 'id' | 'tenant_id' | 'name' | 'created_at'>;

/** A verified domain's current signing key, still sealed (DKIM signing). */
export interface SealedSigningKey {
  id: string;
  name: string;
  selector: string;
  sealedKey: string;
  /** The last verify's checks: JSON text (SQLite) or parsed (PostgreSQL); shared/json.ts reads either. */
  checks: unknown;
}

/** The only writer of sending_domains; tenantId first in every method. */
export class SendingDomainRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: SendingDomainRow): Promise<void> {
    await this.db.insertInto('sending_domains').values(row).execute();
  }

  getById(tenantId: string, id: string): Promise<SendingDomainRow | undefined> {
    return this.db.selectFrom('sending_domains').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  }

  getByName(tenantId: string, name: string): Promise<SendingDomainRow | undefined> {
    return this.db.selectFrom('sending_domains').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
  }

  /** By name, after the name `after` (keyset). */
  listAfter(tenantId: string, after: string | null, limit: number): Promise<SendingDomainRow[]> {
    let query = this.db.selectFrom('sending_domains').selectAll().where('tenant_id', '=', tenantId);
    if (after !== null) query = query.where('name', '>', after);
    return query.orderBy('name').limit(limit).execute();
  }

  async update(tenantId: string, id: string, patch: SendingDomainPatch): Promise<boolean> {
    const result = await this.db.updateTable('sending_domains').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Starts a rotation only when none is under way (`next_selector` still
   * null), so two rotations at once do not overwrite each other's key.
   */
  async startRotation(tenantId: string, id: string, next: { selector: string; publicKey: string; sealedKey: string }, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('sending_domains')
      .set({ next_selector: next.selector, next_dkim_public_key: next.publicKey, next_dkim_private_key_encrypted: next.sealedKey, updated_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('next_selector', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('sending_domains').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** The tenant's VERIFIED domains with the key that signs (the current one, never a rotation's next key). */
  async verifiedKeys(tenantId: string): Promise<SealedSigningKey[]> {
    const rows = await this.db
      .selectFrom('sending_domains')
      .select(['id', 'name', 'selector', 'dkim_private_key_encrypted', 'checks'])
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'VERIFIED')
      .orderBy('name')
      .execute();
    return rows.map((row) => ({ id: row.id, name: row.name, selector: row.selector, sealedKey: row.dkim_private_key_encrypted, checks: row.checks }));
  }
}
