import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { useTestApp, type TestTenant } from '../helpers/app.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { addContacts, createCampaign, deliverAll, publishedTemplate, smtpProject } from '../helpers/flow.js';
import { repositoriesOf } from '../helpers/factories.js';

const retry = { maxAttempts: 2, baseDelayMs: 1000, maxDelayMs: 1000 };

interface EventView {
  type: string;
  data: { email: string | null; bounceType?: string; diagnostic?: string; error?: string; reason?: string };
}

/**
 * Refusals from a real SMTP server, at RCPT TO and after DATA, end as
 * bounce-classification.ts says: hard bounces suppressed, soft and blocked
 * ones not; the campaign's counters, stats and events agree; soft bounces in
 * a row across campaigns suppress the address, a delivery resets the run.
 */
describe.each(DIALECTS)('bounces by enhanced status code (%s)', (dialect) => {
  const ctx = useTestApp(dialect, { delivery: { socketTimeoutMs: 5000 } });
  let sink: SmtpSink;
  /** Address → the answer after DATA (undefined: accepted). */
  const afterData = new Map<string, { code: number; message: string }>();

  beforeAll(async () => {
    sink = await startSmtpSink({
      recipientResponse: (address) => {
        if (address.startsWith('unknown-rcpt')) return { code: 550, message: '5.1.1 No such user here' };
        if (address.startsWith('greylisted')) return { code: 451, message: '4.2.0 Mailbox busy, try again later' };
        return undefined;
      },
      dataFault: ([address]) => (address ? afterData.get(address) : undefined),
    });
  });
  afterAll(async () => sink?.close());

  const repos = () => repositoriesOf(ctx.container.database);
  const reasonOf = async (tenant: TestTenant, email: string) => (await repos().suppressions.get(tenant.tenantId, email))?.reason;

  async function sendCampaign(tenant: TestTenant, versionId: string, projectId: string) {
    const id = await createCampaign(ctx, tenant, { templateVersionId: versionId, projectId });
    expect((await ctx.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
    const campaign = await deliverAll(ctx, tenant, id, ctx.container.createWorker({ retry }));
    const events = (await ctx.request('GET', `/events?campaignId=${id}&limit=100`, { tenant })).json().data as EventView[];
    return { id, campaign, eventOf: (email: string) => events.filter((e) => e.data.email === email) };
  }

  it('classifies each refusal by its enhanced code, whatever the stage', async () => {
    const tenant = await ctx.newTenant();
    afterData.set('unknown-data@bounce.test', { code: 550, message: '5.1.1 <unknown-data@bounce.test>: user unknown' });
    afterData.set('full@bounce.test', { code: 552, message: '5.2.2 Mailbox full' });
    afterData.set('spam@bounce.test', { code: 554, message: '5.7.1 Message rejected as spam' });
    afterData.set('plain@bounce.test', { code: 554, message: 'Transaction failed' });
    const emails = ['ok@bounce.test', 'unknown-rcpt@bounce.test', 'unknown-data@bounce.test', 'full@bounce.test', 'spam@bounce.test', 'greylisted@bounce.test', 'plain@bounce.test'];
    await addContacts(ctx, tenant, emails.map((email) => ({ email })));
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, sink.port);

    const { id, campaign, eventOf } = await sendCampaign(tenant, baseVersionId, projectId);
    expect(campaign).toMatchObject({ status: 'SENT', counters: { total: 7, queued: 0, sent: 1, failed: 6 } });

    const log = (await ctx.request('GET', `/campaigns/${id}/messages?limit=100`, { tenant })).json().data as { email: string; status: string; attempts: number }[];
    const byEmail = new Map(log.map((m) => [m.email, m]));
    for (const email of emails.slice(1)) expect(byEmail.get(email)?.status, email).toBe('FAILED');
    expect(byEmail.get('greylisted@bounce.test')?.attempts).toBe(retry.maxAttempts); // 4.x.x: retried, then given up
    expect(byEmail.get('full@bounce.test')?.attempts).toBe(1); // 5.2.2: permanent, not retried

    // Hard bounces are suppressed, at RCPT TO and after DATA alike; soft, blocked and plain failures are not.
    expect(await reasonOf(tenant, 'unknown-rcpt@bounce.test')).toBe('bounce');
    expect(await reasonOf(tenant, 'unknown-data@bounce.test')).toBe('bounce');
    for (const email of ['full@bounce.test', 'spam@bounce.test', 'greylisted@bounce.test', 'plain@bounce.test', 'ok@bounce.test']) {
      expect(await reasonOf(tenant, email), email).toBeUndefined();
    }

    const only = (email: string) => {
      const events = eventOf(email);
      expect(events, email).toHaveLength(1);
      return events[0]!;
    };
    expect(only('ok@bounce.test').type).toBe('email.sent');
    for (const email of ['unknown-rcpt@bounce.test', 'unknown-data@bounce.test']) {
      expect(only(email)).toMatchObject({ type: 'email.bounced', data: { bounceType: 'hard' } });
      expect(only(email).data.diagnostic).toContain('5.1.1');
    }
    expect(only('full@bounce.test')).toMatchObject({ type: 'email.bounced', data: { bounceType: 'soft' } });
    expect(only('full@bounce.test').data.diagnostic).toContain('5.2.2');
    expect(only('greylisted@bounce.test')).toMatchObject({ type: 'email.bounced', data: { bounceType: 'soft' } });
    expect(only('spam@bounce.test')).toMatchObject({ type: 'email.failed', data: { reason: 'blocked' } });
    expect(only('spam@bounce.test').data.error).toContain('5.7.1');
    expect(only('plain@bounce.test').type).toBe('email.failed');
    expect(only('plain@bounce.test').data.reason).toBeUndefined();

    const stats = (await ctx.request('GET', `/campaigns/${id}/stats`, { tenant })).json();
    expect(stats).toMatchObject({ sent: 1, failed: 2, bounced: { hard: 2, soft: 2 } });

    // The two soft bounces started runs; the delivered address has none.
    expect(await repos().softBounces.runOf(tenant.tenantId, 'full@bounce.test')).toBe(1);
    expect(await repos().softBounces.runOf(tenant.tenantId, 'greylisted@bounce.test')).toBe(1);
    expect(await repos().softBounces.runOf(tenant.tenantId, 'spam@bounce.test')).toBe(0);
  });

  it('suppresses an address after 3 soft bounces in a row across campaigns; a delivery resets the run; erasure removes it', async () => {
    const tenant = await ctx.newTenant();
    const full = { code: 552, message: '5.2.2 Mailbox full' };
    const [steadyId, recoversId, erasedId] = await addContacts(ctx, tenant, [
      { email: 'steady@runs.test' },
      { email: 'recovers@runs.test' },
      { email: 'erased@runs.test' },
    ]);
    expect(steadyId && recoversId && erasedId).toBeTruthy();
    for (const email of ['steady@runs.test', 'recovers@runs.test', 'erased@runs.test']) afterData.set(email, full);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const runOf = (email: string) => repos().softBounces.runOf(tenant.tenantId, email);

    const first = await sendCampaign(tenant, baseVersionId, projectId);
    expect(first.campaign.counters).toMatchObject({ total: 3, failed: 3 });
    expect(await runOf('erased@runs.test')).toBe(1);
    expect((await ctx.request('DELETE', `/contacts/${erasedId}`, { tenant })).statusCode).toBe(204);
    expect(await runOf('erased@runs.test')).toBe(0);
    expect(await ctx.count('soft_bounce_runs')).toBeGreaterThanOrEqual(2);

    await sendCampaign(tenant, baseVersionId, projectId);
    expect(await runOf('steady@runs.test')).toBe(2);
    expect(await runOf('recovers@runs.test')).toBe(2);
    expect(await reasonOf(tenant, 'steady@runs.test')).toBeUndefined();

    afterData.delete('recovers@runs.test');
    const third = await sendCampaign(tenant, baseVersionId, projectId);
    expect(third.campaign.counters).toMatchObject({ total: 2, sent: 1, failed: 1 });
    // The third soft bounce in a row: suppressed (bounce), and its run is over.
    expect(await reasonOf(tenant, 'steady@runs.test')).toBe('bounce');
    expect(await runOf('steady@runs.test')).toBe(0);
    expect(third.eventOf('steady@runs.test')).toMatchObject([{ type: 'email.bounced', data: { bounceType: 'soft' } }]);
    // Delivered: the run starts over.
    expect(await reasonOf(tenant, 'recovers@runs.test')).toBeUndefined();
    expect(await runOf('recovers@runs.test')).toBe(0);

    afterData.set('recovers@runs.test', full);
    const fourth = await sendCampaign(tenant, baseVersionId, projectId);
    expect(fourth.campaign.counters).toMatchObject({ total: 1, failed: 1 }); // the suppressed address is not in the audience
    expect(await runOf('recovers@runs.test')).toBe(1);
    expect(await reasonOf(tenant, 'recovers@runs.test')).toBeUndefined();
  });
});
