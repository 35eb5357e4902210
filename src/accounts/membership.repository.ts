import type { Kysely, Selectable } from 'kysely';
import type { MemberRole } from '../db/enums.js';
import type { DB, MembershipsTable } from '../db/schema.js';

export type MembershipRow = Selectable<MembershipsTable>;

export interface MemberRow extends MembershipRow {
  email: string;
}

/** The only writer of the memberships table. Bound to a transaction with `in(trx)`; tenantId first. */
export class MembershipRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: 'sqlite' | 'postgres',
  ) {}

  in(trx: Kysely<DB>): MembershipRepository {
    return new MembershipRepository(trx, this.dialect);
  }

  /** Adds the membership, or changes the role of an existing one. */
  async upsert(row: MembershipRow): Promise<void> {
    await this.db
      .insertInto('memberships')
      .values(row)
      .onConflict((oc) => oc.columns(['tenant_id', 'user_id']).doUpdateSet({ role: row.role, updated_at: row.updated_at }))
      .execute();
  }

  /** Adds the membership unless there is one (the existing role stays); true when added. */
  async insertIfAbsent(row: MembershipRow): Promise<boolean> {
    const result = await this.db
      .insertInto('memberships')
      .values(row)
      .onConflict((oc) => oc.columns(['tenant_id', 'user_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  get(tenantId: string, userId: string): Promise<MembershipRow | undefined> {
    return this.db.selectFrom('memberships').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst();
  }

  /** The user's tenants with their names, oldest tenant first. */
  listOfUser(userId: string): Promise<{ tenant_id: string; name: string; role: MemberRole }[]> {
    return this.db
      .selectFrom('memberships')
      .innerJoin('tenants', 'tenants.id', 'memberships.tenant_id')
      .select(['memberships.tenant_id', 'tenants.name', 'memberships.role'])
      .where('memberships.user_id', '=', userId)
      .orderBy('memberships.tenant_id')
      .execute();
  }

  listOfTenant(tenantId: string): Promise<MemberRow[]> {
    return this.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['memberships.tenant_id', 'memberships.user_id', 'memberships.role', 'memberships.created_at', 'memberships.updated_at', 'users.email'])
      .where('memberships.tenant_id', '=', tenantId)
      .orderBy('users.email')
      .execute();
  }

  /**
   * Locks the tenant's owner rows (PostgreSQL `FOR UPDATE`; SQLite serialises
   * writers) and counts them: a demotion or removal checks "an owner remains"
   * after its write, and two of them at once must not each see the other's
   * owner still there.
   */
  async lockOwners(tenantId: string): Promise<number> {
    let query = this.db.selectFrom('memberships').select('user_id').where('tenant_id', '=', tenantId).where('role', '=', 'owner');
    if (this.dialect === 'postgres') query = query.forUpdate();
    return (await query.execute()).length;
  }

  async countOwners(tenantId: string): Promise<number> {
    const row = await this.db
      .selectFrom('memberships')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('role', '=', 'owner')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** False when there is no such membership. */
  async setRole(tenantId: string, userId: string, role: MemberRole, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('memberships')
      .set({ role, updated_at: at })
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async delete(tenantId: string, userId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('memberships').where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
