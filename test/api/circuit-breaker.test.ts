import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { useTestApp, type TestContext, type TestTenant } from '../helpers/app.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { addContacts, createCampaign, deliverAll, getCampaign, publishedTemplate, smtpProject, waitForFanOut } from '../helpers/flow.js';
import type { DeliveryWorker } from '../../src/delivery/worker.js';

interface CampaignBody {
  status: string;
  pausedReason: string | null;
  counters: { total: number; queued: number; sent: number; failed: number; cancelled: number };
}

interface MessageView {
  email: string;
  status: string;
  attempts: number;
}

/**
 * The circuit breaker and PAUSED through the API with a real SMTP server:
 * one recipient in ten answered `550 5.1.1` after DATA trips the breaker
 * (BREAKER_MIN_SENT lowered to 20); a paused campaign sends nothing, keeps
 * its messages queued, and resumes to mail everyone exactly once.
 */
describe.each(DIALECTS)('circuit breaker and PAUSED (%s)', (dialect) => {
  const ctx: TestContext = useTestApp(dialect, { delivery: { socketTimeoutMs: 5000 }, breaker: { minSent: 20 } });
  let sink: SmtpSink;
  let faulty = true;
  /** Every address the sink was asked to take a message for, accepted or refused. */
  const attempts: string[] = [];

  beforeAll(async () => {
    sink = await startSmtpSink({
      parse: false,
      dataFault: ([address]) => {
        if (address) attempts.push(address);
        if (faulty && address && /^r\d*0@/.test(address)) return { code: 550, message: '5.1.1 user unknown' };
        return undefined;
      },
    });
  });
  afterAll(async () => sink?.close());

  const post = (tenant: TestTenant, path: string) => ctx.request('POST', path, { tenant });
  const campaignOf = async (tenant: TestTenant, id: string) => (await ctx.request('GET', `/campaigns/${id}`, { tenant })).json() as CampaignBody;
  const messagesOf = async (tenant: TestTenant, id: string) =>
    (await ctx.request('GET', `/campaigns/${id}/messages?limit=200`, { tenant })).json().data as MessageView[];
  const eventTypes = async (tenant: TestTenant, id: string) =>
    ((await ctx.request('GET', `/events?campaignId=${id}&limit=500`, { tenant })).json().data as { type: string; data: Record<string, unknown> }[]).filter((e) =>
      e.type.startsWith('campaign.'),
    );

  async function sendingCampaign(count: number, port = sink.port) {
    const tenant = await ctx.newTenant();
    const emails = Array.from({ length: count }, (_, i) => `r${i + 1}@breaker.test`);
    await addContacts(ctx, tenant, emails.map((email) => ({ email })));
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    expect((await post(tenant, `/campaigns/${id}/send`)).statusCode).toBe(202);
    await waitForFanOut(ctx, tenant, id);
    return { tenant, id, emails };
  }

  /** Worker rounds until the campaign leaves SENDING or nothing is due. */
  async function runWhileSending(tenant: TestTenant, id: string, worker: DeliveryWorker) {
    for (let i = 0; i < 100; i++) {
      const handled = await worker.runOnce();
      if ((await getCampaign(ctx, tenant, id)).status !== 'SENDING' || handled === 0) return;
    }
  }

  it('pauses a campaign whose hard-bounce rate passes 5 %, sends nothing while paused, and resumes to mail everyone once', async () => {
    faulty = true;
    attempts.length = 0;
    const { tenant, id, emails } = await sendingCampaign(100);
    const worker = ctx.container.createWorker({ batchSize: 10, sendConcurrency: 2 });

    await runWhileSending(tenant, id, worker);
    const paused = await campaignOf(tenant, id);
    expect(paused.status).toBe('PAUSED');
    expect(paused.pausedReason).toMatch(/^circuit breaker: hard-bounce rate [\d.]+ % above 5 % \(\d+ of \d+\)$/);
    expect(paused.counters.queued).toBeGreaterThan(0);
    const sentBefore = attempts.length;

    // Paused: nothing is claimed, whatever the clock says; the messages stay QUEUED.
    for (let i = 0; i < 3; i++) {
      ctx.clock.advance(60 * 60_000);
      expect(await worker.runOnce()).toBe(0);
    }
    expect(attempts).toHaveLength(sentBefore);
    const waiting = (await messagesOf(tenant, id)).filter((m) => m.status === 'QUEUED');
    expect(waiting).toHaveLength(paused.counters.queued);
    expect((await post(tenant, `/campaigns/${id}/pause`)).statusCode).toBe(409);

    const events = await eventTypes(tenant, id);
    expect(events.map((e) => e.type)).toContain('campaign.paused');
    expect(events.find((e) => e.type === 'campaign.paused')?.data.reason).toBe(paused.pausedReason);

    // The list was cleaned: resume, and the breaker judges only what is sent from now on.
    faulty = false;
    const resumed = await post(tenant, `/campaigns/${id}/resume`);
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect(resumed.json()).toMatchObject({ status: 'SENDING', pausedReason: null });
    expect((await post(tenant, `/campaigns/${id}/resume`)).statusCode).toBe(409);
    const done = await deliverAll(ctx, tenant, id, worker);
    expect(done.status).toBe('SENT');
    expect(done.counters).toMatchObject({ total: 100, queued: 0, sent: 100 - paused.counters.failed, failed: paused.counters.failed });
    expect([...attempts].sort()).toEqual([...emails].sort()); // every recipient exactly once
    expect((await eventTypes(tenant, id)).map((e) => e.type).reverse()).toEqual(['campaign.sending', 'campaign.paused', 'campaign.resumed', 'campaign.sent']);
  });

  it('pauses and resumes by hand; an email in flight at the pause goes back to the queue, not lost, not sent twice', async () => {
    faulty = false;
    attempts.length = 0;
    // One send at a time through a slow server: the pause lands while the batch is in flight.
    const slow = await startSmtpSink({
      parse: false,
      delayMs: 150,
      dataFault: ([address]) => {
        if (address) attempts.push(address);
        return undefined;
      },
    });
    try {
      const { tenant, id, emails } = await sendingCampaign(30, slow.port);
      const worker = ctx.container.createWorker({ batchSize: 20, sendConcurrency: 1 });
      const round = worker.runOnce();
      for (let i = 0; i < 200 && attempts.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      const pause = await post(tenant, `/campaigns/${id}/pause`);
      expect(pause.statusCode, pause.body).toBe(200);
      expect(pause.json()).toMatchObject({ status: 'PAUSED', pausedReason: 'manual' });
      await round;
      const sentWhilePausing = attempts.length;
      expect(sentWhilePausing).toBeLessThan(20); // the rest of the claimed batch went back to the queue

      const log = await messagesOf(tenant, id);
      expect(log.filter((m) => m.status === 'SENDING')).toHaveLength(0);
      expect(log.filter((m) => m.status === 'QUEUED')).toHaveLength(30 - sentWhilePausing);
      expect(log.filter((m) => m.status === 'CANCELLED')).toHaveLength(0);
      ctx.clock.advance(60 * 60_000);
      expect(await worker.runOnce()).toBe(0);

      expect((await post(tenant, `/campaigns/${id}/resume`)).statusCode).toBe(200);
      const done = await deliverAll(ctx, tenant, id, worker);
      expect(done).toMatchObject({ status: 'SENT', counters: { total: 30, sent: 30, failed: 0, queued: 0 } });
      expect([...attempts].sort()).toEqual([...emails].sort());
      // A requeued message did not spend an attempt.
      expect((await messagesOf(tenant, id)).every((m) => m.attempts === 1)).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it('cancels a paused campaign (its waiting messages with it); refuses pause and resume where they do not apply', async () => {
    faulty = false;
    const { tenant, id } = await sendingCampaign(5);
    expect((await post(tenant, `/campaigns/${id}/pause`)).statusCode).toBe(200);
    const cancelled = await post(tenant, `/campaigns/${id}/cancel`);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'CANCELLED', pausedReason: null, counters: { cancelled: 5, queued: 0 } });
    for (const action of ['pause', 'resume']) {
      const refused = await post(tenant, `/campaigns/${id}/${action}`);
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({ code: 'INVALID_STATE' });
    }
    const draft = await createCampaign(ctx, tenant, { name: 'Draft' });
    expect((await post(tenant, `/campaigns/${draft}/pause`)).statusCode).toBe(409);
    expect((await post(tenant, `/campaigns/${draft}/resume`)).statusCode).toBe(409);
    expect((await post(tenant, `/campaigns/00000000-0000-7000-8000-000000000999/pause`)).statusCode).toBe(404);
    const other = await ctx.newTenant();
    expect((await post(other, `/campaigns/${id}/resume`)).statusCode).toBe(404);
    expect((await ctx.request('GET', `/campaigns?status=PAUSED`, { tenant })).statusCode).toBe(200);
  });
});
