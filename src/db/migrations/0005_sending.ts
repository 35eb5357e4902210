import { sql, type Kysely } from 'kysely';
import { columnTypes, type DialectMigration, type MigrationDialect } from './helpers.js';

/** The send pipeline: per-recipient messages, monthly usage, campaign counters. */
export function sending(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      const campaignColumns: [string, string, boolean][] = [
        ['started_at', t.timestamp as string, false],
        ['completed_at', t.timestamp as string, false],
        ['fanout_completed_at', t.timestamp as string, false],
        ['fanout_lease_until', t.timestamp as string, false],
        ['send_mode', 'text', false],
        ['total_count', 'integer', true],
        ['queued_count', 'integer', true],
        ['sent_count', 'integer', true],
        ['failed_count', 'integer', true],
        ['cancelled_count', 'integer', true],
        ['skipped_quota', 'integer', true],
        ['skipped_suppressed', 'integer', true],
      ];
      for (const [name, type, counter] of campaignColumns) {
        await db.schema
          .alterTable('campaigns')
          .addColumn(name, type as never, (c) => (counter ? c.notNull().defaultTo(0) : c))
          .execute();
      }
      // Campaigns in SENDING whose fan-out has not committed yet (a process died mid-way).
      await db.schema
        .createIndex('campaigns_fanout_pending_idx')
        .on('campaigns')
        .column('started_at')
        .where(sql.ref('status'), '=', 'SENDING')
        .execute();

      let messages = db.schema.createTable('messages');
      messages =
        dialect === 'postgres'
          ? messages.addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
          : messages.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
      await messages
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
        // Null once the contact is erased (GDPR); the row stays for the campaign's counts.
        .addColumn('contact_id', 'text')
        .addColumn('email', 'text')
        .addColumn('locale', 'text')
        .addColumn('template_version_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', t.timestamp, (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', t.timestamp)
        .addColumn('provider_message_id', 'text')
        .addColumn('provider_response', 'text')
        .addColumn('last_error', 'text')
        .addColumn('skip_reason', 'text')
        .addColumn('sent_at', t.timestamp)
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute();
      // One message per (campaign, contact): a repeated or resumed fan-out adds nothing.
      await db.schema
        .createIndex('messages_campaign_contact_uq')
        .on('messages')
        .columns(['campaign_id', 'contact_id'])
        .unique()
        .execute();
      // The workers' questions: what is due, and whose lease ran out?
      await db.schema
        .createIndex('messages_due_idx')
        .on('messages')
        .columns(['next_attempt_at', 'id'])
        .where(sql.ref('status'), '=', 'QUEUED')
        .execute();
      await db.schema
        .createIndex('messages_lease_idx')
        .on('messages')
        .column('lease_expires_at')
        .where(sql.ref('status'), '=', 'SENDING')
        .execute();
      // The per-recipient log, the completion check and cancel, per campaign and status.
      await db.schema.createIndex('messages_campaign_status_idx').on('messages').columns(['campaign_id', 'status', 'id']).execute();
      // Unsubscribe and erasure find a tenant's messages by address.
      await db.schema.createIndex('messages_tenant_email_idx').on('messages').columns(['tenant_id', 'email']).execute();

      await db.schema
        .createTable('usage')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('month', 'text', (c) => c.notNull())
        .addColumn('used', t.bigint, (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('usage_pk', ['tenant_id', 'month'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('usage').execute();
      await db.schema.dropTable('messages').execute();
      await db.schema.dropIndex('campaigns_fanout_pending_idx').execute();
      for (const name of [
        'started_at', 'completed_at', 'fanout_completed_at', 'fanout_lease_until', 'send_mode', 'total_count',
        'queued_count', 'sent_count', 'failed_count', 'cancelled_count', 'skipped_quota', 'skipped_suppressed',
      ]) {
        await db.schema.alterTable('campaigns').dropColumn(name).execute();
      }
    },
  };
}
