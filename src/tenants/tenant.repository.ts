import type { Kysely, Selectable } from 'kysely';
import type { DB, TenantsTable } from '../db/schema.js';

export type TenantRow = Selectable<TenantsTable>;

/** The only writer of the tenants table. */
export class TenantRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): TenantRepository {
    return new TenantRepository(trx);
  }

  async insert(row: TenantRow): Promise<void> {
    await this.db.insertInto('tenants').values(row).execute();
  }

  getById(id: string): Promise<TenantRow | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Oldest first (UUIDv7 ids sort by creation time). */
  list(): Promise<TenantRow[]> {
    return this.db.selectFrom('tenants').selectAll().orderBy('id').execute();
  }

  /** False when the tenant does not exist. */
  async update(id: string, patch: Partial<Pick<TenantRow, 'name' | 'monthly_quota' | 'fallback_locale'>> & { updated_at: string }): Promise<boolean> {
    const result = await this.db.updateTable('tenants').set(patch).where('id', '=', id).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
