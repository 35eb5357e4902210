import { sql, type Kysely } from 'kysely';
import type { DialectMigration, MigrationDialect } from './helpers.js';

/**
 * PostgreSQL checks a foreign key with a trigger per inserted row; a
 * fan-out inserts a row per recipient, and the two keys of `messages`
 * (tenant_id, campaign_id) were 35 % of its INSERT's execution time
 * (EXPLAIN ANALYZE, 100k recipients: 552 + 565 ms of 3,177 ms). One
 * composite key (campaign_id, tenant_id) → campaigns (id, tenant_id) is one
 * trigger, and says more: a message belongs to its campaign's tenant.
 * SQLite's key checks cost nothing measurable there, and changing its keys
 * means rebuilding the table, so SQLite keeps its two.
 */
export function messageCampaignTenantKey(dialect: MigrationDialect): DialectMigration {
  return {
    async up(db: Kysely<any>) {
      if (dialect !== 'postgres') return;
      await sql`alter table campaigns add constraint campaigns_id_tenant_uq unique (id, tenant_id)`.execute(db);
      await sql`alter table messages drop constraint messages_tenant_id_fkey`.execute(db);
      await sql`alter table messages drop constraint messages_campaign_id_fkey`.execute(db);
      // NOT VALID, then VALIDATE: existing rows are checked without blocking writes to messages meanwhile.
      await sql`alter table messages add constraint messages_campaign_tenant_fkey foreign key (campaign_id, tenant_id)
        references campaigns (id, tenant_id) on delete cascade not valid`.execute(db);
      await sql`alter table messages validate constraint messages_campaign_tenant_fkey`.execute(db);
    },
    async down(db: Kysely<any>) {
      if (dialect !== 'postgres') return;
      await sql`alter table messages drop constraint messages_campaign_tenant_fkey`.execute(db);
      await sql`alter table messages add constraint messages_campaign_id_fkey foreign key (campaign_id) references campaigns (id) on delete cascade`.execute(db);
      await sql`alter table messages add constraint messages_tenant_id_fkey foreign key (tenant_id) references tenants (id) on delete cascade`.execute(db);
      await sql`alter table campaigns drop constraint campaigns_id_tenant_uq`.execute(db);
    },
  };
}
