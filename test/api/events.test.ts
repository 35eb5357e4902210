import { describe, expect, it } from 'vitest';
import { createUnsubscribeToken } from '../../src/unsubscribe/token.js';
import { TEST_SECRET, errorBody, useTestApp, type TestContext, type TestTenant } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { addContacts, createCampaign, deliverAll, publishedTemplate } from '../helpers/flow.js';

interface EventView {
  id: string;
  type: string;
  createdAt: string;
  tenantId: string;
  data: Record<string, unknown>;
}

async function events(ctx: TestContext, tenant: TestTenant, query = ''): Promise<{ data: EventView[]; meta: { nextCursor: string | null } }> {
  const res = await ctx.request('GET', `/events${query}`, { tenant });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Issue 14, item 1: the event log, written with the changes it records. */
describe.each(DIALECTS)('event log (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  async function sentCampaign(tenant: TestTenant, contacts: { email: string; locale?: string; externalId?: string }[]) {
    const ids = await addContacts(ctx, tenant, contacts.map((c) => ({ ...c, attributes: { first_name: 'X' } })));
    const { baseVersionId, versionIds } = await publishedTemplate(ctx, tenant, {
      en: { subject: 'Hi', html: '<p>Hi <a href="{{ unsubscribeUrl }}">u</a></p>' },
      es: { subject: 'Hola', html: '<p>Hola <a href="{{ unsubscribeUrl }}">u</a></p>' },
    });
    const campaignId = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    expect((await ctx.request('POST', `/campaigns/${campaignId}/send`, { tenant })).statusCode).toBe(202);
    const done = await deliverAll(ctx, tenant, campaignId, ctx.container.createWorker());
    expect(done.status).toBe('SENT');
    return { ids, campaignId, versionIds };
  }

  it('records every sent email and the campaign’s life, with the ids a receiver needs, oldest or newest first', async () => {
    const tenant = await ctx.newTenant('Events');
    const { ids, campaignId, versionIds } = await sentCampaign(tenant, [
      { email: 'ana@events.test', locale: 'es', externalId: 'crm-ana' },
      { email: 'bob@events.test', locale: 'en' },
    ]);
    const asc = (await events(ctx, tenant, `?order=asc&campaignId=${campaignId}`)).data;
    expect(asc.map((e) => e.type)).toEqual(['campaign.sending', 'email.sent', 'email.sent', 'campaign.sent']);
    const ana = asc.find((e) => e.data.email === 'ana@events.test')!;
    expect(ana).toMatchObject({
      tenantId: tenant.tenantId,
      data: { campaignId, contactId: ids[0], externalId: 'crm-ana', locale: 'es', templateVersionId: versionIds.es },
    });
    expect(typeof ana.data.messageId).toBe('number');
    expect(new Date(ana.createdAt).toISOString()).toBe(ana.createdAt);

    const desc = (await events(ctx, tenant, `?campaignId=${campaignId}`)).data;
    expect(desc.map((e) => e.id)).toEqual(asc.map((e) => e.id).reverse());
    expect((await events(ctx, tenant, '?type=email.sent')).data).toHaveLength(2);
    expect((await events(ctx, tenant, `?contactId=${ids[1]}`)).data.map((e) => e.data.email)).toEqual(['bob@events.test']);
    expect((await events(ctx, tenant, `?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).data).toEqual([]);
  });

  it('records campaign.sent for a campaign whose audience is empty (it completes with its fan-out)', async () => {
    const tenant = await ctx.newTenant('Empty audience');
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const campaignId = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    expect((await ctx.request('POST', `/campaigns/${campaignId}/send`, { tenant })).statusCode).toBe(202);
    expect((await deliverAll(ctx, tenant, campaignId, ctx.container.createWorker())).status).toBe('SENT');
    expect((await events(ctx, tenant, `?order=asc&campaignId=${campaignId}`)).data.map((e) => e.type)).toEqual(['campaign.sending', 'campaign.sent']);
  });

  it('pages with a cursor in both orders without skipping or repeating', async () => {
    const tenant = await ctx.newTenant('Paging');
    await sentCampaign(
      tenant,
      Array.from({ length: 7 }, (_, i) => ({ email: `p${i}@paging.test` })),
    );
    const all = (await events(ctx, tenant, '?limit=500')).data.map((e) => e.id);
    expect(all).toHaveLength(9);
    for (const order of ['asc', 'desc'] as const) {
      const seen: string[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const page = await events(ctx, tenant, `?order=${order}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.data.map((e) => e.id));
        cursor = page.meta.nextCursor;
      }
      expect(seen).toEqual(order === 'desc' ? all : [...all].reverse());
    }
  });

  it('records unsubscribes with how they happened: link, one-click, API suppression', async () => {
    const tenant = await ctx.newTenant('Unsubscribes');
    const { ids, campaignId } = await sentCampaign(tenant, [
      { email: 'link@unsub-events.test' },
      { email: 'oneclick@unsub-events.test' },
      { email: 'api@unsub-events.test' },
    ]);
    const token = (contactId: string) => createUnsubscribeToken(TEST_SECRET, { tenantId: tenant.tenantId, contactId, campaignId });
    expect((await ctx.request('POST', `/u/${token(ids[0]!)}`)).statusCode).toBe(200);
    const oneClick = await ctx.request('POST', `/u/${token(ids[1]!)}`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.statusCode).toBe(200);
    // Again: already unsubscribed, nothing new to tell.
    expect((await ctx.request('POST', `/u/${token(ids[1]!)}`)).statusCode).toBe(200);
    const api = await ctx.request('POST', '/suppressions', { tenant, body: { email: 'api@UNSUB-events.test', reason: 'unsubscribe' } });
    expect(api.statusCode).toBe(201);
    expect((await ctx.request('POST', '/suppressions', { tenant, body: { email: 'api@unsub-events.test', reason: 'manual' } })).statusCode).toBe(200);

    const unsubscribed = (await events(ctx, tenant, '?type=contact.unsubscribed&order=asc')).data;
    expect(unsubscribed.map((e) => [e.data.email, e.data.how, e.data.campaignId, e.data.contactId])).toEqual([
      ['link@unsub-events.test', 'link', campaignId, ids[0]],
      ['oneclick@unsub-events.test', 'one_click', campaignId, ids[1]],
      ['api@unsub-events.test', 'api', null, ids[2]],
    ]);
  });

  it('unsubscribes through a link of a campaign that no longer exists (the event is kept, no counter to add to)', async () => {
    const tenant = await ctx.newTenant('Deleted campaign');
    const { ids, campaignId } = await sentCampaign(tenant, [{ email: 'late@unsub-events.test' }]);
    await ctx.container.database.db.deleteFrom('campaigns').where('id', '=', campaignId).execute();
    const token = createUnsubscribeToken(TEST_SECRET, { tenantId: tenant.tenantId, contactId: ids[0]!, campaignId });
    expect((await ctx.request('POST', `/u/${token}`)).statusCode).toBe(200);
    const unsubscribed = (await events(ctx, tenant, '?type=contact.unsubscribed')).data;
    expect(unsubscribed.map((e) => [e.data.how, e.data.campaignId])).toEqual([['link', campaignId]]);
  });

  it('shows a tenant only its own events, needs events:read, and refuses bad filters with 400', async () => {
    const a = await ctx.newTenant('A');
    const b = await ctx.newTenant('B');
    const { campaignId } = await sentCampaign(a, [{ email: 'only-a@iso.test' }]);
    expect((await events(ctx, b, '')).data).toEqual([]);
    expect((await events(ctx, b, `?campaignId=${campaignId}`)).data).toEqual([]);

    const noScope = await a.keyWith(['campaigns:read']);
    const refused = await ctx.request('GET', '/events', { headers: noScope.headers });
    expect(refused.statusCode).toBe(403);
    expect(errorBody(refused).code).toBe('INSUFFICIENT_SCOPE');
    const scoped = await a.keyWith(['events:read']);
    expect((await ctx.request('GET', '/events', { headers: scoped.headers })).statusCode).toBe(200);

    for (const query of ['?type=email.nope', '?limit=0', '?limit=501', '?since=yesterday', '?cursor=%%%', '?cursor=eyJhZnRlciI6MX0', '?order=up', '?extra=1']) {
      const bad = await ctx.request('GET', `/events${query}`, { tenant: a });
      expect(bad.statusCode, query).toBe(400);
      expect(errorBody(bad).code, query).toBe('VALIDATION_ERROR');
    }
    expect((await events(ctx, a, '?campaignId=not-an-id')).data).toEqual([]);
  });
});
