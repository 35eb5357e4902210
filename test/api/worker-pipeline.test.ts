import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MessageOutcome } from '../../src/delivery/delivery-store.js';
import { DIALECTS } from '../helpers/databases.js';
import { useTestApp, type TestContext } from '../helpers/app.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { addContacts, createCampaign, publishedTemplate, smtpProject, waitForFanOut } from '../helpers/flow.js';

/**
 * The DeliveryWorker's own loop (start/stop), against a real SMTP sink: sends
 * go on while a batch's outcomes are written (no batch barrier), without ever
 * holding more than a batch claimed and unrecorded, and stop() leaves every
 * email sent exactly once.
 */
describe.each(DIALECTS)('delivery worker loop (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  let sink: SmtpSink;

  beforeAll(async () => {
    sink = await startSmtpSink({ parse: false });
  });
  afterAll(async () => sink?.close());
  afterEach(() => {
    vi.restoreAllMocks();
    sink.reset();
  });

  async function sendingCampaign(domain: string, recipients: number): Promise<{ id: string; emails: string[] }> {
    const tenant = await ctx.newTenant();
    const emails = Array.from({ length: recipients }, (_, i) => `r${i}@${domain}`);
    await addContacts(ctx, tenant, emails.map((email) => ({ email })));
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    expect((await ctx.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
    await waitForFanOut(ctx, tenant, id);
    return { id, emails };
  }

  const copiesPerRecipient = () => {
    const copies = new Map<string, number>();
    for (const message of sink.messages) for (const to of message.envelope.to) copies.set(to, (copies.get(to) ?? 0) + 1);
    return copies;
  };

  it('keeps sending the next batch while a batch’s outcomes are being written, with at most a batch unrecorded', async () => {
    const batchSize = 10;
    const { id, emails } = await sendingCampaign('overlap.test', 40);
    const repository = ctx.container.deliveryStore;
    const recordOutcomes = repository.recordOutcomes.bind(repository);
    const held: { recording: number; sentMeanwhile: boolean; claimedUnrecorded: number }[] = [];
    // The first write of outcomes is held until emails beyond that batch reach the sink (or 10 s pass:
    // a worker that waits for the write before sending again never gets there).
    vi.spyOn(repository, 'recordOutcomes').mockImplementationOnce(async (owner: string, outcomes: readonly MessageOutcome[], now: Date) => {
      const sentMeanwhile = await sink.waitFor(outcomes.length + 1, 10_000).then(
        () => true,
        () => false,
      );
      held.push({ recording: outcomes.length, sentMeanwhile, claimedUnrecorded: await leasedBy(ctx, owner) });
      return recordOutcomes(owner, outcomes, now);
    });

    const worker = ctx.container.createWorker({ loops: 1, batchSize, sendConcurrency: 2, idlePollMs: 20 });
    worker.start();
    try {
      const campaign = await until(() => getCampaignStatus(ctx, id), (status) => status === 'SENT');
      expect(campaign).toBe('SENT');
    } finally {
      await worker.stop();
    }

    expect(held).toHaveLength(1);
    expect(held[0]!.sentMeanwhile, 'sends stopped while a batch was being recorded').toBe(true);
    expect(held[0]!.claimedUnrecorded).toBeLessThanOrEqual(batchSize);
    const copies = copiesPerRecipient();
    expect([...copies.keys()].sort()).toEqual([...emails].sort());
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
  });

  it('stop(): in-flight sends finish and are recorded, nothing stays leased, and another worker finishes exactly once', async () => {
    const { id, emails } = await sendingCampaign('stop.test', 60);
    const worker = ctx.container.createWorker({ loops: 2, batchSize: 10, sendConcurrency: 3, idlePollMs: 20 });
    worker.start();
    await sink.waitFor(15);
    await worker.stop();

    const rows = await ctx.container.database.db
      .selectFrom('messages')
      .select(['status', 'lease_owner', 'attempts'])
      .where('campaign_id', '=', id)
      .execute();
    expect(rows.filter((r) => r.status === 'SENDING' || r.lease_owner !== null)).toEqual([]);
    expect(rows.filter((r) => r.status === 'SENT')).toHaveLength(sink.messages.length);
    expect(rows.filter((r) => r.status === 'QUEUED').every((r) => r.attempts === 0)).toBe(true);

    const after = ctx.container.createWorker();
    for (let round = 0; round < 100 && (await getCampaignStatus(ctx, id)) === 'SENDING'; round++) await after.runOnce();
    expect(await getCampaignStatus(ctx, id)).toBe('SENT');
    const copies = copiesPerRecipient();
    expect([...copies.keys()].sort()).toEqual([...emails].sort());
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
  });
});

async function leasedBy(ctx: TestContext, owner: string): Promise<number> {
  const row = await ctx.container.database.db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'SENDING')
    .where('lease_owner', '=', owner)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function getCampaignStatus(ctx: TestContext, id: string): Promise<string> {
  const row = await ctx.container.database.db.selectFrom('campaigns').select('status').where('id', '=', id).executeTakeFirstOrThrow();
  return row.status;
}

/** Polls `read` until `done` says so (20 s at most), and returns the last value. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
