import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { useTestApp } from '../helpers/app.js';
import { repositoriesOf } from '../helpers/factories.js';

/**
 * International domain names through HTTP: a Unicode domain is accepted and
 * stored in its ASCII (xn--) form, so the Unicode and the ASCII spelling of an
 * address are one contact and one suppression.
 */
describe.each(DIALECTS)('international domain names (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  it('stores a Unicode domain as xn--; the ASCII spelling finds the same contact', async () => {
    const tenant = await ctx.newTenant();
    const first = await ctx.request('PUT', '/contacts', { tenant, body: { email: 'ana@münchen.de', locale: 'de', optIn: true } });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().email).toBe('ana@xn--mnchen-3ya.de');

    const second = await ctx.request('PUT', '/contacts', { tenant, body: { email: 'ana@XN--MNCHEN-3YA.DE', attributes: { plan: 'pro' } } });
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json()).toMatchObject({ id: first.json().id, email: 'ana@xn--mnchen-3ya.de', attributes: { plan: 'pro' } });

    // Bulk and import follow the same rule: still one contact, and the local part is kept as written.
    const bulk = await ctx.request('POST', '/contacts/bulk', {
      tenant,
      body: { contacts: [{ email: 'ana@MÜNCHEN.de', optIn: true }, { email: 'Ana@münchen.de', optIn: true }] },
    });
    expect(bulk.statusCode, bulk.body).toBe(200);
    expect(bulk.json()).toMatchObject({ created: 1, updated: 1, failed: 0 });
    const imported = await ctx.request('POST', '/contacts/import', {
      tenant,
      headers: { 'content-type': 'text/csv' },
      payload: 'email,optIn\nana@münchen.de,true\nbo@bücher.example,true\n',
    });
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json()).toMatchObject({ processed: 2, created: 1, updated: 1, failed: 0 });

    const list = await ctx.request('GET', '/contacts?limit=100', { tenant });
    expect(list.json().data.map((c: { email: string }) => c.email).sort()).toEqual([
      'Ana@xn--mnchen-3ya.de',
      'ana@xn--mnchen-3ya.de',
      'bo@xn--bcher-kva.example',
    ]);
  });

  it('refuses a domain that is not a valid IDN', async () => {
    const tenant = await ctx.newTenant();
    for (const email of ['ana@xn--zz.de', 'ana@münchen', 'ana@mün chen.de']) {
      const res = await ctx.request('PUT', '/contacts', { tenant, body: { email } });
      expect(res.statusCode, email).toBe(400);
      expect(res.json().details).toEqual([{ field: 'email', message: expect.any(String) }]);
    }
  });

  it('suppressions: the Unicode and ASCII spellings are one suppression, and it applies to the contact', async () => {
    const tenant = await ctx.newTenant();
    const created = await ctx.request('POST', '/suppressions', { tenant, body: { email: 'ana@münchen.de', reason: 'manual' } });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().email).toBe('ana@xn--mnchen-3ya.de');
    const again = await ctx.request('POST', '/suppressions', { tenant, body: { email: 'ana@xn--mnchen-3ya.de', reason: 'bounce' } });
    expect(again.statusCode).toBe(200);
    expect(again.json().reason).toBe('bounce'); // the same row, its reason replaced by the higher one
    expect(await repositoriesOf(ctx.container.database).suppressions.isSuppressed(tenant.tenantId, 'ana@MÜNCHEN.de')).toBe(true);

    const removed = await ctx.request('DELETE', `/suppressions/${encodeURIComponent('ana@MÜNCHEN.DE')}`, { tenant });
    expect(removed.statusCode, removed.body).toBe(204);
    expect(await repositoriesOf(ctx.container.database).suppressions.isSuppressed(tenant.tenantId, 'ana@xn--mnchen-3ya.de')).toBe(false);
  });
});
