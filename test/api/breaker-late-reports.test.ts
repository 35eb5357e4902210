import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { useTestApp, type TestTenant } from '../helpers/app.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { addContacts, createCampaign, getCampaign, publishedTemplate, smtpProject, waitForFanOut } from '../helpers/flow.js';
import { arf, dsn } from '../helpers/reports.js';
import type { InboundServer } from '../../src/inbound/inbound-server.js';

const BOUNCE_DOMAIN = 'bounces.mailingcore.test';

interface CampaignBody {
  status: string;
  pausedReason: string | null;
  counters: { total: number; queued: number; sent: number };
}

/** Sends `raw` to the inbound listener as an MTA would. */
async function deliver(port: number, to: string, raw: string): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ envelope: { from: 'mailer-daemon@mx.receiver.test', to }, raw });
  } finally {
    transport.close();
  }
}

/**
 * The circuit breaker judges a campaign again when a complaint (ARF) or a
 * late hard bounce (DSN) arrives through the inbound listener after its
 * last batch: same rules, same BREAKER_* (BREAKER_MIN_SENT lowered to 20,
 * the rates at their defaults, 5 % and 0.3 %), same baseline after a
 * resume. A campaign that is SENDING because one address keeps answering
 * 451 (its retry waits on the test clock) has 20 emails sent and one queued.
 */
