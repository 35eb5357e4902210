import { sql, type Kysely } from 'kysely';
import { columnTypes, dropScope, holdsScope, SCOPES_BEFORE_0020, type DialectMigration, type MigrationDialect } from './helpers.js';

/**
 * Transactional email joins the one queue (docs/ARCHITECTURE.md, "Two
 * streams"): a message row gets a `stream` (`campaign` | `transactional`);
 * a transactional message has no campaign and no template version of its
 * own, so both columns become nullable (a check keeps a campaign message's
 * campaign required). The claim has one partial index per stream, so the
 * priority lane's claim never reads campaign rows and a campaign's claim
 * never reads transactional ones. The content of a transactional email
 * (rendered once when it is accepted), its sender, tags, metadata and
 * idempotency key live beside it in `transactional_emails`, keyed by the
 * message.
 *
 * SQLite cannot drop NOT NULL in place: the messages table is rebuilt (no
 * table references it) inside the migration's transaction.
 */
export function transactionalEmails(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      if (dialect === 'postgres') {
        await sql`alter table messages alter column campaign_id drop not null`.execute(db);
        await sql`alter table messages alter column template_version_id drop not null`.execute(db);
        await sql`alter table messages add column stream text not null default 'campaign'`.execute(db);
        await sql`alter table messages add constraint messages_stream_ck check (
          (stream = 'campaign' and campaign_id is not null and template_version_id is not null)
          or (stream = 'transactional' and campaign_id is null)) not valid`.execute(db);
        await sql`alter table messages validate constraint messages_stream_ck`.execute(db);
        await db.schema.dropIndex('messages_due_idx').execute();
      } else {
        await rebuildSqliteMessages(db);
      }
      await createDueIndexes(db);

      await db.schema
        .createTable('transactional_emails')
        // The public id (`GET /emails/{id}`); the queue row is `message_id`.
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('message_id', t.bigint, (c) => c.notNull().unique())
        // Null once the address is erased (GDPR), like messages.email.
        .addColumn('to_email', 'text')
        .addColumn('contact_id', 'text')
        .addColumn('from_email', 'text', (c) => c.notNull())
        .addColumn('from_name', 'text')
        .addColumn('reply_to', 'text')
        .addColumn('project_id', 'text')
        // What goes out, rendered when the email was accepted (template sends too).
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('html_body', 'text')
        .addColumn('text_body', 'text')
        .addColumn('template_version_id', 'text')
        .addColumn('locale', 'text')
        .addColumn('unsubscribe_url', 'text')
        .addColumn('tags', t.json, (c) => c.notNull())
        .addColumn('metadata', t.json)
        .addColumn('track_opens', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('track_clicks', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('bypass_unsubscribe', 'integer', (c) => c.notNull().defaultTo(0))
        // `test` (accepted with an mc_test_ key): captured, never sent.
        .addColumn('send_mode', 'text', (c) => c.notNull())
        .addColumn('scheduled_at', t.timestamp)
        .addColumn('idempotency_key', 'text')
        .addColumn('request_fingerprint', 'text')
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .execute();
      // One email per tenant and idempotency key, whoever wins the race.
      await db.schema
        .createIndex('transactional_emails_idempotency_uq')
        .on('transactional_emails')
        .columns(['tenant_id', 'idempotency_key'])
        .unique()
        .where(sql.ref('idempotency_key'), 'is not', null)
        .execute();
      // The logs, newest first; the scheduled list; erasure and the `to` filter by address.
      await db.schema.createIndex('transactional_emails_log_idx').on('transactional_emails').columns(['tenant_id', 'created_at', 'id']).execute();
      await db.schema
        .createIndex('transactional_emails_scheduled_idx')
        .on('transactional_emails')
        .columns(['tenant_id', 'scheduled_at', 'id'])
        .where(sql.ref('scheduled_at'), 'is not', null)
        .execute();
      await db.schema.createIndex('transactional_emails_to_idx').on('transactional_emails').columns(['tenant_id', 'to_email']).execute();

      // A key holding every scope there was (the one created with its tenant) holds the new ones too.
      let everyScope = db.updateTable('api_keys').set({ scopes: sql`scopes || ',email:send,email:read'` });
      for (const scope of SCOPES_BEFORE_0020) everyScope = everyScope.where(holdsScope(scope));
      await everyScope.where(sql<boolean>`not ${holdsScope('email:send')}`).execute();
    },
    async down(db: Kysely<any>) {
      for (const scope of ['email:send', 'email:read']) await dropScope(db, dialect, scope);
      await db.schema.dropTable('transactional_emails').execute();
      await sql`delete from messages where stream = 'transactional'`.execute(db);
      await db.schema.dropIndex('messages_tx_due_idx').execute();
      await db.schema.dropIndex('messages_due_idx').execute();
      if (dialect === 'postgres') {
        await sql`alter table messages drop constraint messages_stream_ck`.execute(db);
        await sql`alter table messages drop column stream`.execute(db);
        await sql`alter table messages alter column template_version_id set not null`.execute(db);
        await sql`alter table messages alter column campaign_id set not null`.execute(db);
      } else {
        // SQLite keeps the nullable columns and the stream column (harmless to the older code, which never writes it).
      }
      await db.schema
        .createIndex('messages_due_idx')
        .on('messages')
        .columns(['next_attempt_at', 'id'])
        .where(sql.ref('status'), '=', 'QUEUED')
        .execute();
    },
  };
}

