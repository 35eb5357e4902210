import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { useTestApp } from '../helpers/app.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { addContacts, createCampaign, getCampaign, publishedTemplate, smtpProject, waitForFanOut } from '../helpers/flow.js';

/**
 * Issue 12 item 4: the checks happen right before each send, not when the
 * batch was claimed. A project sending 1 email per second holds a claimed
 * batch in its rate limiter for seconds; a contact erased, suppressed or
 * opted out meanwhile must not be mailed.
 */
describe.each(DIALECTS)('send-time re-check under a slow project rate (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  let sink: SmtpSink;

  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => sink?.close());

  it('does not mail a contact erased, suppressed or opted out after the send started; skips them with the reason and counts them', async () => {
    const tenant = await ctx.newTenant();
    const emails = Array.from({ length: 7 }, (_, i) => `late${i}@recheck.test`);
    await addContacts(ctx, tenant, emails.map((email, i) => ({ email, externalId: `ext-${i}` })));
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, sink.port, { rateLimitPerSecond: 1 });
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    expect((await ctx.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
    await waitForFanOut(ctx, tenant, id);

    // The send order is the message id order: change three contacts near the end of it.
    const queued = await ctx.container.database.db
      .selectFrom('messages')
      .select(['id', 'email'])
      .where('campaign_id', '=', id)
      .orderBy('id')
      .execute();
    expect(queued).toHaveLength(7);
    const [erased, suppressed, optedOut] = queued.slice(4).map((m) => m.email!);

    const worker = ctx.container.createWorker({ batchSize: 20 });
    const round = worker.runOnce(); // claims all seven at once, then sends one per second
    const started = Date.now();
    while (sink.messages.length === 0) {
      if (Date.now() - started > 20_000) throw new Error('the first email never arrived');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const contact = (email: string) => `ext-${emails.indexOf(email)}`;
    expect((await ctx.request('DELETE', `/contacts/${contact(erased!)}`, { tenant })).statusCode).toBe(204);
    expect((await ctx.request('POST', '/suppressions', { tenant, body: { email: suppressed, reason: 'manual' } })).statusCode).toBe(201);
    const patched = await ctx.request('PATCH', `/contacts/${contact(optedOut!)}`, { tenant, body: { optIn: false } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(await round).toBe(7);

    const delivered = sink.messages.flatMap((m) => m.envelope.to);
    for (const email of [erased, suppressed, optedOut]) expect(delivered, email).not.toContain(email);
    expect(delivered.sort()).toEqual(queued.slice(0, 4).map((m) => m.email).sort());

    const log = (await ctx.request('GET', `/campaigns/${id}/messages?limit=100`, { tenant })).json().data as {
      email: string | null;
      status: string;
      skipReason: string | null;
    }[];
    const byEmail = new Map(log.map((m) => [m.email, m]));
    expect(byEmail.get(suppressed!)).toMatchObject({ status: 'SKIPPED', skipReason: 'suppressed' });
    expect(byEmail.get(optedOut!)).toMatchObject({ status: 'SKIPPED', skipReason: 'opted_out' });
    expect(byEmail.get(null)).toMatchObject({ status: 'SKIPPED', skipReason: 'contact_erased' }); // erasure blanked its address
    const campaign = await getCampaign(ctx, tenant, id);
    expect(campaign.status).toBe('SENT');
    expect(campaign.counters).toMatchObject({ total: 7, queued: 0, sent: 4, skipped: { suppressed: 1, optedOut: 1, erased: 1 } });
  }, 60_000);
});
