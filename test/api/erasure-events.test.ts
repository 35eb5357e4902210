import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeOf } from '../../src/delivery/delivery-store.js';
import { TrackingTokens } from '../../src/tracking/token.js';
import { TEST_SECRET, useTestApp, type TestContext } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { addContacts, createCampaign, deliverAll, publishedTemplate, smtpProject, waitForFanOut } from '../helpers/flow.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

/** Every row of every table whose text holds one of the needles (as the erasure test scans). */
async function rowsHolding(ctx: TestContext, needles: string[]): Promise<string[]> {
  const tables =
    ctx.dialect === 'postgres'
      ? (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(ctx.container.database.db)).rows
      : (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(ctx.container.database.db)).rows;
  const found: string[] = [];
  for (const { name } of tables) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(ctx.container.database.db);
    for (const row of rows) {
      const text = JSON.stringify(row).toLowerCase();
      if (needles.some((needle) => text.includes(needle.toLowerCase()))) found.push(`${name}: ${JSON.stringify(row)}`);
    }
  }
  return found;
}

/**
 * Issue 14, item 6, against the copies that are not in a named field: an
 * SMTP diagnostic quoting the address, a personalised tracked link, and an
 * outcome or a tracking hit recorded after the contact was erased.
 */
describe.each(DIALECTS)('erasure reaches events, payloads and link counters (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  const tokens = new TrackingTokens(TEST_SECRET);
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink({
      recipientResponse: (address) => (address.startsWith('gone.') ? { code: 550, message: `5.1.1 <${address}>: Recipient address rejected` } : undefined),
    });
  });
  afterAll(async () => sink?.close());

  it('blanks the address in diagnostics and personalised links, and leaves it only in the suppression', async () => {
    const tenant = await ctx.newTenant('Erase everywhere');
    await addContacts(ctx, tenant, [
      { email: 'gone.bounce@erase-all.test', externalId: 'crm-bounce-1', attributes: {} },
      { email: 'clicker@erase-all.test', externalId: 'crm-clicker-1', attributes: {} },
    ]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant, {
      en: { subject: 'Hi', html: '<p><a href="https://shop.test/p?e={{ email | url_encode }}&id={{ contact.externalId }}">yours</a> <a href="{{ unsubscribeUrl }}">u</a></p>' },
    });
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const campaignId = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId, tracking: { opens: true, clicks: true } });
    expect((await ctx.request('POST', `/campaigns/${campaignId}/send`, { tenant })).statusCode).toBe(202);
    await deliverAll(ctx, tenant, campaignId, ctx.container.createWorker());

    const html = String(sink.messages.find((m) => m.envelope.to.includes('clicker@erase-all.test'))!.parsed.html);
    const token = /\/track\/c\/([A-Za-z0-9_-]+)/.exec(html)![1]!;
    expect(tokens.open(token, 'click')!.url).toContain('clicker%40erase-all.test');
    expect((await ctx.request('GET', `/track/c/${token}`)).statusCode).toBe(302);
    await ctx.container.trackingRecorder.flush();
    const bounced = (await ctx.request('GET', '/events?type=email.bounced', { tenant })).json().data[0];
    expect(bounced.data.diagnostic).toContain('gone.bounce@erase-all.test');

    for (const [ref, email, externalId] of [
      ['crm-bounce-1', 'gone.bounce@erase-all.test', 'crm-bounce-1'],
      ['crm-clicker-1', 'clicker@erase-all.test', 'crm-clicker-1'],
    ] as const) {
      expect((await rowsHolding(ctx, [email])).length).toBeGreaterThan(1);
      expect((await ctx.request('DELETE', `/contacts/${ref}`, { tenant })).statusCode).toBe(204);
      const left = await rowsHolding(ctx, [email, encodeURIComponent(email)]);
      expect(left, left.join('\n')).toHaveLength(1);
      expect(left[0]).toMatch(/^suppressions: /);
      // The external id stays only in the two notices that tell receivers to erase the person.
      const notices = await rowsHolding(ctx, [externalId]);
      expect(notices.every((row) => row.startsWith('events: ') && /contact\.(erased|unsubscribed)/.test(row)), notices.join('\n')).toBe(true);
    }
    const stats = (await ctx.request('GET', `/campaigns/${campaignId}/stats`, { tenant })).json();
    expect(stats.links).toEqual([{ url: 'https://shop.test/p?e=[erased]&id=[erased]', clicks: 1, uniqueClicks: 1 }]);
    expect(stats.bounced.hard).toBe(1);
  });

  it('writes an outcome recorded after its contact was erased without naming the person', async () => {
    const tenant = await ctx.newTenant('Erased mid-send');
    const [contactId] = await addContacts(ctx, tenant, [{ email: 'mid.send@erase-all.test', externalId: 'crm-mid-send', attributes: {} }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const campaignId = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    expect((await ctx.request('POST', `/campaigns/${campaignId}/send`, { tenant })).statusCode).toBe(202);
    await waitForFanOut(ctx, tenant, campaignId);

    const store = ctx.container.deliveryStore;
    const [claimed] = await store.claimDue('erasure-race', 10, ctx.clock.fn(), 60_000);
    expect(claimed).toMatchObject({ contactId, email: 'mid.send@erase-all.test' });
    // The email is on the wire when the erasure commits.
    expect((await ctx.request('DELETE', '/contacts/crm-mid-send', { tenant })).statusCode).toBe(204);
    await store.recordOutcomes('erasure-race', [{ ...outcomeOf(claimed!), kind: 'sent', providerMessageId: '<x@y>', response: '250 ok' }], ctx.clock.fn());

    const sent = (await ctx.request('GET', `/events?type=email.sent&campaignId=${campaignId}`, { tenant })).json().data;
    expect(sent).toHaveLength(1);
    expect(sent[0].data).toMatchObject({ campaignId, contactId: null, email: null, externalId: null });
    const left = await rowsHolding(ctx, ['mid.send@erase-all.test']);
    expect(left, left.join('\n')).toHaveLength(1);
    expect(left[0]).toMatch(/^suppressions: /);
  });
});
