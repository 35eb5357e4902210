import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestTenant } from '../helpers/app.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { addContacts, createCampaign, deliverAll, getCampaign, publishedTemplate, smtpProject } from '../helpers/flow.js';

type Report = { checks: { id: string; status: string; message: string }[]; ok: boolean };

const NO_LINK = { en: { subject: 'Hi', html: '<p>Hi {{ first_name }}, no way out</p>' } };

describe.each(DIALECTS)('pre-send check (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink({});
  });
  afterAll(async () => sink?.close());

  const preflight = async (tenant: TestTenant, id: string) => {
    const res = await ctx.request('GET', `/campaigns/${id}/preflight`, { tenant });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Report;
  };
  const statusOf = (report: Report, id: string) => report.checks.find((c) => c.id === id)?.status;

  it('blocks a campaign whose template has no unsubscribe link; force sends it, with the bulk-sender headers', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [{ email: 'ann@pre.test', attributes: { first_name: 'Ann' } }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant, NO_LINK);
    const id = await createCampaign(ctx, tenant, { name: 'Spring "news"', templateVersionId: baseVersionId });

    const report = await preflight(tenant, id);
    expect(report.ok).toBe(false);
    expect(statusOf(report, 'unsubscribe_link')).toBe('fail');
    expect(statusOf(report, 'one_click_unsubscribe')).toBe('ok');

    const refused = await ctx.request('POST', `/campaigns/${id}/send`, { tenant });
    expect(refused.statusCode, refused.body).toBe(422);
    const body = errorBody(refused);
    expect(body.code).toBe('PREFLIGHT_FAILED');
    expect(body.details).toEqual([{ field: 'unsubscribe_link', message: expect.stringContaining(baseVersionId) }]);
    const scheduled = await ctx.request('POST', `/campaigns/${id}/schedule`, {
      tenant,
      body: { scheduledAt: new Date(ctx.clock.now.getTime() + 60_000).toISOString() },
    });
    expect(scheduled.statusCode).toBe(422);
    expect(errorBody(scheduled).code).toBe('PREFLIGHT_FAILED');
    expect((await getCampaign(ctx, tenant, id)).status).toBe('DRAFT');

    const forced = await ctx.request('POST', `/campaigns/${id}/send?force=true`, { tenant });
    expect(forced.statusCode, forced.body).toBe(202);
    expect((await deliverAll(ctx, tenant, id, ctx.container.createWorker())).counters.sent).toBe(1);

    const [message] = (await ctx.request('GET', `/campaigns/${id}/messages`, { tenant })).json().data as { id: number }[];
    const raw = await ctx.request('GET', `/campaigns/${id}/messages/${message!.id}/raw`, { tenant });
    expect(raw.statusCode).toBe(200);
    const headers = raw.rawPayload.toString('latin1').split('\r\n\r\n')[0]!;
    expect(headers).toMatch(new RegExp(`^List-ID: "Spring \\\\"news\\\\"" <t-${tenant.tenantId}\\.mailingcore\\.invalid>$`, 'mi'));
    expect(headers).toMatch(new RegExp(`^Feedback-ID: ${id}:${tenant.tenantId}:campaign:default$`, 'm'));
    expect(headers).toMatch(/^Precedence: bulk$/m);
    expect(headers).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
  });

  it('warns (and still sends) for an uncovered locale, an unverified From domain, a project never verified, no test send', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [
      { email: 'en@pre.test', locale: 'en' },
      { email: 'fr1@pre.test', locale: 'fr' },
      { email: 'fr2@pre.test', locale: 'fr' },
    ]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, 2525);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });

    const before = await preflight(tenant, id);
    expect(before.ok).toBe(true);
    expect(Object.fromEntries(before.checks.map((c) => [c.id, c.status]))).toEqual({
      from_domain: 'warn',
      unsubscribe_link: 'ok',
      one_click_unsubscribe: 'ok',
      locale_coverage: 'warn',
      sender_project: 'warn',
      test_send: 'warn',
    });
    expect(before.checks.find((c) => c.id === 'locale_coverage')!.message).toContain('fr (2)');
    expect(before.checks.find((c) => c.id === 'from_domain')!.message).toContain('acme.test');

    // A verified domain covering news@acme.test, and a test send (captured: an mc_test_ key).
    const domain = await ctx.request('POST', '/domains', { tenant, body: { name: 'acme.test' } });
    expect(domain.statusCode, domain.body).toBe(201);
    await ctx.container.database.db.updateTable('sending_domains').set({ status: 'VERIFIED' }).where('tenant_id', '=', tenant.tenantId).execute();
    const testKey = await tenant.keyWith(['campaigns:write', 'campaigns:send'], 'test');
    const test = await ctx.request('POST', `/campaigns/${id}/test`, { headers: testKey.headers, body: { emails: ['en@pre.test'] } });
    expect(test.statusCode, test.body).toBe(200);

    const after = await preflight(tenant, id);
    expect(statusOf(after, 'from_domain')).toBe('ok');
    expect(statusOf(after, 'test_send')).toBe('ok');
    expect(statusOf(after, 'sender_project')).toBe('warn');

    const sent = await ctx.request('POST', `/campaigns/${id}/send`, { headers: testKey.headers });
    expect(sent.statusCode, sent.body).toBe(202);
    expect(sent.json().warnings).toEqual([expect.objectContaining({ code: 'LOCALE_NOT_COVERED', locale: 'fr', count: 2 })]);
  });

  it('takes a project as proven once its verify passed or it delivered an email', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [{ email: 'p@pre.test', locale: 'en' }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const message = async (projectId: string) => {
      const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
      return (await preflight(tenant, id)).checks.find((c) => c.id === 'sender_project')!;
    };

    const closed = await smtpProject(ctx, tenant, 1);
    expect((await ctx.request('POST', `/projects/${closed}/verify`, { tenant })).json().ok).toBe(false);
    expect(await message(closed)).toMatchObject({ status: 'warn', message: expect.stringContaining('failed its last verify') });

    const verified = await smtpProject(ctx, tenant, sink.port);
    expect((await ctx.request('POST', `/projects/${verified}/verify`, { tenant })).json().ok).toBe(true);
    expect(await message(verified)).toMatchObject({ status: 'ok', message: expect.stringContaining('passed verify') });

    const delivering = await smtpProject(ctx, tenant, sink.port);
    expect((await message(delivering)).status).toBe('warn');
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId: delivering });
    expect((await ctx.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
    expect((await deliverAll(ctx, tenant, id, ctx.container.createWorker())).counters.sent).toBe(1);
    expect(await message(delivering)).toMatchObject({ status: 'ok', message: expect.stringContaining('has delivered email since') });
  });

  it('answers the quota first (429 QUOTA_EXCEEDED), force or not', async () => {
    const created = await ctx.container.tenants.create({ name: 'Quota', monthlyQuota: 2 });
    const tenant: TestTenant = { ...(await ctx.newTenant('placeholder')), tenantId: created.tenant.id, apiKey: created.apiKey, headers: { authorization: `Bearer ${created.apiKey}`, 'x-tenant-id': created.tenant.id } };
    await addContacts(ctx, tenant, Array.from({ length: 5 }, (_, i) => ({ email: `q${i}@pre.test` })));
    const { baseVersionId } = await publishedTemplate(ctx, tenant, NO_LINK);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    for (const url of [`/campaigns/${id}/send`, `/campaigns/${id}/send?force=true`]) {
      const res = await ctx.request('POST', url, { tenant });
      expect(res.statusCode, res.body).toBe(429);
      expect(errorBody(res).code).toBe('QUOTA_EXCEEDED');
    }
  });

  it('is read with campaigns:read and 404s for another tenant', async () => {
    const owner = await ctx.newTenant();
    const other = await ctx.newTenant();
    const { baseVersionId } = await publishedTemplate(ctx, owner);
    const id = await createCampaign(ctx, owner, { templateVersionId: baseVersionId });
    const reader = await owner.keyWith(['campaigns:read']);
    expect((await ctx.request('GET', `/campaigns/${id}/preflight`, { headers: reader.headers })).statusCode).toBe(200);
    expect((await ctx.request('GET', `/campaigns/${id}/preflight`, { tenant: other })).statusCode).toBe(404);
  });
});
