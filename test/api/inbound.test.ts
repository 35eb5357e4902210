import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { useTestApp, type TestContext, type TestTenant } from '../helpers/app.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { addContacts, createCampaign, deliverAll, publishedTemplate, smtpProject } from '../helpers/flow.js';
import { repositoriesOf } from '../helpers/factories.js';
import { arf, dsn, plainBounce } from '../helpers/reports.js';
import type { InboundServer } from '../../src/inbound/inbound-server.js';

const BOUNCE_DOMAIN = 'bounces.mailingcore.test';

interface EventView {
  type: string;
  data: { email: string | null; contactId: string | null; bounceType?: string; diagnostic?: string | null; late?: boolean };
}

/** Sends `raw` to the inbound listener as an MTA would; resolves to the server's answer or its refusal. */
async function deliver(port: number, to: string, raw: string | Buffer): Promise<{ ok: true } | { ok: false; code: number | undefined; command: string | undefined }> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ envelope: { from: 'mailer-daemon@mx.receiver.test', to }, raw });
    return { ok: true };
  } catch (error) {
    const e = error as { responseCode?: number; command?: string };
    return { ok: false, code: e.responseCode, command: e.command };
  } finally {
    transport.close();
  }
}

/** A SMTP sink to send campaigns to, and the inbound listener reports are delivered to, for a describe block. */
function useInboundListener(ctx: TestContext): { readonly sink: SmtpSink; readonly port: number } {
  const state = { sink: undefined as unknown as SmtpSink, inbound: undefined as InboundServer | undefined, port: 0 };
  beforeAll(async () => {
    state.sink = await startSmtpSink({ parse: false });
    state.inbound = ctx.container.createInboundServer({ host: '127.0.0.1', port: 0 });
    ({ port: state.port } = await state.inbound.listen());
  });
  afterAll(async () => {
    await state.inbound?.close();
    await state.sink?.close();
  });
  return {
    get sink() {
      return state.sink;
    },
    get port() {
      return state.port;
    },
  };
}

/**
 * Bounces and complaints that come back later, by mail, to the VERP
 * address of the message: a test SMTP client delivers DSNs and ARF reports
 * to the inbound listener; the right address of the right tenant is
 * suppressed and the campaign's stats and events show it.
 */