describe.each(DIALECTS)('circuit breaker on late reports (%s)', (dialect) => {
  const ctx = useTestApp(dialect, { bounceDomain: BOUNCE_DOMAIN, breaker: { minSent: 20 } });
  let sink: SmtpSink;
  let inbound: InboundServer;
  let port = 0;

  beforeAll(async () => {
    sink = await startSmtpSink({
      parse: false,
      recipientResponse: (address) => (address.startsWith('held@') ? { code: 451, message: '4.2.0 try again later' } : undefined),
    });
    inbound = ctx.container.createInboundServer({ host: '127.0.0.1', port: 0 });
    ({ port } = await inbound.listen());
  });
  afterAll(async () => {
    await inbound?.close();
    await sink?.close();
  });

  const campaignOf = async (tenant: TestTenant, id: string) => (await ctx.request('GET', `/campaigns/${id}`, { tenant })).json() as CampaignBody;
  const campaignEvents = async (tenant: TestTenant, id: string) =>
    ((await ctx.request('GET', `/events?campaignId=${id}&limit=500`, { tenant })).json().data as { type: string; data: Record<string, unknown> }[])
      .filter((e) => e.type.startsWith('campaign.'))
      .reverse();

  /**
   * 20 recipients sent (and `held@` kept queued when `held`), every due
   * message handled; the VERP return path of each recipient's email.
   */
  async function campaignAfterLastBatch(tenant: TestTenant, domain: string, held = true) {
    const emails = Array.from({ length: 20 }, (_, i) => `r${i + 1}@${domain}`);
    await addContacts(ctx, tenant, [...emails, ...(held ? [`held@${domain}`] : [])].map((email) => ({ email })));
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    expect((await ctx.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
    await waitForFanOut(ctx, tenant, id);
    const worker = ctx.container.createWorker({ batchSize: 10 });
    for (let i = 0; i < 20 && (await worker.runOnce()) > 0; i++);
    const returnPath = new Map(sink.messages.filter((m) => m.envelope.to[0]!.endsWith(`@${domain}`)).map((m) => [m.envelope.to[0]!, m.envelope.from!]));
    expect(returnPath.size).toBe(20);
    return { id, emails, returnPath, worker };
  }
  const complain = (returnPath: Map<string, string>, email: string) => {
    const to = returnPath.get(email)!;
    return deliver(port, to, arf({ to, originalRecipient: email }));
  };
  const hardBounce = (returnPath: Map<string, string>, email: string) => {
    const to = returnPath.get(email)!;
    return deliver(port, to, dsn({ to, finalRecipient: email }));
  };

  it('a complaint that takes a SENDING campaign over 0.3 % pauses it with the reason and campaign.paused; after a resume only what follows counts', async () => {
    const tenant = await ctx.newTenant();
    const { id, emails, returnPath, worker } = await campaignAfterLastBatch(tenant, 'arf.test');
    expect(await campaignOf(tenant, id)).toMatchObject({ status: 'SENDING', counters: { sent: 20, queued: 1 } });

    await complain(returnPath, emails[0]!);
    const paused = await campaignOf(tenant, id);
    expect(paused).toMatchObject({ status: 'PAUSED', pausedReason: 'circuit breaker: complaint rate 5 % above 0.3 % (1 of 20)', counters: { queued: 1 } });
    const events = await campaignEvents(tenant, id);
    expect(events.map((e) => e.type)).toEqual(['campaign.sending', 'campaign.paused']);
    expect(events[1]!.data.reason).toBe(paused.pausedReason);
    // Paused: the held message is parked, whatever the clock says.
    ctx.clock.advance(60 * 60_000);
    expect(await worker.runOnce()).toBe(0);

    // Resumed: the baseline is the counts so far; one more complaint is judged on what was sent since (nothing yet).
    expect((await ctx.request('POST', `/campaigns/${id}/resume`, { tenant })).statusCode).toBe(200);
    await complain(returnPath, emails[1]!);
    expect(await campaignOf(tenant, id)).toMatchObject({ status: 'SENDING', pausedReason: null });
    expect((await campaignEvents(tenant, id)).map((e) => e.type)).toEqual(['campaign.sending', 'campaign.paused', 'campaign.resumed']);
  });

  it('late hard bounces: at the line (1 of 20, 5 %) the campaign keeps SENDING; above it (2 of 20) it is PAUSED', async () => {
    const tenant = await ctx.newTenant();
    const { id, emails, returnPath } = await campaignAfterLastBatch(tenant, 'dsn.test');

    await hardBounce(returnPath, emails[0]!);
    expect(await campaignOf(tenant, id)).toMatchObject({ status: 'SENDING', pausedReason: null });
    // The same DSN again counts once: still at the line.
    await hardBounce(returnPath, emails[0]!);
    expect((await campaignOf(tenant, id)).status).toBe('SENDING');

    // A late bounce's message was counted as sent: it counts once, as bounced (2 of 20, not 2 of 22).
    await hardBounce(returnPath, emails[1]!);
    const paused = await campaignOf(tenant, id);
    expect(paused).toMatchObject({ status: 'PAUSED', pausedReason: 'circuit breaker: hard-bounce rate 10 % above 5 % (2 of 20)' });
    expect((await campaignEvents(tenant, id)).map((e) => [e.type, e.data.reason ?? null])).toEqual([
      ['campaign.sending', null],
      ['campaign.paused', paused.pausedReason],
    ]);
  });

  it('below BREAKER_MIN_SENT a complaint pauses nothing; a SENT campaign is not paused (nothing is left to stop)', async () => {
    const small = await ctx.newTenant();
    await addContacts(ctx, small, [{ email: 'held@few.test' }, { email: 'one@few.test' }]);
    const { baseVersionId } = await publishedTemplate(ctx, small);
    const smallId = await createCampaign(ctx, small, { templateVersionId: baseVersionId, projectId: await smtpProject(ctx, small, sink.port) });
    expect((await ctx.request('POST', `/campaigns/${smallId}/send`, { tenant: small })).statusCode).toBe(202);
    await waitForFanOut(ctx, small, smallId);
    const worker = ctx.container.createWorker();
    for (let i = 0; i < 5 && (await worker.runOnce()) > 0; i++);
    const sent = sink.messages.find((m) => m.envelope.to[0] === 'one@few.test')!;
    await deliver(port, sent.envelope.from!, arf({ to: sent.envelope.from!, originalRecipient: 'one@few.test' }));
    expect(await campaignOf(small, smallId)).toMatchObject({ status: 'SENDING', counters: { sent: 1, queued: 1 } });

    const tenant = await ctx.newTenant();
    const { id, emails, returnPath } = await campaignAfterLastBatch(tenant, 'done.test', false);
    expect((await getCampaign(ctx, tenant, id)).status).toBe('SENT');
    for (const email of emails.slice(0, 3)) await complain(returnPath, email);
    const stats = (await ctx.request('GET', `/campaigns/${id}/stats`, { tenant })).json() as { complained: number };
    expect(stats.complained).toBe(3);
    expect(await campaignOf(tenant, id)).toMatchObject({ status: 'SENT', pausedReason: null });
    expect((await campaignEvents(tenant, id)).map((e) => e.type)).toEqual(['campaign.sending', 'campaign.sent']);
  });
});
