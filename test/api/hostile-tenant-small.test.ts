import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestTenant } from '../helpers/app.js';
import { useRefusingSink } from '../helpers/smtp-sink.js';
import { addContacts, createCampaign, deliverAll, publishedTemplate, smtpProject } from '../helpers/flow.js';

/**
 * Issue 12 item 8, through HTTP on both engines: preview with a contact's
 * data needs contacts:read; a test key cannot make a live campaign send; a
 * bare CR or LF never reaches a 7bit part; a broken subject override is
 * refused up front; test sends count toward the quota and are capped per hour.
 */
describe.each(DIALECTS)('hostile tenant, smaller items (%s)', (dialect) => {
  const ctx = useTestApp(dialect, { testSendsPerHour: 4 });
  const refusing = useRefusingSink();

  const withQuota = async (monthlyQuota: number): Promise<TestTenant> => {
    const base = await ctx.newTenant();
    const created = await ctx.container.tenants.create({ name: 'Quota', monthlyQuota });
    return {
      tenantId: created.tenant.id,
      apiKey: created.apiKey,
      headers: { authorization: `Bearer ${created.apiKey}`, 'x-tenant-id': created.tenant.id },
      keyWith: base.keyWith,
    };
  };

  it('preview with contactId needs contacts:read as well (403 INSUFFICIENT_SCOPE naming it)', async () => {
    const tenant = await ctx.newTenant();
    const [contactId] = await addContacts(ctx, tenant, [{ email: 'secret@scope.test', attributes: { first_name: 'Private' } }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const templateId = (await ctx.container.database.db.selectFrom('template_versions').select('template_id').where('id', '=', baseVersionId).executeTakeFirstOrThrow()).template_id;
    const url = `/templates/${templateId}/versions/${baseVersionId}/preview`;
    const templatesOnly = await tenant.keyWith(['templates:read']);
    const refused = await ctx.request('POST', url, { headers: templatesOnly.headers, body: { contactId } });
    expect(refused.statusCode).toBe(403);
    expect(errorBody(refused)).toMatchObject({ code: 'INSUFFICIENT_SCOPE', requiredScope: 'contacts:read' });
    expect(refused.body).not.toContain('Private');
    expect((await ctx.request('POST', url, { headers: templatesOnly.headers, body: {} })).statusCode).toBe(200);
    const both = await tenant.keyWith(['templates:read', 'contacts:read']);
    const allowed = await ctx.request('POST', url, { headers: both.headers, body: { contactId } });
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect(allowed.json().subject).toBe('Hello Private');
  });

  it('an mc_test_ key cannot retry-failed a campaign started live (403 TEST_KEY_LIVE_CAMPAIGN); nothing is sent', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [{ email: 'fine@mode.test' }, { email: 'rejected@mode.test' }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, refusing.sink.port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    refusing.refuseOnce('rejected@mode.test');
    expect((await ctx.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
    expect((await deliverAll(ctx, tenant, id, ctx.container.createWorker())).counters).toMatchObject({ sent: 1, failed: 1 });

    const testKey = await tenant.keyWith(['campaigns:send', 'campaigns:read'], 'test');
    const refused = await ctx.request('POST', `/campaigns/${id}/retry-failed`, { headers: testKey.headers });
    expect(refused.statusCode).toBe(403);
    expect(errorBody(refused)).toMatchObject({ code: 'TEST_KEY_LIVE_CAMPAIGN' });
    const before = refusing.sink.messages.length;
    const after = await deliverAll(ctx, tenant, id, ctx.container.createWorker());
    expect(after).toMatchObject({ status: 'SENT', counters: { sent: 1, failed: 1 } });
    expect(refusing.sink.messages.length).toBe(before);
    // A live key may.
    expect((await ctx.request('POST', `/campaigns/${id}/retry-failed`, { tenant })).statusCode).toBe(200);
  });

  it('a bare CR or LF in a contact attribute never reaches a 7bit part of the captured email', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [{ email: 'cr@smuggle.test', attributes: { first_name: 'Ann\rMAIL FROM:<x@evil.test>\n.\rRCPT' } }]);
    const created = await ctx.request('POST', '/templates', {
      tenant,
      body: { name: 'CR', subject: 'Hi', htmlBody: '<p>Hi {{ first_name }}</p>', textBody: 'Hi {{ first_name }}\nbye' },
    });
    const template = created.json() as { id: string; versions: { id: string }[] };
    const versionId = template.versions[0]!.id;
    expect((await ctx.request('POST', `/templates/${template.id}/versions/${versionId}/publish`, { tenant })).statusCode).toBe(200);
    const id = await createCampaign(ctx, tenant, { templateVersionId: versionId });
    // The bodies are what is under test; no unsubscribe link, so past the pre-send check with force.
    expect((await ctx.request('POST', `/campaigns/${id}/send?force=true`, { tenant })).statusCode).toBe(202);
    expect((await deliverAll(ctx, tenant, id, ctx.container.createWorker())).counters.sent).toBe(1);
    const [message] = (await ctx.request('GET', `/campaigns/${id}/messages`, { tenant })).json().data as { id: string }[];
    const raw = await ctx.request('GET', `/campaigns/${id}/messages/${message!.id}/raw`, { tenant });
    expect(raw.statusCode).toBe(200);
    const bytes = raw.rawPayload.toString('latin1');
    expect(bytes).toContain('Content-Transfer-Encoding: 7bit');
    expect(bytes).toContain('MAIL FROM:<x@evil.test>');
    expect(bytes).not.toMatch(/\r(?!\n)/); // no bare CR anywhere
    expect(bytes).not.toMatch(/(?<!\r)\n/); // no bare LF anywhere
  });

  it('a campaign subject override is Liquid-checked at create and PATCH (422 TEMPLATE_SYNTAX)', async () => {
    const tenant = await ctx.newTenant();
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const created = await ctx.request('POST', '/campaigns', { tenant, body: { name: 'Broken', templateVersionId: baseVersionId, subject: 'Hi {{ first_name' } });
    expect(created.statusCode).toBe(422);
    expect(errorBody(created)).toMatchObject({ code: 'TEMPLATE_SYNTAX', details: [expect.objectContaining({ field: 'subject' })] });
    const unknownTag = await ctx.request('POST', '/campaigns', { tenant, body: { name: 'Broken', templateVersionId: baseVersionId, subject: '{% nope %}' } });
    expect(unknownTag.statusCode).toBe(422);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, subject: 'Fine {{ first_name | default: "you" }}' });
    const patched = await ctx.request('PATCH', `/campaigns/${id}`, { tenant, body: { subject: '{% if %}' } });
    expect(patched.statusCode).toBe(422);
    expect(errorBody(patched)).toMatchObject({ code: 'TEMPLATE_SYNTAX' });
    expect((await ctx.request('GET', `/campaigns/${id}`, { tenant })).json().subject).toBe('Fine {{ first_name | default: "you" }}');
  });

  it('test sends count toward the monthly quota (+1 each, 429 QUOTA_EXCEEDED past 110 %)', async () => {
    const tenant = await withQuota(2); // ceiling 2 (110 % of 2, floored)
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    const first = await ctx.request('POST', `/campaigns/${id}/test`, { tenant, body: { emails: ['a@quota-test.test'] } });
    expect(first.statusCode, first.body).toBe(200);
    expect((await ctx.request('GET', '/usage', { tenant })).json()).toMatchObject({ used: 1 });
    const tooMany = await ctx.request('POST', `/campaigns/${id}/test`, { tenant, body: { emails: ['b@quota-test.test', 'c@quota-test.test'] } });
    expect(tooMany.statusCode).toBe(429);
    expect(errorBody(tooMany)).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: { limit: 2, used: 1 } });
    expect((await ctx.request('POST', `/campaigns/${id}/test`, { tenant, body: { emails: ['b@quota-test.test'] } })).statusCode).toBe(200);
    expect((await ctx.request('GET', '/usage', { tenant })).json()).toMatchObject({ used: 2 });
  });

  it('test sends are capped per tenant per hour (TEST_SENDS_PER_HOUR; 429 TEST_SEND_LIMIT with Retry-After), counted in the database', async () => {
    const tenant = await ctx.newTenant();
    const other = await ctx.newTenant();
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    const send = (emails: string[]) => ctx.request('POST', `/campaigns/${id}/test`, { tenant, body: { emails } });
    expect((await send(['1@cap.test', '2@cap.test', '3@cap.test'])).statusCode).toBe(200);
    const over = await send(['4@cap.test', '5@cap.test']);
    expect(over.statusCode).toBe(429);
    expect(errorBody(over)).toMatchObject({ code: 'TEST_SEND_LIMIT' });
    const retryAfter = Number(over.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect((await send(['4@cap.test'])).statusCode).toBe(200); // exactly the 4th
    expect((await send(['5@cap.test'])).statusCode).toBe(429);
    // The count lives in the database (shared by every process), per tenant.
    const row = await ctx.container.database.db.selectFrom('test_send_counts').select('sent').where('tenant_id', '=', tenant.tenantId).executeTakeFirstOrThrow();
    expect(Number(row.sent)).toBe(4);
    const theirs = await publishedTemplate(ctx, other);
    const otherId = await createCampaign(ctx, other, { templateVersionId: theirs.baseVersionId });
    expect((await ctx.request('POST', `/campaigns/${otherId}/test`, { tenant: other, body: { emails: ['x@cap.test'] } })).statusCode).toBe(200);
    // The next hour starts afresh.
    ctx.clock.advance(retryAfter * 1000);
    expect((await send(['5@cap.test'])).statusCode).toBe(200);
  });
});
