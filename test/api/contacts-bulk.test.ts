import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp } from '../helpers/app.js';

describe.each(DIALECTS)('POST /contacts/bulk (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  it('writes the valid items and reports each invalid one with its reason', async () => {
    const tenant = await ctx.newTenant();
    await ctx.request('PUT', '/contacts', { tenant, body: { email: 'known@example.com', externalId: 'k-1', locale: 'en' } });
    const res = await ctx.request('POST', '/contacts/bulk', {
      tenant,
      body: {
        contacts: [
          { email: 'new1@example.com', locale: 'fr' },
          { email: 'bad-address' },
          { email: 'known@example.com', optIn: true },
          { email: 'new2@example.com', locale: 'nope!' },
          { email: 'moved@example.com', externalId: 'k-1' },
          { email: 'new1@example.com', externalId: 'other-ext' },
          { email: 'x@example.com', extra: 1 },
          'not an object',
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ created: 1, updated: 3, failed: 4 });
    expect(body.results.map((r: { status: string }) => r.status)).toEqual([
      'created',
      'failed',
      'updated',
      'failed',
      'updated',
      'updated',
      'failed',
      'failed',
    ]);
    expect(body.results[1].error.code).toBe('VALIDATION_ERROR');
    expect(body.results[1].error.details[0].field).toBe('email');
    expect(body.results[3].error.details[0].field).toBe('locale');
    expect(body.results[6].error.details[0].field).toBe('extra');
    expect(body.results.every((r: { index: number }, i: number) => r.index === i)).toBe(true);
    // item 2 updated the contact that item 4 then moved to a new address
    expect(body.results[2].id).toBe(body.results[4].id);
    const moved = (await ctx.request('GET', '/contacts/k-1', { tenant })).json();
    expect(moved).toMatchObject({ email: 'moved@example.com', optIn: true, locale: 'en' });
    // item 5 gave new1 (created by item 0, no externalId yet) an externalId
    expect((await ctx.request('GET', '/contacts/other-ext', { tenant })).json()).toMatchObject({
      id: body.results[0].id,
      locale: 'fr',
    });
    expect((await ctx.request('GET', '/contacts', { tenant })).json().meta.total).toBe(2);
  });

  it('treats duplicates inside one call as if sent one after the other', async () => {
    const tenant = await ctx.newTenant();
    const res = await ctx.request('POST', '/contacts/bulk', {
      tenant,
      body: {
        contacts: [
          { email: 'dup@example.com', locale: 'en', attributes: { a: 1 } },
          { email: 'dup@EXAMPLE.COM', optIn: true },
          { email: 'e1@example.com', externalId: 'E' },
          { email: 'e2@example.com', externalId: 'E' },
          { email: 'dup@example.com', externalId: 'F' },
          { email: 'dup@example.com', externalId: 'G' },
        ],
      },
    });
    const body = res.json();
    expect(body.results.map((r: { status: string }) => r.status)).toEqual(['created', 'updated', 'created', 'updated', 'updated', 'failed']);
    expect(body.results[5].error.code).toBe('CONFLICT');
    const list = (await ctx.request('GET', '/contacts', { tenant })).json();
    expect(list.meta.total).toBe(2);
    const dup = (await ctx.request('GET', '/contacts/F', { tenant })).json();
    expect(dup).toMatchObject({ email: 'dup@example.com', locale: 'en', optIn: true, attributes: { a: 1 } });
    expect((await ctx.request('GET', '/contacts/E', { tenant })).json().email).toBe('e2@example.com');
  });

  it('refuses an empty, oversized or malformed call with 400 and writes nothing', async () => {
    const tenant = await ctx.newTenant();
    const before = await ctx.count('contacts');
    const cases: unknown[] = [
      { contacts: [] },
      { contacts: Array.from({ length: 1001 }, (_, i) => ({ email: `m${i}@example.com` })) },
      { contacts: 'nope' },
      { contacts: [{ email: 'a@example.com' }], extra: true },
      {},
    ];
    for (const body of cases) {
      const res = await ctx.request('POST', '/contacts/bulk', { tenant, body });
      expect(res.statusCode).toBe(400);
      expect(errorBody(res).code).toBe('VALIDATION_ERROR');
    }
    const huge = await ctx.request('POST', '/contacts/bulk', {
      tenant,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ contacts: [{ email: 'a@example.com', attributes: { x: 'y'.repeat(11 * 1024 * 1024) } }] }),
    });
    expect(huge.statusCode).toBe(413);
    errorBody(huge);
    expect(await ctx.count('contacts')).toBe(before);
  });

  it('accepts 1000 items in one call', async () => {
    const tenant = await ctx.newTenant();
    const contacts = Array.from({ length: 1000 }, (_, i) => ({
      email: `k${i}@example.com`,
      externalId: `ext-${i}`,
      attributes: { n: i },
    }));
    const res = await ctx.request('POST', '/contacts/bulk', { tenant, body: { contacts } });
    expect(res.json()).toMatchObject({ created: 1000, updated: 0, failed: 0 });
    const again = await ctx.request('POST', '/contacts/bulk', { tenant, body: { contacts } });
    expect(again.json()).toMatchObject({ created: 0, updated: 1000, failed: 0 });
    expect((await ctx.request('GET', '/contacts?limit=1', { tenant })).json().meta.total).toBe(1000);
  });
});
