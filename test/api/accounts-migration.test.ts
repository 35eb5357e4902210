import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { hashApiKey } from '../../src/auth/api-key.js';
import { createContainer, type Container } from '../../src/container.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrationsFor } from '../../src/db/migrations/index.js';
import type { App } from '../../src/http/types.js';
import { TEST_OUTBOUND, TEST_SECRET } from '../helpers/app.js';
import { createTestDatabase, DIALECTS } from '../helpers/databases.js';

/**
 * Migration 0022 splits campaigns:send from campaigns:write: keys stored
 * before it keep every right they had (a campaigns:write key still sends), and
 * the key that held every scope still does.
 */
describe.each(DIALECTS)('accounts migration and old keys (%s)', (dialect) => {
  let database: Database;
  let container: Container;
  let app: App;
  let drop: () => Promise<void> = async () => {};
  const now = new Date().toISOString();
  const tenantId = '01900000-0000-7000-8000-000000000001';
  const writer = `mc_live_${'W'.repeat(40)}`;
  const reader = `mc_live_${'R'.repeat(40)}`;
  const everything = `mc_live_${'E'.repeat(40)}`;
  const OLD_ALL =
    'campaigns:read,campaigns:write,contacts:read,contacts:write,templates:read,templates:write,suppressions:read,suppressions:write,projects:read,projects:write,events:read,webhooks:manage,domains:read,domains:write';

  beforeAll(async () => {
    const testDb = await createTestDatabase(dialect);
    drop = testDb.drop;
    database = openDatabase(testDb.config, { poolSize: 3 });
    const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => migrationsFor(database.dialect) } });
    const before = await migrator.migrateTo('20261130_0019_preflight');
    expect(before.error).toBeUndefined();
    const db = database.db;
    await db.insertInto('tenants').values({ id: tenantId, name: 'Old', monthly_quota: 1000, fallback_locale: null, created_at: now, updated_at: now }).execute();
    const key = (id: string, secret: string, scopes: string) => ({
      id,
      tenant_id: tenantId,
      name: id,
      prefix: secret.slice(0, 12),
      key_hash: hashApiKey(secret),
      scopes,
      mode: 'live' as const,
      created_at: now,
      last_used_at: null,
      revoked_at: null,
    });
    await db
      .insertInto('api_keys')
      .values([
        key('01900000-0000-7000-8000-0000000000a1', writer, 'campaigns:read,campaigns:write'),
        key('01900000-0000-7000-8000-0000000000a2', reader, 'campaigns:read'),
        key('01900000-0000-7000-8000-0000000000a3', everything, OLD_ALL),
      ])
      .execute();
    await migrateToLatest(database);
    container = createContainer(database, { secret: TEST_SECRET, outbound: TEST_OUTBOUND });
    app = await buildApp(container);
  });

  afterAll(async () => {
    await app?.close();
    await container?.close();
    await drop();
  });

  const scopesOf = async (id: string) =>
    (await database.db.selectFrom('api_keys').select('scopes').where('id', '=', id).executeTakeFirstOrThrow()).scopes.split(',');

  it('gives campaigns:send to keys with campaigns:write, nothing to the others, every new scope (email, keys, members) to the all-scope key', async () => {
    expect(await scopesOf('01900000-0000-7000-8000-0000000000a1')).toEqual(['campaigns:read', 'campaigns:write', 'campaigns:send']);
    expect(await scopesOf('01900000-0000-7000-8000-0000000000a2')).toEqual(['campaigns:read']);
    const all = await scopesOf('01900000-0000-7000-8000-0000000000a3');
    expect(all).toEqual(expect.arrayContaining(['campaigns:send', 'keys:manage', 'members:manage', 'email:send', 'email:read']));
    expect(all).toHaveLength(19);
  });

  it('an old campaigns:write key still sends', async () => {
    const headers = { authorization: `Bearer ${writer}`, 'x-tenant-id': tenantId };
    const template = await app.inject({
      method: 'POST',
      url: '/templates',
      headers: { authorization: `Bearer ${everything}`, 'x-tenant-id': tenantId },
      payload: { name: 'T', subject: 'Hi', htmlBody: '<p>Hi <a href="{{ unsubscribeUrl }}">unsubscribe</a></p>' },
    });
    expect(template.statusCode, template.body).toBe(201);
    const { id: templateId, versions } = template.json();
    const publish = await app.inject({
      method: 'POST',
      url: `/templates/${templateId}/versions/${versions[0].id}/publish`,
      headers: { authorization: `Bearer ${everything}`, 'x-tenant-id': tenantId },
    });
    expect(publish.statusCode, publish.body).toBe(200);
    const campaign = await app.inject({ method: 'POST', url: '/campaigns', headers, payload: { name: 'C', templateVersionId: versions[0].id } });
    expect(campaign.statusCode, campaign.body).toBe(201);
    const send = await app.inject({ method: 'POST', url: `/campaigns/${campaign.json().id}/send?force=true`, headers });
    expect(send.statusCode, send.body).toBe(202);
  });

  it('down removes the new scopes again', async () => {
    const migration = migrationsFor(database.dialect)['20261201_0022_accounts']!;
    await database.db.transaction().execute(async (trx) => {
      await migration.down!(trx);
      const rows = await trx.selectFrom('api_keys').select(['id', 'scopes']).orderBy('id').execute();
      // 0022's down only: the email scopes of 0020 stay.
      expect(rows.map((r) => r.scopes)).toEqual(['campaigns:read,campaigns:write', 'campaigns:read', `${OLD_ALL},email:send,email:read`]);
      await migration.up(trx);
    });
  });
});
