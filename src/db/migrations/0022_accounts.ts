import { sql, type Kysely } from 'kysely';
import { columnTypes, dropScope, holdsScope, SCOPES_BEFORE_0020, type DialectMigration, type MigrationDialect } from './helpers.js';

/**
 * Accounts for the dashboard (docs/ACCOUNTS.md): people (`users`), their
 * roles in tenants (`memberships`), server-side sessions, invitations and the
 * first-run setup token. Every secret is stored as its SHA-256 (session,
 * invitation and setup tokens) or as a scrypt hash (passwords); the CSRF
 * token of a session is not a credential on its own and is kept as is.
 *
 * Scopes: `campaigns:send` is split from `campaigns:write`, so every key
 * holding `campaigns:write` gets `campaigns:send` (it keeps every right it
 * had); a key holding every scope there was (the one made with its tenant)
 * gets the new `keys:manage` and `members:manage` too, so it still holds
 * every scope.
 */


export function accounts(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // Normalised (trimmed, lower-cased): one account per address, whatever the case typed.
        .addColumn('email', 'text', (c) => c.notNull().unique())
        // Self-describing: `scrypt$N=…,r=…,p=…$salt$hash` (accounts/password.ts).
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('memberships')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('memberships_pk', ['tenant_id', 'user_id'])
        .addCheckConstraint('memberships_role_ck', sql`role in ('owner', 'admin', 'editor', 'viewer')`)
        .execute();
      // A user's tenants (sign-in, GET /me).
      await db.schema.createIndex('memberships_user_idx').on('memberships').columns(['user_id', 'tenant_id']).execute();

      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        // The tenant the session works in when no X-Tenant-Id is sent; null when the user has none.
        .addColumn('tenant_id', 'text', (c) => c.references('tenants.id').onDelete('set null'))
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('last_seen_at', t.timestamp, (c) => c.notNull())
        // The absolute end; the idle end is last_seen_at + the idle timeout.
        .addColumn('expires_at', t.timestamp, (c) => c.notNull())
        .addColumn('revoked_at', t.timestamp)
        .execute();
      // Sign-out everywhere; pruning.
      await db.schema.createIndex('sessions_user_idx').on('sessions').columns(['user_id']).execute();
      await db.schema.createIndex('sessions_expires_idx').on('sessions').columns(['expires_at']).execute();

      await db.schema
        .createTable('invitations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        // The member who invited (null when an API key did, or the member is gone).
        .addColumn('invited_by', 'text', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('expires_at', t.timestamp, (c) => c.notNull())
        .addColumn('accepted_at', t.timestamp)
        .addCheckConstraint('invitations_role_ck', sql`role in ('owner', 'admin', 'editor', 'viewer')`)
        .execute();
      await db.schema.createIndex('invitations_tenant_idx').on('invitations').columns(['tenant_id', 'email']).execute();

      // At most one row: the first-run setup token printed at start (replaced at each start, deleted once used).
      await db.schema
        .createTable('setup_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .execute();

      await db
        .updateTable('api_keys')
        .set({ scopes: sql`scopes || ',campaigns:send'` })
        .where(holdsScope('campaigns:write'))
        .where(sql<boolean>`not ${holdsScope('campaigns:send')}`)
        .execute();
      let everyScope = db.updateTable('api_keys').set({ scopes: sql`scopes || ',keys:manage,members:manage'` });
      for (const scope of SCOPES_BEFORE_0020) everyScope = everyScope.where(holdsScope(scope));
      await everyScope.where(sql<boolean>`not ${holdsScope('keys:manage')}`).where(sql<boolean>`not ${holdsScope('members:manage')}`).execute();
    },
    async down(db: Kysely<any>) {
      // Keys left with no scope keep an empty list: they can do nothing, as before the scope existed they could not do that.
      for (const scope of ['campaigns:send', 'keys:manage', 'members:manage']) await dropScope(db, dialect, scope);
      await db.schema.dropTable('setup_tokens').execute();
      await db.schema.dropTable('invitations').execute();
      await db.schema.dropTable('sessions').execute();
      await db.schema.dropTable('memberships').execute();
      await db.schema.dropTable('users').execute();
    },
  };
}
