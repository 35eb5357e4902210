import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContainer, type Container } from '../../src/container.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { SendRateRepository } from '../../src/delivery/send-rate.repository.js';
import { DIALECTS } from '../helpers/databases.js';
import { TEST_OUTBOUND, TEST_SECRET, useTestApp } from '../helpers/app.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { addContacts, createCampaign, getCampaign, publishedTemplate, smtpProject, waitForFanOut } from '../helpers/flow.js';

/**
 * Issue 18, delivery across connections and worker processes.
 *
 * A project's `maxConnections` is how many SMTP connections a worker opens to
 * its server (the sink counts sessions), with enough sends in flight to use
 * them all.
 *
 * A project's `rateLimitPerSecond` holds across worker processes,
 * not per process. Two containers (as two `mailingcore worker` processes
 * would be) on one database, each with its own worker, send one campaign
 * through a rate-limited project to a real SMTP sink; the sink's arrival
 * times are counted per window. Each process's own token bucket would let a
 * second's burst plus a second's rate through, each: four times the limit
 * in the first second between two processes.
 */
describe.each(DIALECTS)('delivery across connections and worker processes (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  let sink: SmtpSink;
  let second: { database: Database; container: Container };

  beforeAll(async () => {
    sink = await startSmtpSink({ parse: false });
    const database = openDatabase(ctx.databaseConfig, { poolSize: 5 });
    second = {
      database,
      container: createContainer(database, { clock: ctx.clock.fn, secret: TEST_SECRET, outbound: TEST_OUTBOUND, rateLimit: { max: 1_000_000, windowMs: 60_000 } }),
    };
  });
  afterAll(async () => {
    await second?.container.close();
    await sink?.close();
  });

  it("opens as many SMTP connections as the project's maxConnections, and uses them all at once", async () => {
    const slow = await startSmtpSink({ parse: false, delayMs: 150 });
    try {
      const recipients = 24;
      const tenant = await ctx.newTenant();
      const emails = Array.from({ length: recipients }, (_, i) => `c${i}@connections.test`);
      await addContacts(ctx, tenant, emails.map((email) => ({ email })));
      const { baseVersionId } = await publishedTemplate(ctx, tenant);
      const projectId = await smtpProject(ctx, tenant, slow.port, { maxConnections: 8 });
      const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
      expect((await ctx.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
      await waitForFanOut(ctx, tenant, id);
      // In flight: the process default (5 connections) would give 2 loops × 10 slots; 8 connections still fit.
      const worker = ctx.container.createWorker({ idlePollMs: 20 });
      worker.start();
      try {
        await slow.waitFor(recipients, 30_000);
      } finally {
        await worker.stop();
      }
      // The pool opens a connection only while every open one is busy and a message waits: eight sessions, eight at once.
      expect(slow.sessions).toHaveLength(8);
      expect(new Set(slow.messages.map((m) => m.envelope.to[0])).size).toBe(recipients);
    } finally {
      ctx.container.transports.close();
      await slow.close();
    }
  });

  it('grants at most one burst at once to concurrent reservations from two database handles, then the rate', async () => {
    const tenant = await ctx.newTenant();
    const projectId = await smtpProject(ctx, tenant, sink.port);
    // 100 per second: a burst of 10 sends, then one every 10 ms.
    const rate = { tenantId: tenant.tenantId, key: projectId, perSecond: 100 };
    const handles = [ctx.container.database, second.database].map((d) => new SendRateRepository(d.db, d.dialect));
    const started = Date.now();
    const grants = await Promise.all(Array.from({ length: 20 }, (_, i) => handles[i % 2]!.reserve(rate, 3)));
    const elapsed = Date.now() - started;
    const granted = grants.reduce((sum, g) => sum + g.granted, 0);
    // Whatever the interleaving: one burst, plus what the pace let through while the statements ran (and one for rounding).
    expect(granted).toBeGreaterThanOrEqual(10);
    expect(granted).toBeLessThanOrEqual(10 + Math.ceil(elapsed / 10) + 1);
    // A caller told "fewer than asked" is told when the rest falls due: within a burst's time.
    const short = grants.find((g) => g.granted < 3);
    expect(short).toBeDefined();
    expect(short!.retryInMs).toBeGreaterThan(0);
    expect(short!.retryInMs).toBeLessThanOrEqual(100);
    // A project's limit is its own.
    const other = { ...rate, key: await smtpProject(ctx, tenant, sink.port) };
    expect((await handles[0]!.reserve(other, 3)).granted).toBe(3);
  });

  it('two workers on one database send at most the limit per second between them (plus a burst of one second)', async () => {
    const limit = 8;
    const recipients = 48;
    const tenant = await ctx.newTenant();
    const emails = Array.from({ length: recipients }, (_, i) => `r${i}@shared-rate.test`);
    await addContacts(ctx, tenant, emails.map((email) => ({ email })));
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, sink.port, { rateLimitPerSecond: limit });
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    expect((await ctx.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
    await waitForFanOut(ctx, tenant, id);

    // Small batches, so that both processes hold work the whole time.
    const sentBy = [ctx.container, second.container].map((container) => {
      const counted = { sent: 0 };
      const store = container.deliveryStore;
      const recordOutcomes = store.recordOutcomes.bind(store);
      store.recordOutcomes = async (owner, outcomes, now) => {
        counted.sent += outcomes.filter((o) => o.kind === 'sent').length;
        return recordOutcomes(owner, outcomes, now);
      };
      return counted;
    });
    const workers = [ctx.container, second.container].map((container) => container.createWorker({ batchSize: 4, idlePollMs: 20 }));
    for (const worker of workers) worker.start();
    try {
      await sink.waitFor(recipients, 60_000);
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }

    const delivered = sink.messages.filter((m) => m.envelope.to[0]?.endsWith('@shared-rate.test'));
    expect(new Set(delivered.map((m) => m.envelope.to[0])).size).toBe(recipients);
    expect(delivered).toHaveLength(recipients);
    for (const counted of sentBy) expect(counted.sent).toBeGreaterThan(0);
    const times = delivered.map((m) => m.receivedAt).sort((a, b) => a - b);
    // In any span of w seconds: at most w × limit, plus a burst of one second's worth at most (the
    // budget's own burst is a tenth of that; the rest is room for the time between a grant and the sink).
    for (const seconds of [1, 2, 3]) {
      let most = 0;
      for (let i = 0, j = 0; i < times.length; i++) {
        while (times[i]! - times[j]! >= seconds * 1000) j++;
        most = Math.max(most, i - j + 1);
      }
      expect(most, `messages within ${seconds} s`).toBeLessThanOrEqual((seconds + 1) * limit);
    }
    expect((await getCampaign(ctx, tenant, id)).counters.sent).toBe(recipients);
  }, 90_000);
});
