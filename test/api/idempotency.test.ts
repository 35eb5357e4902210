import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp } from '../helpers/app.js';
import { addContacts, publishedTemplate, waitForFanOut } from '../helpers/flow.js';

describe.each(DIALECTS)('Idempotency-Key (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  const withKey = (key: string) => ({ 'idempotency-key': key });

  it('replays the first answer of POST /campaigns and refuses the key for another body', async () => {
    const tenant = await ctx.newTenant();
    const before = await ctx.count('campaigns');
    const first = await ctx.request('POST', '/campaigns', { tenant, headers: withKey('create-1'), body: { name: 'Once' } });
    expect(first.statusCode).toBe(201);
    const replay = await ctx.request('POST', '/campaigns', { tenant, headers: withKey('create-1'), body: { name: 'Once' } });
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(first.json());
    expect(await ctx.count('campaigns')).toBe(before + 1);

    const reused = await ctx.request('POST', '/campaigns', { tenant, headers: withKey('create-1'), body: { name: 'Other' } });
    expect(reused.statusCode).toBe(409);
    expect(errorBody(reused).code).toBe('IDEMPOTENCY_KEY_REUSED');

    // Keys belong to a tenant: another tenant's identical key is a new request.
    const other = await ctx.newTenant('Other');
    const theirs = await ctx.request('POST', '/campaigns', { tenant: other, headers: withKey('create-1'), body: { name: 'Once' } });
    expect(theirs.statusCode).toBe(201);
    expect(theirs.json().id).not.toBe(first.json().id);
    expect(await ctx.count('campaigns')).toBe(before + 2);
  });

  it('forgets a key after 24 hours', async () => {
    const tenant = await ctx.newTenant();
    const first = await ctx.request('POST', '/campaigns', { tenant, headers: withKey('daily'), body: { name: 'x' } });
    ctx.clock.advance(24 * 3_600_000 + 1000);
    const later = await ctx.request('POST', '/campaigns', { tenant, headers: withKey('daily'), body: { name: 'x' } });
    expect(later.statusCode).toBe(201);
    expect(later.headers['idempotent-replayed']).toBeUndefined();
    expect(later.json().id).not.toBe(first.json().id);
  });

  it('makes a retried send a no-op that answers like the first', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [{ email: 'a@idem.test' }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const created = await ctx.request('POST', '/campaigns', { tenant, body: { name: 'x', templateVersionId: baseVersionId } });
    const id = created.json().id as string;
    const first = await ctx.request('POST', `/campaigns/${id}/send`, { tenant, headers: withKey('send-1') });
    expect(first.statusCode).toBe(202);
    await waitForFanOut(ctx, tenant, id);
    const retry = await ctx.request('POST', `/campaigns/${id}/send`, { tenant, headers: withKey('send-1') });
    expect(retry.statusCode).toBe(202);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const plain = await ctx.request('POST', `/campaigns/${id}/send`, { tenant });
    expect(plain.statusCode).toBe(409);
    const messages = await ctx.container.database.db.selectFrom('messages').select('id').where('campaign_id', '=', id).execute();
    expect(messages).toHaveLength(1);
  });

  it('covers PUT /contacts and POST /contacts/bulk', async () => {
    const tenant = await ctx.newTenant();
    const body = { email: 'idem@contacts.test', attributes: { n: 1 } };
    const first = await ctx.request('PUT', '/contacts', { tenant, headers: withKey('put-1'), body });
    expect(first.statusCode).toBe(200);
    // Changed meanwhile; the replay still answers what the first request got.
    await ctx.request('PUT', '/contacts', { tenant, body: { email: 'idem@contacts.test', attributes: { n: 2 } } });
    const replay = await ctx.request('PUT', '/contacts', { tenant, headers: withKey('put-1'), body });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json().attributes).toEqual({ n: 1 });

    const bulk = { contacts: [{ email: 'b1@contacts.test' }, { email: 'b2@contacts.test' }] };
    const b1 = await ctx.request('POST', '/contacts/bulk', { tenant, headers: withKey('bulk-1'), body: bulk });
    const b2 = await ctx.request('POST', '/contacts/bulk', { tenant, headers: withKey('bulk-1'), body: bulk });
    expect(b1.json().created).toBe(2);
    expect(b2.json()).toEqual(b1.json());
  });

  it('refuses a malformed key and lets only one of two concurrent requests run', async () => {
    const tenant = await ctx.newTenant();
    for (const key of ['', 'x'.repeat(256), 'has space', 'ünï']) {
      const res = await ctx.request('POST', '/campaigns', { tenant, headers: withKey(key), body: { name: 'x' } });
      if (key === '') continue; // an empty header is no key at all
      expect(res.statusCode, key).toBe(400);
      errorBody(res);
    }
    const before = await ctx.count('campaigns');
    const results = await Promise.all(
      Array.from({ length: 4 }, () => ctx.request('POST', '/campaigns', { tenant, headers: withKey('race'), body: { name: 'r' } })),
    );
    for (const r of results) expect([201, 409]).toContain(r.statusCode);
    expect(results.filter((r) => r.statusCode === 201 && !r.headers['idempotent-replayed'])).toHaveLength(1);
    expect(await ctx.count('campaigns')).toBe(before + 1);
  });
});