describe.each(DIALECTS)('inbound bounces and complaints (%s)', (dialect) => {
  const ctx = useTestApp(dialect, { bounceDomain: BOUNCE_DOMAIN });
  const listener = useInboundListener(ctx);

  const repos = () => repositoriesOf(ctx.container.database);
  const reasonOf = async (tenant: TestTenant, email: string) => (await repos().suppressions.get(tenant.tenantId, email))?.reason;

  /** A campaign to `emails` through the sink; the VERP address each recipient's email went out with. */
  async function sendCampaign(c: TestContext, tenant: TestTenant, emails: string[]) {
    listener.sink.reset();
    await addContacts(c, tenant, emails.map((email) => ({ email })));
    const { baseVersionId } = await publishedTemplate(c, tenant);
    const projectId = await smtpProject(c, tenant, listener.sink.port);
    const id = await createCampaign(c, tenant, { templateVersionId: baseVersionId, projectId });
    expect((await c.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
    expect(await deliverAll(c, tenant, id, c.container.createWorker())).toMatchObject({ status: 'SENT' });
    const messages = await listener.sink.waitFor(emails.length);
    const returnPath = new Map(messages.map((m) => [m.envelope.to[0]!, m.envelope.from!]));
    for (const email of emails) expect(returnPath.get(email)).toMatch(/^bounces\+[a-z2-7]{55}@bounces\.mailingcore\.test$/);
    // The Message-ID each email went out with, without the angle brackets.
    const messageIdOf = new Map(messages.map((m) => [m.envelope.to[0]!, /^Message-ID:\s*<([^<>\s]+)>/im.exec(m.raw.toString('latin1'))?.[1]]));
    return { id, returnPath, messageIdOf };
  }
  const statsOf = async (tenant: TestTenant, id: string) => (await ctx.request('GET', `/campaigns/${id}/stats`, { tenant })).json() as { bounced: { hard: number; soft: number }; complained: number };
  const eventsOf = async (tenant: TestTenant, id: string) => (await ctx.request('GET', `/events?campaignId=${id}&limit=100`, { tenant })).json().data as EventView[];

  it('a DSN suppresses the address (bounce) and counts a hard bounce once; a duplicate changes nothing', async () => {
    const tenant = await ctx.newTenant();
    const { id, returnPath } = await sendCampaign(ctx, tenant, ['ada@late.test', 'bob@late.test']);
    const report = dsn({ to: returnPath.get('ada@late.test')!, finalRecipient: 'ada@late.test' });
    expect(await deliver(listener.port, returnPath.get('ada@late.test')!, report)).toEqual({ ok: true });
    expect(await reasonOf(tenant, 'ada@late.test')).toBe('bounce');
    expect(await reasonOf(tenant, 'bob@late.test')).toBeUndefined();
    expect(await statsOf(tenant, id)).toMatchObject({ bounced: { hard: 1, soft: 0 } });
    const bounced = (await eventsOf(tenant, id)).filter((e) => e.type === 'email.bounced');
    expect(bounced).toHaveLength(1);
    expect(bounced[0]!.data).toMatchObject({ email: 'ada@late.test', bounceType: 'hard', late: true });
    expect(bounced[0]!.data.diagnostic).toContain('5.1.1');

    // The same DSN again (an MTA retrying, or a copy): counted once.
    expect(await deliver(listener.port, returnPath.get('ada@late.test')!, report)).toEqual({ ok: true });
    expect(await statsOf(tenant, id)).toMatchObject({ bounced: { hard: 1, soft: 0 } });
    expect((await eventsOf(tenant, id)).filter((e) => e.type === 'email.bounced')).toHaveLength(1);

    // A mailbox-full DSN is a soft bounce: counted, not suppressed.
    const soft = dsn({ to: returnPath.get('bob@late.test')!, finalRecipient: 'bob@late.test', status: '5.2.2', diagnostic: '552 5.2.2 Mailbox full' });
    expect(await deliver(listener.port, returnPath.get('bob@late.test')!, soft)).toEqual({ ok: true });
    expect(await reasonOf(tenant, 'bob@late.test')).toBeUndefined();
    expect(await statsOf(tenant, id)).toMatchObject({ bounced: { hard: 1, soft: 1 } });
  });

  it('an ARF complaint suppresses the address (complaint), opts the contact out and counts a complaint', async () => {
    const tenant = await ctx.newTenant();
    const { id, returnPath } = await sendCampaign(ctx, tenant, ['cy@late.test', 'dee@late.test']);
    const to = returnPath.get('cy@late.test')!;
    expect(await deliver(listener.port, to, arf({ to, originalRecipient: 'cy@late.test' }))).toEqual({ ok: true });
    expect(await reasonOf(tenant, 'cy@late.test')).toBe('complaint');
    const optInOf = async (email: string) => Number((await repos().contacts.getByEmail(tenant.tenantId, email))?.opt_in);
    expect(await optInOf('cy@late.test')).toBe(0);
    expect(await optInOf('dee@late.test')).toBe(1);
    expect(await statsOf(tenant, id)).toMatchObject({ complained: 1 });
    const complained = (await eventsOf(tenant, id)).filter((e) => e.type === 'email.complained');
    expect(complained).toHaveLength(1);
    expect(complained[0]!.data).toMatchObject({ email: 'cy@late.test' });
    // Counted once.
    expect(await deliver(listener.port, to, arf({ to, originalRecipient: 'cy@late.test' }))).toEqual({ ok: true });
    expect(await statsOf(tenant, id)).toMatchObject({ complained: 1 });
  });

  it('refuses forged and altered tokens at RCPT, and oversized messages', async () => {
    const tenant = await ctx.newTenant();
    const { returnPath } = await sendCampaign(ctx, tenant, ['eve@late.test']);
    const genuine = returnPath.get('eve@late.test')!;
    const local = genuine.split('@')[0]!;
    const altered = `${local.slice(0, -2)}${local.endsWith('aa') ? 'bb' : 'aa'}@${BOUNCE_DOMAIN}`;
    for (const to of [altered, `bounces+${'a'.repeat(55)}@${BOUNCE_DOMAIN}`, `postmaster@${BOUNCE_DOMAIN}`, 'someone@elsewhere.test']) {
      expect(await deliver(listener.port, to, dsn({ to, finalRecipient: 'eve@late.test' })), to).toMatchObject({ ok: false, code: 550, command: 'RCPT TO' });
    }
    const huge = dsn({ to: genuine, finalRecipient: 'eve@late.test', diagnostic: `550 5.1.1 ${'x'.repeat(1024 * 1024)}` });
    expect(await deliver(listener.port, genuine, huge)).toMatchObject({ ok: false, code: 552 });
    expect(await reasonOf(tenant, 'eve@late.test')).toBeUndefined();
  });

  it("another tenant's bounce address affects only that tenant", async () => {
    const mine = await ctx.newTenant('Mine');
    const theirs = await ctx.newTenant('Theirs');
    const { returnPath: myPath } = await sendCampaign(ctx, mine, ['fay@shared.test']);
    const { returnPath: theirPath } = await sendCampaign(ctx, theirs, ['fay@shared.test']);
    expect(myPath.get('fay@shared.test')).not.toBe(theirPath.get('fay@shared.test'));
    const to = theirPath.get('fay@shared.test')!;
    expect(await deliver(listener.port, to, dsn({ to, finalRecipient: 'fay@shared.test' }))).toEqual({ ok: true });
    expect(await reasonOf(theirs, 'fay@shared.test')).toBe('bounce');
    expect(await reasonOf(mine, 'fay@shared.test')).toBeUndefined();
  });

  it("a plain-text (Exchange-like) bounce is attributed by the quoted Message-ID of the token's own message, and only then", async () => {
    const tenant = await ctx.newTenant();
    const other = await ctx.newTenant('Other');
    const { id, returnPath, messageIdOf } = await sendCampaign(ctx, tenant, ['hal@plain.test', 'ivy@plain.test', 'jo@plain.test']);
    const { id: otherCampaign, messageIdOf: otherIds } = await sendCampaign(ctx, other, ['kim@plain.test']);
    const hal = messageIdOf.get('hal@plain.test')!;
    expect(hal).toMatch(new RegExp(`^${id}\\.\\d+@`));
    const before = await repos().inboundReports.countUnmatched(tenant.tenantId);

    const to = returnPath.get('hal@plain.test')!;
    expect(await deliver(listener.port, to, plainBounce({ to, recipient: 'hal@plain.test', originalMessageId: hal }))).toEqual({ ok: true });
    expect(await reasonOf(tenant, 'hal@plain.test')).toBe('bounce');
    expect(await statsOf(tenant, id)).toMatchObject({ bounced: { hard: 1, soft: 0 } });
    const bounced = (await eventsOf(tenant, id)).filter((e) => e.type === 'email.bounced');
    expect(bounced).toHaveLength(1);
    expect(bounced[0]!.data).toMatchObject({ email: 'hal@plain.test', bounceType: 'hard', late: true, diagnostic: expect.stringContaining('550 5.1.1') });
    // The same bounce again counts once.
    expect(await deliver(listener.port, to, plainBounce({ to, recipient: 'hal@plain.test', originalMessageId: hal }))).toEqual({ ok: true });
    expect(await statsOf(tenant, id)).toMatchObject({ bounced: { hard: 1 } });

    // A Message-ID naming another message, another campaign (forged with the right message number), or another tenant's message: kept, nothing changes.
    const ivyTo = returnPath.get('ivy@plain.test')!;
    const ivy = messageIdOf.get('ivy@plain.test')!;
    const forgedCampaign = ivy.replace(id, otherCampaign);
    expect(forgedCampaign).not.toBe(ivy);
    for (const quoted of [messageIdOf.get('jo@plain.test')!, forgedCampaign, otherIds.get('kim@plain.test')!]) {
      expect(await deliver(listener.port, ivyTo, plainBounce({ to: ivyTo, recipient: 'ivy@plain.test', originalMessageId: quoted }))).toEqual({ ok: true });
    }
    // No status in the text: kept too.
    const joTo = returnPath.get('jo@plain.test')!;
    expect(await deliver(listener.port, joTo, plainBounce({ to: joTo, recipient: 'jo@plain.test', originalMessageId: messageIdOf.get('jo@plain.test')!, reply: 'the mailbox could not be reached' }))).toEqual({ ok: true });
    expect(await repos().inboundReports.countUnmatched(tenant.tenantId)).toBe(before + 4);
    for (const email of ['ivy@plain.test', 'jo@plain.test']) expect(await reasonOf(tenant, email)).toBeUndefined();
    expect(await reasonOf(other, 'kim@plain.test')).toBeUndefined();
    expect(await statsOf(tenant, id)).toMatchObject({ bounced: { hard: 1, soft: 0 } });
  });

  it('keeps what it cannot attribute or act on in bounces_unmatched, counted', async () => {
    const tenant = await ctx.newTenant();
    const { returnPath } = await sendCampaign(ctx, tenant, ['gus@late.test']);
    const to = returnPath.get('gus@late.test')!;
    const before = await repos().inboundReports.countUnmatched(tenant.tenantId);
    expect(await deliver(listener.port, to, 'From: postmaster@x.test\r\nSubject: Delivery failure\r\n\r\nYour message to gus could not be delivered.\r\n')).toEqual({ ok: true });
    expect(await deliver(listener.port, to, dsn({ to, finalRecipient: 'gus@late.test', status: '5.7.1', diagnostic: '554 5.7.1 Spam' }))).toEqual({ ok: true });
    expect(await repos().inboundReports.countUnmatched(tenant.tenantId)).toBe(before + 2);
    expect(await reasonOf(tenant, 'gus@late.test')).toBeUndefined();
  });
});

describe.each(DIALECTS)('inbound reports about erased contacts (%s)', (dialect) => {
  const ctx = useTestApp(dialect, { bounceDomain: BOUNCE_DOMAIN });
  const listener = useInboundListener(ctx);

  it('a complaint for an erased contact resurrects nobody and names nobody; erasure removes kept bounces quoting the address', async () => {
    const tenant = await ctx.newTenant();
    const [contactId] = await addContacts(ctx, tenant, [{ email: 'ivy@gone.test' }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, listener.sink.port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    expect((await ctx.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
    await deliverAll(ctx, tenant, id, ctx.container.createWorker());
    const [sent] = await listener.sink.waitFor(1);
    const to = sent!.envelope.from!;
    // A bounce that names the address but cannot be read is kept…
    expect(await deliver(listener.port, to, 'Subject: failure\r\n\r\nivy@gone.test: no such user\r\n')).toEqual({ ok: true });
    const repos = repositoriesOf(ctx.container.database);
    expect(await repos.inboundReports.countUnmatched(tenant.tenantId)).toBe(1);

    expect((await ctx.request('DELETE', `/contacts/${contactId}`, { tenant })).statusCode).toBe(204);
    // …and goes with the person.
    expect(await repos.inboundReports.countUnmatched(tenant.tenantId)).toBe(0);

    expect(await deliver(listener.port, to, arf({ to, originalRecipient: 'ivy@gone.test' }))).toEqual({ ok: true });
    expect(await repos.contacts.getByEmail(tenant.tenantId, 'ivy@gone.test')).toBeUndefined();
    expect((await repos.suppressions.get(tenant.tenantId, 'ivy@gone.test'))?.reason).toBe('manual'); // erasure's own
    const events = (await ctx.request('GET', `/events?campaignId=${id}&limit=100`, { tenant })).json().data as EventView[];
    const complained = events.filter((e) => e.type === 'email.complained');
    expect(complained).toHaveLength(1);
    expect(complained[0]!.data).toMatchObject({ email: null, contactId: null });
    expect(JSON.stringify(events)).not.toContain('ivy@gone.test');
  });
});

describe.each(DIALECTS)('inbound rate limit (%s)', (dialect) => {
  const ctx = useTestApp(dialect, { bounceDomain: BOUNCE_DOMAIN });
  let inbound: InboundServer;
  let port = 0;
  beforeAll(async () => {
    inbound = ctx.container.createInboundServer({ host: '127.0.0.1', port: 0, limits: { messagesPerIp: 1, windowMs: 3_600_000 } });
    ({ port } = await inbound.listen());
  });
  afterAll(async () => inbound?.close());

  it('answers 450 once an address has sent its messages for the window', async () => {
    const tenant = await ctx.newTenant();
    const { bounceAddress, bounceKey } = await import('../../src/delivery/bounce-address.js');
    const { TEST_SECRET } = await import('../helpers/app.js');
    const to = bounceAddress(bounceKey(TEST_SECRET), { tenantId: tenant.tenantId, messageId: 999_999 }, BOUNCE_DOMAIN);
    const report = dsn({ to, finalRecipient: 'hal@late.test' });
    expect(await deliver(port, to, report)).toEqual({ ok: true }); // no such message: kept as unmatched
    expect(await deliver(port, to, report)).toMatchObject({ ok: false, code: 450 });
  });
});
