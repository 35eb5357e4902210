import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestTenant } from '../helpers/app.js';
import { addContacts, createCampaign, publishedTemplate, waitForFanOut } from '../helpers/flow.js';

describe.each(DIALECTS)('POST /audience/count (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  let tenant: TestTenant;
  let other: TestTenant;

  const count = (filter: unknown, who: TestTenant | { headers: Record<string, string> } = tenant) =>
    ctx.request('POST', '/audience/count', { headers: who.headers, body: { filter } });

  it('loads contacts, a suppression and another tenant', async () => {
    tenant = await ctx.newTenant('count');
    other = await ctx.newTenant('other');
    await addContacts(ctx, tenant, [
      { email: 'a@example.com', locale: 'en', attributes: { plan: 'pro' } },
      { email: 'b@example.com', locale: 'en', attributes: { plan: 'free' } },
      { email: 'c@example.com', locale: 'es-MX', attributes: { plan: 'pro' } },
      { email: 'd@example.com', locale: 'en', optIn: false, attributes: { plan: 'pro' } },
      { email: 'e@example.com', locale: 'en', attributes: { plan: 'pro' } }, // suppressed
    ]);
    await ctx.request('POST', '/suppressions', { tenant, body: { email: 'e@example.com', reason: 'unsubscribe' } });
    await addContacts(ctx, other, Array.from({ length: 7 }, (_, i) => ({ email: `o${i}@other.test`, locale: 'en' })));
  });

  it.each([
    ['no filter: opted-in, not suppressed', null, 3],
    ['empty filter', {}, 3],
    ['locale (normalised)', { locale: 'es-mx' }, 1],
    ['attribute', { attributes: { plan: 'pro' } }, 2],
    ['optIn false reaches the opted-out', { optIn: false }, 1],
    ['nothing', { attributes: { plan: 'none' } }, 0],
  ])('%s', async (_name, filter, expected) => {
    const res = await count(filter);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ count: expected });
  });

  it('is what a campaign with the filter fans out to', async () => {
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const filter = { locale: 'en' };
    const expected = (await count(filter)).json().count as number;
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, audienceFilter: filter });
    const sent = await ctx.request('POST', `/campaigns/${id}/send?force=true`, { tenant });
    expect(sent.statusCode, sent.body).toBe(202);
    const campaign = await waitForFanOut(ctx, tenant, id);
    expect(campaign.counters.total).toBe(expected);
    expect(expected).toBe(2);
  });

  it('counts only the caller tenant', async () => {
    expect((await count(null, other)).json()).toEqual({ count: 7 });
  });

  it('refuses bad filters with 400 VALIDATION_ERROR and writes nothing', async () => {
    for (const body of [
      { filter: { locale: 'not a locale!' } },
      { filter: { unknown: 1 } },
      { filter: { attributes: { plan: { nested: true } } } },
      { filter: 'pro' },
      {},
      { filter: {}, extra: 1 },
    ]) {
      const res = await ctx.request('POST', '/audience/count', { tenant, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(errorBody(res).code).toBe('VALIDATION_ERROR');
    }
    const raw = await ctx.request('POST', '/audience/count', { tenant, headers: { 'content-type': 'application/json' }, payload: '{"filter":' });
    expect(raw.statusCode).toBe(400);
  });

  it('needs contacts:read', async () => {
    const writer = await tenant.keyWith(['campaigns:write']);
    expect((await count({}, writer)).statusCode).toBe(403);
    const reader = await tenant.keyWith(['contacts:read']);
    expect((await count({}, reader)).statusCode).toBe(200);
    expect((await ctx.request('POST', '/audience/count', { body: { filter: {} } })).statusCode).toBe(401);
  });

  it('shares one query between identical requests in flight', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => count({ locale: 'en' })));
    expect(answers.map((res) => res.json().count)).toEqual([2, 2, 2, 2, 2]);
  });
});
