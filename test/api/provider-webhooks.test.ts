import { createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { useTestApp, type TestContext, type TestTenant } from '../helpers/app.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { addContacts, createCampaign, deliverAll, publishedTemplate, smtpProject } from '../helpers/flow.js';
import { repositoriesOf } from '../helpers/factories.js';

const BOUNCE_DOMAIN = 'bounces.mailingcore.test';
const MAILGUN_KEY = 'key-0123456789abcdef0123456789abcdef';

interface EventView {
  type: string;
  data: { email: string | null; contactId: string | null; bounceType?: string; diagnostic?: string | null; late?: boolean; delayed?: boolean };
}

interface Answer {
  status: number;
  body: Record<string, any>;
}

/**
 * Provider bounce webhooks over real HTTP: Postmark (basic auth) and
 * Mailgun (signed bodies) report bounces and complaints of campaign
 * emails; the same effects as DSN and ARF reports (suppressions, events,
 * counters), counted once, strictly within the integration's tenant.
 */
describe.each(DIALECTS)('provider bounce webhooks (%s)', (dialect) => {
  const ctx = useTestApp(dialect, { bounceDomain: BOUNCE_DOMAIN });
  let sink: SmtpSink;
  let base = '';

  beforeAll(async () => {
    sink = await startSmtpSink({ parse: false });
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await sink?.close();
  });

  const repos = () => repositoriesOf(ctx.container.database);
  const reasonOf = async (tenant: TestTenant, email: string) => (await repos().suppressions.get(tenant.tenantId, email))?.reason;
  const statsOf = async (tenant: TestTenant, id: string) =>
    (await ctx.request('GET', `/campaigns/${id}/stats`, { tenant })).json() as { bounced: { hard: number; soft: number }; complained: number };
  const eventsOf = async (tenant: TestTenant, id: string) => (await ctx.request('GET', `/events?campaignId=${id}&limit=100`, { tenant })).json().data as EventView[];

  /** A campaign to `emails` through the sink: each recipient's message token (from its VERP return path) and Message-ID. */
  async function sendCampaign(c: TestContext, tenant: TestTenant, emails: string[]) {
    sink.reset();
    await addContacts(c, tenant, emails.map((email) => ({ email })));
    const { baseVersionId } = await publishedTemplate(c, tenant);
    const projectId = await smtpProject(c, tenant, sink.port);
    const id = await createCampaign(c, tenant, { templateVersionId: baseVersionId, projectId });
    expect((await c.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
    expect(await deliverAll(c, tenant, id, c.container.createWorker())).toMatchObject({ status: 'SENT' });
    const messages = await sink.waitFor(emails.length);
    const tokenOf = new Map(messages.map((m) => [m.envelope.to[0]!, /^bounces\+([a-z2-7]{55})@/.exec(m.envelope.from!)![1]!]));
    const messageIdOf = new Map(messages.map((m) => [m.envelope.to[0]!, /^Message-ID:\s*<([^<>\s]+)>/im.exec(m.raw.toString('latin1'))![1]!]));
    return { id, tokenOf, messageIdOf };
  }

  async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  }

  /** POST with the credentials a URL carries (as Postmark does: `Authorization: Basic`). */
  function postWithUrlCredentials(webhookUrl: string, body: unknown): Promise<Answer> {
    const url = new URL(webhookUrl);
    const basic = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
    return post(`${base}${url.pathname}`, body, { authorization: `Basic ${basic}` });
  }

  const pathOf = (url: string) => `${base}${new URL(url).pathname}`;

  async function connect(tenant: TestTenant, body: Record<string, unknown>) {
    const res = await ctx.request('POST', '/bounce-providers', { tenant, body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; provider: string; url: string; webhookUrl: string; basicAuth: { username: string; password: string } | null };
  }

  const postmarkBounce = (fields: Record<string, unknown>) => ({
    RecordType: 'Bounce',
    MessageStream: 'outbound',
    ID: 4323372036854775807,
    Type: 'HardBounce',
    TypeCode: 1,
    Name: 'Hard bounce',
    MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
    ServerID: 23,
    Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
    Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
    From: 'news@acme.test',
    BouncedAt: '2026-11-30T10:00:00Z',
    Inactive: true,
    CanActivate: true,
    Subject: 'Hello',
    ...fields,
  });

  function mailgunEvent(eventData: Record<string, unknown>, options: { key?: string; at?: Date; token?: string } = {}) {
    const timestamp = String(Math.floor((options.at ?? ctx.clock.fn()).getTime() / 1000));
    const token = options.token ?? randomBytes(25).toString('hex');
    const signature = createHmac('sha256', options.key ?? MAILGUN_KEY).update(timestamp + token).digest('hex');
    return { signature: { timestamp, token, signature }, 'event-data': { id: randomBytes(8).toString('hex'), timestamp: Number(timestamp), ...eventData } };
  }

  const mailgunFailure = (recipient: string, messageId: string, severity: 'permanent' | 'temporary', code: number, message: string) => ({
    event: 'failed',
    'log-level': severity === 'permanent' ? 'error' : 'warn',
    severity,
    reason: 'generic',
    recipient,
    'recipient-domain': recipient.split('@')[1],
    message: { headers: { to: recipient, 'message-id': messageId, from: 'Acme News <news@acme.test>', subject: 'Hello' }, attachments: [], size: 2048 },
    'delivery-status': { 'attempt-no': 1, message, code, description: '', 'session-seconds': 0.4 },
    'user-variables': {},
  });

  it('manages integrations: Postmark credentials shown once, Mailgun signing key never shown; scopes; delete', async () => {
    const tenant = await ctx.newTenant();
    const postmark = await connect(tenant, { provider: 'postmark' });
    expect(postmark.url).toMatch(new RegExp(`/inbound/providers/postmark/${postmark.id}$`));
    expect(postmark.basicAuth).toMatchObject({ username: 'mailingcore', password: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) });
    expect(new URL(postmark.webhookUrl).password).toBe(postmark.basicAuth!.password);

    const mailgun = await connect(tenant, { provider: 'mailgun', signingKey: MAILGUN_KEY });
    expect(mailgun.basicAuth).toBeNull();
    expect(mailgun.webhookUrl).toBe(mailgun.url);
    expect(JSON.stringify(mailgun)).not.toContain(MAILGUN_KEY);

    const list = await ctx.request('GET', '/bounce-providers', { tenant });
    expect(list.statusCode).toBe(200);
    expect(list.json().data.map((p: { id: string }) => p.id)).toEqual([postmark.id, mailgun.id]);
    expect(list.body).not.toContain(postmark.basicAuth!.password);
    expect(list.body).not.toContain(MAILGUN_KEY);
    // At rest: a hash and a sealed key.
    const rows = await ctx.container.database.db.selectFrom('bounce_providers').selectAll().where('tenant_id', '=', tenant.tenantId).execute();
    expect(JSON.stringify(rows)).not.toContain(postmark.basicAuth!.password);
    expect(JSON.stringify(rows)).not.toContain(MAILGUN_KEY);

    for (const body of [{ provider: 'mailgun' }, { provider: 'postmark', signingKey: MAILGUN_KEY }, { provider: 'ses' }, { provider: 'postmark', extra: 1 }]) {
      const res = await ctx.request('POST', '/bounce-providers', { tenant, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR' });
    }
    const reader = await tenant.keyWith(['domains:read']);
    expect((await ctx.request('GET', '/bounce-providers', { headers: reader.headers })).statusCode).toBe(200);
    expect((await ctx.request('POST', '/bounce-providers', { headers: reader.headers, body: { provider: 'postmark' } })).statusCode).toBe(403);
    expect((await ctx.request('DELETE', `/bounce-providers/${postmark.id}`, { headers: reader.headers })).statusCode).toBe(403);

    // Another tenant neither sees nor deletes them.
    const other = await ctx.newTenant('Other');
    expect((await ctx.request('GET', '/bounce-providers', { tenant: other })).json().data).toEqual([]);
    expect((await ctx.request('DELETE', `/bounce-providers/${postmark.id}`, { tenant: other })).statusCode).toBe(404);

    expect((await ctx.request('DELETE', `/bounce-providers/${postmark.id}`, { tenant })).statusCode).toBe(204);
    expect((await ctx.request('DELETE', `/bounce-providers/${postmark.id}`, { tenant })).statusCode).toBe(404);
    const gone = await postWithUrlCredentials(postmark.webhookUrl, postmarkBounce({ Email: 'x@y.test' }));
    expect(gone).toMatchObject({ status: 404, body: { statusCode: 404, code: 'NOT_FOUND' } });
  });

  it('Postmark: a hard bounce suppresses the address and counts once; a complaint opts out; wrong or missing credentials are 401', async () => {
    const tenant = await ctx.newTenant();
    const { id, tokenOf } = await sendCampaign(ctx, tenant, ['ann@pm.test', 'ben@pm.test', 'cat@pm.test', 'dan@pm.test']);
    const postmark = await connect(tenant, { provider: 'postmark' });
    const bounce = postmarkBounce({ Email: 'ann@pm.test', Metadata: { 'mc-token': tokenOf.get('ann@pm.test') } });

    // Unauthenticated, wrong password, wrong user: 401 in the documented shape, nothing changes.
    const target = pathOf(postmark.url);
    for (const authorization of [undefined, `Basic ${Buffer.from('mailingcore:wrong').toString('base64')}`, `Basic ${Buffer.from(`admin:${postmark.basicAuth!.password}`).toString('base64')}`, 'Bearer x']) {
      const res = await post(target, bounce, authorization ? { authorization } : {});
      expect(res, String(authorization)).toMatchObject({ status: 401, body: { statusCode: 401, code: 'UNAUTHORIZED', path: expect.any(String), timestamp: expect.any(String) } });
    }
    expect(await reasonOf(tenant, 'ann@pm.test')).toBeUndefined();

    expect(await postWithUrlCredentials(postmark.webhookUrl, bounce)).toEqual({ status: 200, body: { outcome: 'applied' } });
    expect(await reasonOf(tenant, 'ann@pm.test')).toBe('bounce');
    expect(await statsOf(tenant, id)).toMatchObject({ bounced: { hard: 1, soft: 0 } });
    const bounced = (await eventsOf(tenant, id)).filter((e) => e.type === 'email.bounced');
    expect(bounced).toHaveLength(1);
    expect(bounced[0]!.data).toMatchObject({ email: 'ann@pm.test', bounceType: 'hard', late: true, diagnostic: expect.stringContaining('5.1.1') });
    // Postmark retries: counted once.
    expect(await postWithUrlCredentials(postmark.webhookUrl, bounce)).toEqual({ status: 200, body: { outcome: 'duplicate' } });
    expect(await statsOf(tenant, id)).toMatchObject({ bounced: { hard: 1 } });

    const complaint = { ...postmarkBounce({ Email: 'ben@pm.test', Metadata: { 'mc-token': tokenOf.get('ben@pm.test') } }), RecordType: 'SpamComplaint', Type: 'SpamComplaint', TypeCode: 100001 };
    expect(await postWithUrlCredentials(postmark.webhookUrl, complaint)).toEqual({ status: 200, body: { outcome: 'applied' } });
    expect(await reasonOf(tenant, 'ben@pm.test')).toBe('complaint');
    expect(Number((await repos().contacts.getByEmail(tenant.tenantId, 'ben@pm.test'))?.opt_in)).toBe(0);
    expect(await statsOf(tenant, id)).toMatchObject({ complained: 1 });

    // A soft bounce: counted, not suppressed.
    const soft = postmarkBounce({ Type: 'SoftBounce', TypeCode: 4096, Email: 'dan@pm.test', Details: 'smtp;552 5.2.2 Mailbox full', Metadata: { 'mc-token': tokenOf.get('dan@pm.test') } });
    expect(await postWithUrlCredentials(postmark.webhookUrl, soft)).toEqual({ status: 200, body: { outcome: 'applied' } });
    expect(await reasonOf(tenant, 'dan@pm.test')).toBeUndefined();
    expect(await statsOf(tenant, id)).toMatchObject({ bounced: { hard: 1, soft: 1 } });

    // cat's token, but another address: kept, nothing changes.
    const before = await repos().inboundReports.countUnmatched(tenant.tenantId);
    const misaddressed = postmarkBounce({ Email: 'someone-else@pm.test', Metadata: { 'mc-token': tokenOf.get('cat@pm.test') } });
    expect(await postWithUrlCredentials(postmark.webhookUrl, misaddressed)).toMatchObject({ status: 200, body: { outcome: 'unmatched', reason: expect.stringContaining('another address') } });
    // No token (sent before the integration, or not through Postmark's SMTP): kept.
    expect(await postWithUrlCredentials(postmark.webhookUrl, postmarkBounce({ Email: 'cat@pm.test' }))).toMatchObject({ status: 200, body: { outcome: 'unmatched' } });
    // A type that says nothing about the address: kept.
    expect(await postWithUrlCredentials(postmark.webhookUrl, postmarkBounce({ Type: 'Blocked', TypeCode: 100006, Email: 'cat@pm.test', Metadata: { 'mc-token': tokenOf.get('cat@pm.test') } }))).toMatchObject({ status: 200, body: { outcome: 'unmatched' } });
    expect(await repos().inboundReports.countUnmatched(tenant.tenantId)).toBe(before + 3);
    for (const email of ['cat@pm.test', 'someone-else@pm.test']) expect(await reasonOf(tenant, email)).toBeUndefined();

    // Deliveries and opens: ignored, nothing kept.
    expect(await postWithUrlCredentials(postmark.webhookUrl, { RecordType: 'Delivery', Recipient: 'cat@pm.test' })).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
    expect(await repos().inboundReports.countUnmatched(tenant.tenantId)).toBe(before + 3);
  });

  it('hostile requests: unknown integration 404, malformed 400, oversized 413, wrong type 415 — never 500', async () => {
    const tenant = await ctx.newTenant();
    const postmark = await connect(tenant, { provider: 'postmark' });
    const mailgun = await connect(tenant, { provider: 'mailgun', signingKey: MAILGUN_KEY });
    const url = new URL(postmark.webhookUrl);
    const auth = { authorization: `Basic ${Buffer.from(`${url.username}:${url.password}`).toString('base64')}` };

    for (const path of [`/inbound/providers/postmark/${'0'.repeat(8)}-0000-7000-8000-000000000000`, '/inbound/providers/postmark/not-an-id', `/inbound/providers/mailgun/${postmark.id}`, `/inbound/providers/ses/${postmark.id}`]) {
      expect(await post(`${base}${path}`, { RecordType: 'Bounce' }, auth), path).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    }
    for (const body of ['{', '[]', '"Bounce"', '{}', '{"RecordType": 1}', 'null', '']) {
      const res = await post(`${base}${url.pathname}`, body, auth);
      expect(res.status, body).toBe(400);
      expect(res.body.statusCode, body).toBe(400);
    }
    // Mailgun: without a valid signature the body is not even read.
    for (const body of ['[]', '{}', '{"event-data":{"event":"failed"}}', '{"signature":"x"}']) {
      expect(await post(pathOf(mailgun.url), body), body).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    }
    const huge = JSON.stringify(postmarkBounce({ Email: 'x@y.test', Content: 'x'.repeat(300 * 1024) }));
    expect(await post(`${base}${url.pathname}`, huge, auth)).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
    const form = await fetch(`${base}${url.pathname}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth }, body: 'a=b' });
    expect(form.status).toBe(415);
    const nul = await post(`${base}${url.pathname}`, '{"RecordType":"Bounce","Email":"a\\u0000@b.test"}', auth);
    expect(nul.status).toBe(400);
  });

  it('Mailgun: signed events are applied by our Message-ID; replayed, forged and stale signatures are 401', async () => {
    const tenant = await ctx.newTenant();
    const { id, messageIdOf, tokenOf } = await sendCampaign(ctx, tenant, ['dee@mg.test', 'eve@mg.test', 'fay@mg.test', 'gil@mg.test']);
    const mailgun = await connect(tenant, { provider: 'mailgun', signingKey: MAILGUN_KEY });
    const target = pathOf(mailgun.url);

    const hard = mailgunEvent(mailgunFailure('dee@mg.test', messageIdOf.get('dee@mg.test')!, 'permanent', 550, '5.1.1 The email account that you tried to reach does not exist.'));
    expect(await post(target, hard)).toEqual({ status: 200, body: { outcome: 'applied' } });
    expect(await reasonOf(tenant, 'dee@mg.test')).toBe('bounce');
    expect(await statsOf(tenant, id)).toMatchObject({ bounced: { hard: 1, soft: 0 } });

    // The same request again: a replay.
    expect(await post(target, hard)).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED', message: expect.stringContaining('replay') } });
    // The same event, newly signed (a Mailgun retry): counted once.
    const retried = mailgunEvent(mailgunFailure('dee@mg.test', messageIdOf.get('dee@mg.test')!, 'permanent', 550, '5.1.1 no such user'));
    expect(await post(target, retried)).toEqual({ status: 200, body: { outcome: 'duplicate' } });
    expect(await statsOf(tenant, id)).toMatchObject({ bounced: { hard: 1 } });

    // Forged (another key), altered after signing, stale, from the future: 401, nothing changes.
    const eve = mailgunFailure('eve@mg.test', messageIdOf.get('eve@mg.test')!, 'permanent', 550, '5.1.1 no such user');
    const altered = mailgunEvent(mailgunFailure('fay@mg.test', messageIdOf.get('fay@mg.test')!, 'permanent', 550, '5.1.1 x'));
    altered.signature.token = randomBytes(25).toString('hex');
    for (const forged of [
      mailgunEvent(eve, { key: 'key-not-the-tenants-0000000000000000' }),
      altered,
      mailgunEvent(eve, { at: new Date(ctx.clock.fn().getTime() - 10 * 60_000) }),
      mailgunEvent(eve, { at: new Date(ctx.clock.fn().getTime() + 10 * 60_000) }),
      { 'event-data': eve },
    ]) {
      expect(await post(target, forged)).toMatchObject({ status: 401, body: { statusCode: 401, code: 'UNAUTHORIZED' } });
    }
    expect(await reasonOf(tenant, 'eve@mg.test')).toBeUndefined();
    expect(await reasonOf(tenant, 'fay@mg.test')).toBeUndefined();

    // A temporary failure is a delayed (soft) bounce: counted, not suppressed.
    const temporary = mailgunEvent(mailgunFailure('eve@mg.test', messageIdOf.get('eve@mg.test')!, 'temporary', 452, '4.2.2 The email account that you tried to reach is over quota.'));
    expect(await post(target, temporary)).toEqual({ status: 200, body: { outcome: 'applied' } });
    expect(await reasonOf(tenant, 'eve@mg.test')).toBeUndefined();
    expect(await statsOf(tenant, id)).toMatchObject({ bounced: { hard: 1, soft: 1 } });
    const soft = (await eventsOf(tenant, id)).filter((e) => e.type === 'email.bounced' && e.data.email === 'eve@mg.test');
    expect(soft).toHaveLength(1);
    expect(soft[0]!.data).toMatchObject({ bounceType: 'soft', delayed: true });

    // A complaint named by the token in user-variables.
    const complaint = mailgunEvent({
      event: 'complained',
      recipient: 'fay@mg.test',
      message: { headers: { 'message-id': 'rewritten@mailgun.test' } },
      'user-variables': { mc_token: tokenOf.get('fay@mg.test') },
    });
    expect(await post(target, complaint)).toEqual({ status: 200, body: { outcome: 'applied' } });
    expect(await reasonOf(tenant, 'fay@mg.test')).toBe('complaint');
    expect(await statsOf(tenant, id)).toMatchObject({ complained: 1 });

    // gil's Message-ID naming another address: kept.
    const misaddressed = mailgunEvent(mailgunFailure('someone@mg.test', messageIdOf.get('gil@mg.test')!, 'permanent', 550, '5.1.1 x'));
    expect(await post(target, misaddressed)).toMatchObject({ status: 200, body: { outcome: 'unmatched' } });
    // A Message-ID with gil's message number but another campaign: kept.
    const forgedCampaign = messageIdOf.get('gil@mg.test')!.replace(id, '01900000-0000-7000-8000-000000000000');
    expect(await post(target, mailgunEvent(mailgunFailure('gil@mg.test', forgedCampaign, 'permanent', 550, '5.1.1 x')))).toMatchObject({ status: 200, body: { outcome: 'unmatched' } });
    // A delivered event: ignored.
    expect(await post(target, mailgunEvent({ event: 'delivered', recipient: 'gil@mg.test' }))).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
    expect(await reasonOf(tenant, 'gil@mg.test')).toBeUndefined();
  });

  it("a report of another tenant's message, by token or Message-ID, changes nothing for either tenant and is kept for the integration's", async () => {
    const mine = await ctx.newTenant('Mine');
    const theirs = await ctx.newTenant('Theirs');
    const { tokenOf, messageIdOf } = await sendCampaign(ctx, theirs, ['hal@x.test']);
    await sendCampaign(ctx, mine, ['hal@x.test']);
    const myPostmark = await connect(mine, { provider: 'postmark' });
    const myMailgun = await connect(mine, { provider: 'mailgun', signingKey: MAILGUN_KEY });
    const before = await repos().inboundReports.countUnmatched(mine.tenantId);

    const byToken = await postWithUrlCredentials(myPostmark.webhookUrl, postmarkBounce({ Email: 'hal@x.test', Metadata: { 'mc-token': tokenOf.get('hal@x.test') } }));
    expect(byToken).toMatchObject({ status: 200, body: { outcome: 'unmatched', reason: expect.stringContaining('another tenant') } });
    const byMessageId = await post(pathOf(myMailgun.url), mailgunEvent(mailgunFailure('hal@x.test', messageIdOf.get('hal@x.test')!, 'permanent', 550, '5.1.1 x')));
    expect(byMessageId).toMatchObject({ status: 200, body: { outcome: 'unmatched' } });
    expect(await reasonOf(mine, 'hal@x.test')).toBeUndefined();
    expect(await reasonOf(theirs, 'hal@x.test')).toBeUndefined();
    expect(await repos().inboundReports.countUnmatched(mine.tenantId)).toBe(before + 2);
    // Their Postmark credentials do not open my integration.
    const theirPostmark = await connect(theirs, { provider: 'postmark' });
    const url = new URL(theirPostmark.webhookUrl);
    const crossed = await post(pathOf(myPostmark.url), postmarkBounce({ Email: 'hal@x.test' }), { authorization: `Basic ${Buffer.from(`${url.username}:${url.password}`).toString('base64')}` });
    expect(crossed.status).toBe(401);
  });

  it('a complaint about an erased contact resurrects nobody and names nobody; erasure removes kept reports naming the address', async () => {
    const tenant = await ctx.newTenant();
    const { id, tokenOf } = await sendCampaign(ctx, tenant, ['ivy@gone.test']);
    const postmark = await connect(tenant, { provider: 'postmark' });
    // Unattributable (no token): kept, with the address in it…
    expect(await postWithUrlCredentials(postmark.webhookUrl, postmarkBounce({ Email: 'ivy@gone.test' }))).toMatchObject({ status: 200, body: { outcome: 'unmatched' } });
    expect(await repos().inboundReports.countUnmatched(tenant.tenantId)).toBe(1);
    const contact = await repos().contacts.getByEmail(tenant.tenantId, 'ivy@gone.test');
    expect((await ctx.request('DELETE', `/contacts/${contact!.id}`, { tenant })).statusCode).toBe(204);
    // …and gone with the person.
    expect(await repos().inboundReports.countUnmatched(tenant.tenantId)).toBe(0);
    const complaint = { ...postmarkBounce({ Email: 'ivy@gone.test', Metadata: { 'mc-token': tokenOf.get('ivy@gone.test') } }), RecordType: 'SpamComplaint', Type: 'SpamComplaint' };
    expect(await postWithUrlCredentials(postmark.webhookUrl, complaint)).toEqual({ status: 200, body: { outcome: 'applied' } });
    expect(await repos().contacts.getByEmail(tenant.tenantId, 'ivy@gone.test')).toBeUndefined();
    expect(await reasonOf(tenant, 'ivy@gone.test')).toBe('manual'); // erasure's own
    const events = await eventsOf(tenant, id);
    expect(events.filter((e) => e.type === 'email.complained')).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain('ivy@gone.test');
  });
});
