import type { Kysely, Selectable } from 'kysely';
import type { DB, TenantsTable } from '../db/schema.js';

export type TenantRow = Selectable<TenantsTable>;

export class TenantRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: TenantRow): Promise<void> {
    await this.db.insertInto('tenants').values(row).execute();
  }

  getById(id: string): Promise<TenantRow | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Every tenant, oldest first (ids are time-ordered). */
  list(): Promise<TenantRow[]> {
    return this.db.selectFrom('tenants').selectAll().orderBy('id').execute();
  }
}