/** The claim's two indexes: due messages of each stream, in the order they are claimed. */
async function createDueIndexes(db: Kysely<any>): Promise<void> {
  await sql`create index messages_due_idx on messages (next_attempt_at, id) where status = 'QUEUED' and stream = 'campaign'`.execute(db);
  await sql`create index messages_tx_due_idx on messages (next_attempt_at, id) where status = 'QUEUED' and stream = 'transactional'`.execute(db);
}

const MESSAGE_COLUMNS = [
  'id', 'tenant_id', 'campaign_id', 'contact_id', 'email', 'locale', 'template_version_id', 'status', 'attempts',
  'next_attempt_at', 'lease_owner', 'lease_expires_at', 'provider_message_id', 'provider_response', 'last_error',
  'skip_reason', 'sent_at', 'created_at', 'updated_at',
].join(', ');

/** The messages table as 0005 made it (SQLite's two keys, 0009), with the stream and the nullable columns. */
async function rebuildSqliteMessages(db: Kysely<any>): Promise<void> {
  await sql`create table messages_rebuilt (
    id integer primary key autoincrement,
    tenant_id text not null references tenants (id) on delete cascade,
    campaign_id text references campaigns (id) on delete cascade,
    contact_id text,
    email text,
    locale text,
    template_version_id text,
    status text not null,
    attempts integer not null default 0,
    next_attempt_at text not null,
    lease_owner text,
    lease_expires_at text,
    provider_message_id text,
    provider_response text,
    last_error text,
    skip_reason text,
    sent_at text,
    created_at text not null,
    updated_at text not null,
    stream text not null default 'campaign',
    constraint messages_stream_ck check (
      (stream = 'campaign' and campaign_id is not null and template_version_id is not null)
      or (stream = 'transactional' and campaign_id is null))
  )`.execute(db);
  await sql.raw(`insert into messages_rebuilt (${MESSAGE_COLUMNS}) select ${MESSAGE_COLUMNS} from messages`).execute(db);
  await sql`drop table messages`.execute(db);
  await sql`alter table messages_rebuilt rename to messages`.execute(db);
  // Every index the table had (0005, 0008), but the due index, which createDueIndexes makes per stream.
  await sql`create unique index messages_campaign_contact_uq on messages (campaign_id, contact_id)`.execute(db);
  await sql`create index messages_lease_idx on messages (lease_expires_at) where status = 'SENDING'`.execute(db);
  await sql`create index messages_campaign_status_idx on messages (campaign_id, status, id)`.execute(db);
  await sql`create index messages_campaign_email_idx on messages (campaign_id, email)`.execute(db);
}
