import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { useTestApp } from '../helpers/app.js';
import { startSmtpSink, type SmtpSink, type SmtpSinkOptions } from '../helpers/smtp-sink.js';
import { addContacts, createCampaign, deliverAll, getCampaign, publishedTemplate, smtpProject, waitForFanOut } from '../helpers/flow.js';
import { repositoriesOf } from '../helpers/factories.js';

const retry = { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 4000 };

/**
 * A sink that misbehaves the way real servers do: temporary refusals, a
 * connection cut in the middle of DATA, a server that stops answering, one
 * recipient that always fails, and a server that is down for a while.
 * Every message must end SENT or FAILED per policy, and the campaign SENT.
 */
describe.each(DIALECTS)('delivery under SMTP faults (%s)', (dialect) => {
  const ctx = useTestApp(dialect, { delivery: { socketTimeoutMs: 1500, maxConnections: 3 } });
  let sink: SmtpSink;
  const attempts = new Map<string, number>();
  const once = (address: string) => {
    const n = (attempts.get(address) ?? 0) + 1;
    attempts.set(address, n);
    return n === 1;
  };
  const faults: SmtpSinkOptions = {
    recipientResponse: (address) => {
      if (address.startsWith('poison')) return { code: 421, message: '4.7.0 Try again later' };
      if (address.startsWith('greylist') && once(address)) return { code: 451, message: '4.7.1 Greylisted' };
      return undefined;
    },
    dataFault: ([address]) => {
      if (address?.startsWith('drop') && once(address)) return 'drop';
      if (address?.startsWith('stall') && once(address)) return 'stall';
      if (address?.startsWith('busy') && once(address)) return { code: 452, message: '4.3.1 Insufficient storage' };
      return undefined;
    },
  };

  beforeAll(async () => {
    sink = await startSmtpSink(faults);
  });
  afterAll(async () => sink?.close());

  it('ends every message SENT or FAILED per policy, and one poisoned recipient blocks no one', async () => {
    const tenant = await ctx.newTenant();
    const fine = Array.from({ length: 20 }, (_, i) => `fine${i}@faults.test`);
    const tricky = ['greylist1@faults.test', 'greylist2@faults.test', 'drop1@faults.test', 'stall1@faults.test', 'busy1@faults.test'];
    await addContacts(ctx, tenant, [...fine, ...tricky, 'poison@faults.test'].map((email) => ({ email })));
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    await ctx.request('POST', `/campaigns/${id}/send`, { tenant });

    const campaign = await deliverAll(ctx, tenant, id, ctx.container.createWorker({ retry, batchSize: 10 }), { timeoutMs: 60_000 });
    expect(campaign.status).toBe('SENT');
    expect(campaign.counters).toMatchObject({ total: 26, queued: 0, sent: 25, failed: 1 });

    const delivered = new Set(sink.messages.flatMap((m) => m.envelope.to));
    for (const address of [...fine, ...tricky]) expect(delivered.has(address), address).toBe(true);
    expect(delivered.has('poison@faults.test')).toBe(false);

    const log = (await ctx.request('GET', `/campaigns/${id}/messages?limit=100`, { tenant })).json().data as {
      email: string;
      status: string;
      attempts: number;
      lastError: string | null;
    }[];
    const byEmail = new Map(log.map((m) => [m.email, m]));
    expect(byEmail.get('poison@faults.test')).toMatchObject({ status: 'FAILED', attempts: retry.maxAttempts });
    expect(byEmail.get('poison@faults.test')!.lastError).toContain('421');
    for (const address of tricky) expect(byEmail.get(address), address).toMatchObject({ status: 'SENT', attempts: 2 });
    for (const address of fine) expect(byEmail.get(address)!.attempts, address).toBe(1);
    // 4xx never suppresses.
    expect(await repositoriesOf(ctx.container.database).suppressions.isSuppressed(tenant.tenantId, 'poison@faults.test')).toBe(false);
  });

  it('waits out a server that is down for a while, then delivers everything', async () => {
    const tenant = await ctx.newTenant();
    const down = await startSmtpSink();
    const port = down.port;
    await down.close(); // the server is down before the campaign starts
    const addresses = Array.from({ length: 8 }, (_, i) => `r${i}@outage.test`);
    await addContacts(ctx, tenant, addresses.map((email) => ({ email })));
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    await ctx.request('POST', `/campaigns/${id}/send`, { tenant });
    await waitForFanOut(ctx, tenant, id);

    const worker = ctx.container.createWorker({ retry });
    expect(await worker.runOnce()).toBe(8); // every attempt refused: all back in the queue, with a backoff
    const waiting = await getCampaign(ctx, tenant, id);
    expect(waiting).toMatchObject({ status: 'SENDING', counters: { queued: 8, sent: 0, failed: 0 } });
    expect(await worker.runOnce()).toBe(0); // nothing due before the backoff

    const back = await startSmtpSink({ port });
    try {
      const done = await deliverAll(ctx, tenant, id, worker);
      expect(done.counters).toMatchObject({ sent: 8, failed: 0 });
      expect(new Set(back.messages.flatMap((m) => m.envelope.to))).toEqual(new Set(addresses));
    } finally {
      await back.close();
    }
  });
});
