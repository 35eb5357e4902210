import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestTenant } from '../helpers/app.js';
import { addContacts, createCampaign, publishedTemplate, waitForFanOut } from '../helpers/flow.js';

describe.each(DIALECTS)('GET /contacts/{id}/messages (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  let tenant: TestTenant;
  let other: TestTenant;
  let anaId = '';
  let campaignIds: string[] = [];
  let emailId = '';

  const history = (ref: string, who: { headers: Record<string, string> } = tenant, query = '') =>
    ctx.request('GET', `/contacts/${encodeURIComponent(ref)}/messages${query}`, { headers: who.headers });

  it('sends two campaigns and a transactional email to a contact', async () => {
    tenant = await ctx.newTenant('history');
    other = await ctx.newTenant('other');
    const ids = await addContacts(ctx, tenant, [
      { email: 'ana@example.com', externalId: 'crm-ana', locale: 'en' },
      { email: 'bob@example.com', locale: 'en' },
    ]);
    anaId = ids[0]!;
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    campaignIds = [];
    for (const name of ['Spring', 'Summer']) {
      const id = await createCampaign(ctx, tenant, { name, templateVersionId: baseVersionId });
      expect((await ctx.request('POST', `/campaigns/${id}/send?force=true`, { tenant })).statusCode).toBe(202);
      await waitForFanOut(ctx, tenant, id);
      campaignIds.push(id);
    }
    const email = await ctx.request('POST', '/emails/send', { tenant, body: { to: 'ana@example.com', subject: 'Your receipt', htmlBody: '<p>Thanks</p>' } });
    expect(email.statusCode, email.body).toBe(202);
    emailId = email.json().id;
  });

  it('lists them newest first, campaign and transactional', async () => {
    const res = await history(anaId);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.meta).toMatchObject({ page: 1, total: 3 });
    expect(body.data.map((m: { stream: string }) => m.stream)).toEqual(['transactional', 'campaign', 'campaign']);
    expect(body.data[0]).toMatchObject({ stream: 'transactional', status: 'QUEUED', campaign: null, email: { id: emailId, subject: 'Your receipt' } });
    expect(body.data[1]).toMatchObject({ stream: 'campaign', status: 'QUEUED', locale: 'en', email: null, campaign: { id: campaignIds[1], name: 'Summer' } });
    expect(body.data[2].campaign).toEqual({ id: campaignIds[0], name: 'Spring' });
    expect(body.data[0].id).toBeGreaterThan(body.data[1].id);
    expect(Object.keys(body.data[1]).sort()).toEqual(['campaign', 'createdAt', 'email', 'id', 'locale', 'sentAt', 'status', 'stream']);
  });

  it('finds the contact by externalId too, and pages', async () => {
    const page = await history('crm-ana', tenant, '?limit=2&page=2');
    expect(page.statusCode).toBe(200);
    expect(page.json().meta).toMatchObject({ page: 2, limit: 2, total: 3, totalPages: 2 });
    expect(page.json().data).toHaveLength(1);
    expect(page.json().data[0].campaign.name).toBe('Spring');
  });

  it('answers 404 for another tenant, an unknown contact, an erased contact', async () => {
    expect((await history(anaId, other)).statusCode).toBe(404);
    expect(errorBody(await history(anaId, other)).code).toBe('NOT_FOUND');
    expect((await history('00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await ctx.request('DELETE', `/contacts/${anaId}`, { tenant })).statusCode).toBe(204);
    expect((await history(anaId)).statusCode).toBe(404);
    expect((await history('crm-ana')).statusCode).toBe(404);
  });

  it('refuses bad paging and needs contacts:read', async () => {
    for (const query of ['?limit=0', '?limit=101', '?page=0', '?page=x', '?extra=1&limit=-1']) {
      const res = await history('anything', tenant, query);
      expect(res.statusCode, query).toBe(400);
      expect(errorBody(res).code).toBe('VALIDATION_ERROR');
    }
    const writer = await tenant.keyWith(['contacts:write']);
    expect((await history('anything', writer)).statusCode).toBe(403);
  });
});
