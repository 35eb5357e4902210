import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bounceKey, verifyBounceAddress } from '../../src/delivery/bounce-address.js';
import { DIALECTS } from '../helpers/databases.js';
import { TEST_SECRET, useTestApp, type TestContext, type TestTenant } from '../helpers/app.js';
import { TestDnsServer } from '../helpers/dns-server.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { addContacts, createCampaign, deliverAll, publishedTemplate, smtpProject } from '../helpers/flow.js';

const BOUNCE_DOMAIN = 'bounces.mailingcore.test';
const VERP = /^bounces\+[a-z2-7]{55}@/;

async function sendThroughSink(ctx: TestContext, tenant: TestTenant, port: number, emails: string[], fromEmail = 'news@acme.test') {
  await addContacts(ctx, tenant, emails.map((email) => ({ email })));
  const { baseVersionId } = await publishedTemplate(ctx, tenant);
  const projectId = await smtpProject(ctx, tenant, port, { fromEmail });
  const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
  expect((await ctx.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
  expect(await deliverAll(ctx, tenant, id, ctx.container.createWorker())).toMatchObject({ status: 'SENT' });
  const rows = await ctx.container.database.db.selectFrom('messages').select(['id', 'email']).where('campaign_id', '=', id).execute();
  return { id, projectId, baseVersionId, messageIdOf: new Map(rows.map((row) => [row.email!, Number(row.id)])) };
}

/**
 * Every campaign email's envelope sender is a VERP address naming its
 * tenant and message, signed: at the From domain's verified return-path
 * host, else at BOUNCE_DOMAIN. Test sends keep the From address.
 */
describe.each(DIALECTS)('VERP return path (%s)', (dialect) => {
  const dns = new TestDnsServer();
  const dnsOptions = { servers: [] as string[], timeoutMs: 600 };
  let sink: SmtpSink;
  beforeAll(async () => {
    dnsOptions.servers.push(await dns.start());
    sink = await startSmtpSink({ parse: false });
  });
  afterAll(async () => {
    await dns.close();
    await sink?.close();
  });
  beforeEach(() => sink.reset());
  const ctx = useTestApp(dialect, { dns: dnsOptions, bounceDomain: BOUNCE_DOMAIN });
  const key = bounceKey(TEST_SECRET);

  it('sends each campaign email from bounces+<signed token>@BOUNCE_DOMAIN, naming its tenant and message', async () => {
    const tenant = await ctx.newTenant();
    const emails = ['ada@verp.test', 'bob@verp.test'];
    const { messageIdOf, id } = await sendThroughSink(ctx, tenant, sink.port, emails);
    const messages = await sink.waitFor(2);
    const senders = new Set<string>();
    for (const message of messages) {
      const [to] = message.envelope.to;
      expect(message.envelope.from).toMatch(VERP);
      expect(message.envelope.from!.endsWith(`@${BOUNCE_DOMAIN}`)).toBe(true);
      expect(message.envelope.from!.split('@')[0]!.length).toBeLessThanOrEqual(64);
      expect(verifyBounceAddress(key, message.envelope.from!)).toEqual({ tenantId: tenant.tenantId, messageId: messageIdOf.get(to!) });
      // The header From is the sender's, and the Message-ID still names campaign and message.
      expect(String(message.headers.get('from'))).toContain('news@acme.test');
      expect(String(message.headers.get('message-id'))).toContain(`${id}.${messageIdOf.get(to!)}@`);
      senders.add(message.envelope.from!);
    }
    expect(senders.size).toBe(2);

    // A test send names no message: its envelope sender stays the From address.
    sink.reset();
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const campaignId = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    const test = await ctx.request('POST', `/campaigns/${campaignId}/test`, { tenant, body: { emails: ['qa@verp.test'] } });
    expect(test.statusCode, test.body).toBe(200);
    const [testMessage] = await sink.waitFor(1);
    expect(testMessage!.envelope.from).toBe('news@acme.test');
  });

  it('uses the From domain’s verified return-path host, aligned with From', async () => {
    const tenant = await ctx.newTenant();
    const created = await ctx.request('POST', '/domains', { tenant, body: { name: 'aligned.example' } });
    expect(created.statusCode, created.body).toBe(201);
    const domain = created.json() as { id: string; records: { purpose: string; type: string; host: string; value: string }[] };
    // BOUNCE_MX_HOST unset: the return path's MX names the host of PUBLIC_URL.
    expect(domain.records.find((r) => r.purpose === 'returnPath')?.value).toBe(`10 ${new URL(ctx.container.transports.publicUrl).hostname}`);
    for (const r of domain.records) {
      if (r.type === 'TXT') dns.txt(r.host, r.value);
      else dns.mx(r.host, { exchange: r.value.split(' ')[1]!, priority: Number(r.value.split(' ')[0]) });
    }
    const verified = await ctx.request('POST', `/domains/${domain.id}/verify`, { tenant });
    expect(verified.json()).toMatchObject({ status: 'VERIFIED', returnPathStatus: 'VALID' });

    const { messageIdOf } = await sendThroughSink(ctx, tenant, sink.port, ['cy@verp.test'], 'news@aligned.example');
    const [message] = await sink.waitFor(1);
    expect(message!.envelope.from).toMatch(VERP);
    expect(message!.envelope.from!.endsWith('@bounces.aligned.example')).toBe(true);
    expect(verifyBounceAddress(key, message!.envelope.from!)).toEqual({ tenantId: tenant.tenantId, messageId: messageIdOf.get('cy@verp.test') });
  });
});

describe.each(DIALECTS)('no BOUNCE_DOMAIN (%s)', (dialect) => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink({ parse: false });
  });
  afterAll(async () => sink?.close());
  const ctx = useTestApp(dialect);

  it('keeps the From address as the envelope sender, as before', async () => {
    const tenant = await ctx.newTenant();
    await sendThroughSink(ctx, tenant, sink.port, ['dee@verp.test']);
    const [message] = await sink.waitFor(1);
    expect(message!.envelope.from).toBe('news@acme.test');
  });
});
