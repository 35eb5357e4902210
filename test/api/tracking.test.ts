import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepositories } from '../../src/repositories.js';
import { TrackingTokens } from '../../src/tracking/token.js';
import { createUnsubscribeToken } from '../../src/unsubscribe/token.js';
import { TEST_SECRET, errorBody, useTestApp, type TestContext, type TestTenant } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { addContacts, createCampaign, deliverAll, publishedTemplate, smtpProject, waitForFanOut } from '../helpers/flow.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const tokens = new TrackingTokens(TEST_SECRET);
const PERSON = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';
const APPLE_PROXY = 'Mozilla/5.0';

const HTML = [
  '<html><body><p>Hi {{ first_name }}</p>',
  '<a href="https://shop.test/a?x=1&amp;y=2">A</a>',
  "<A HREF='https://shop.test/b'>B</A>",
  '<a href="mailto:help@shop.test">mail us</a>',
  '<a data-mc-notrack href="https://shop.test/private">private</a>',
  '<a href="{{ unsubscribeUrl }}">unsubscribe</a>',
  '</body></html>',
].join('');
const LINK_A = 'https://shop.test/a?x=1&y=2';
const LINK_B = 'https://shop.test/b';

interface Tracked {
  html: string;
  text: string;
  open: string | undefined;
  /** Click tokens by destination. */
  clicks: Record<string, string>;
}

/** What a recipient's email carries: the pixel's token and a click token per link. */
function trackedOf(sink: SmtpSink, email: string): Tracked {
  const message = sink.messages.find((m) => m.envelope.to.includes(email));
  if (!message) throw new Error(`no email to ${email}`);
  const html = String(message.parsed.html);
  const clicks: Record<string, string> = {};
  for (const [, token] of html.matchAll(/href="http:\/\/127\.0\.0\.1:3000\/track\/c\/([A-Za-z0-9_-]+)"/g)) {
    clicks[tokens.open(token!, 'click')!.url!] = token!;
  }
  const open = /src="http:\/\/127\.0\.0\.1:3000\/track\/o\/([A-Za-z0-9_-]+)"/.exec(html)?.[1];
  return { html, text: message.parsed.text ?? '', open, clicks };
}

interface Stats {
  recipients: number;
  sent: number;
  failed: number;
  bounced: { hard: number; soft: number };
  complained: number;
  unsubscribed: number;
  opened: { unique: number; total: number; machine: number };
  clicked: { unique: number; total: number };
  rates: Record<string, number>;
  links: { url: string; clicks: number; uniqueClicks: number }[];
  byLocale: { locale: string | null; sent: number; opened: number; clicked: number }[];
  timeline: { at: string; sent: number; opened: number; clicked: number }[];
}

async function stats(ctx: TestContext, tenant: TestTenant, campaignId: string): Promise<Stats> {
  const res = await ctx.request('GET', `/campaigns/${campaignId}/stats`, { tenant });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function eventsOf(ctx: TestContext, tenant: TestTenant, type: string) {
  const res = await ctx.request('GET', `/events?type=${type}&order=asc&limit=500`, { tenant });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { data: { type: string; createdAt: string; data: Record<string, unknown> }[] }).data;
}

const open = (ctx: TestContext, token: string, userAgent = PERSON) => ctx.request('GET', `/track/o/${token}`, { headers: { 'user-agent': userAgent } });
const click = (ctx: TestContext, token: string, userAgent = PERSON) => ctx.request('GET', `/track/c/${token}`, { headers: { 'user-agent': userAgent } });

/** Issue 14, items 3 and 4: open and click tracking, and the campaign stats built from it. */
describe.each(DIALECTS)('open and click tracking (%s)', (dialect) => {
  const ctx = useTestApp(dialect, { tracking: { flushHits: 50 } });
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink({
      recipientResponse: (address) => (address.startsWith('dee@') ? { code: 550, message: '5.1.1 No such user' } : undefined),
      dataFault: ([address]) => (address?.startsWith('eve@') ? { code: 554, message: '5.6.0 Content rejected' } : undefined),
    });
  });
  afterAll(async () => sink?.close());

  async function trackedCampaign(tenant: TestTenant, domain: string, tracking: { opens: boolean; clicks: boolean } = { opens: true, clicks: true }) {
    const people = ['ana', 'bob', 'cy', 'dee', 'eve'];
    const ids = await addContacts(
      ctx,
      tenant,
      people.map((name) => ({ email: `${name}@${domain}`, locale: name === 'ana' ? 'es' : 'en', attributes: { first_name: name } })),
    );
    const { baseVersionId } = await publishedTemplate(ctx, tenant, {
      en: { subject: 'News', html: HTML },
      es: { subject: 'Noticias', html: HTML },
    });
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const campaignId = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId, tracking });
    expect((await ctx.request('POST', `/campaigns/${campaignId}/send`, { tenant })).statusCode).toBe(202);
    const done = await deliverAll(ctx, tenant, campaignId, ctx.container.createWorker());
    expect(done.status).toBe('SENT');
    const contactIds = Object.fromEntries(people.map((name, i) => [name, ids[i]!]));
    return { campaignId, contactIds, mail: (name: string) => trackedOf(sink, `${name}@${domain}`) };
  }

  it('takes tracking switches on create and PATCH (drafts only), false by default, and refuses anything else', async () => {
    const tenant = await ctx.newTenant('Switches');
    const plain = await ctx.request('POST', '/campaigns', { tenant, body: { name: 'Plain' } });
    expect(plain.json().tracking).toEqual({ opens: false, clicks: false });
    const id = plain.json().id as string;
    // A draft's stats: all zeros, nothing to divide by.
    expect(await stats(ctx, tenant, id)).toEqual({
      recipients: 0, sent: 0, failed: 0, bounced: { hard: 0, soft: 0 }, complained: 0, unsubscribed: 0,
      opened: { unique: 0, total: 0, machine: 0 }, clicked: { unique: 0, total: 0 },
      rates: { open: 0, click: 0, clickToOpen: 0, bounce: 0, complaint: 0, unsubscribe: 0 },
      links: [], byLocale: [], timeline: [],
    });
    expect((await ctx.request('GET', '/campaigns/not-an-id/stats', { tenant })).statusCode).toBe(404);
    const patched = await ctx.request('PATCH', `/campaigns/${id}`, { tenant, body: { tracking: { clicks: true } } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().tracking).toEqual({ opens: false, clicks: true });
    const both = await ctx.request('PATCH', `/campaigns/${id}`, { tenant, body: { tracking: { opens: true, clicks: false } } });
    expect(both.json().tracking).toEqual({ opens: true, clicks: false });
    expect((await ctx.request('GET', `/campaigns/${id}`, { tenant })).json().tracking).toEqual({ opens: true, clicks: false });
    for (const tracking of [{ opens: 'yes' }, { clicks: 1 }, { pixels: true }, true]) {
      const bad = await ctx.request('PATCH', `/campaigns/${id}`, { tenant, body: { tracking } });
      expect(bad.statusCode, JSON.stringify(tracking)).toBe(400);
      expect(errorBody(bad).code).toBe('VALIDATION_ERROR');
    }
    await ctx.request('POST', `/campaigns/${id}/cancel`, { tenant });
    const late = await ctx.request('PATCH', `/campaigns/${id}`, { tenant, body: { tracking: { opens: false } } });
    expect(late.statusCode).toBe(409);
  });

  it('counts what recipients did: opens (repeated, machine), clicks per link, a bounce, a failure, an unsubscribe', async () => {
    const tenant = await ctx.newTenant('Stats');
    const { campaignId, contactIds, mail } = await trackedCampaign(tenant, 'stats.test');
    const ana = mail('ana');
    const bob = mail('bob');
    const cy = mail('cy');

    // What was rewritten and what was not.
    expect(Object.keys(ana.clicks).sort()).toEqual([LINK_A, LINK_B]);
    expect(ana.open).toBeDefined();
    expect(ana.html).toContain('href="mailto:help@shop.test"');
    expect(ana.html).toContain('href="https://shop.test/private"');
    expect(ana.html).not.toContain('data-mc-notrack');
    expect(ana.html).toMatch(/href="http:\/\/127\.0\.0\.1:3000\/u\/[A-Za-z0-9_.-]+"/);
    expect(ana.html.indexOf('/track/o/')).toBeLessThan(ana.html.indexOf('</body>'));
    expect(ana.text).toContain('https://shop.test/b');
    expect(ana.text).not.toContain('/track/');
    expect(tokens.open(ana.clicks[LINK_A]!, 'click')).toMatchObject({ tenantId: tenant.tenantId, campaignId });
    expect(ana.clicks[LINK_A]).not.toBe(bob.clicks[LINK_A]);

    // Within seconds of sending (the test clock has not moved): a machine open.
    expect((await open(ctx, ana.open!)).statusCode).toBe(200);
    ctx.clock.advance(60_000);
    // Apple Mail Privacy Protection's proxy: a machine open whenever it comes.
    await open(ctx, bob.open!, APPLE_PROXY);
    // People: ana opens twice, bob once.
    await open(ctx, ana.open!);
    await open(ctx, ana.open!);
    await open(ctx, bob.open!);
    const first = await click(ctx, ana.clicks[LINK_A]!);
    expect(first.statusCode).toBe(302);
    expect(first.headers.location).toBe(LINK_A);
    await click(ctx, ana.clicks[LINK_B]!);
    await click(ctx, bob.clicks[LINK_A]!);
    await click(ctx, cy.clicks[LINK_A]!); // a click without an open (images off)
    await ctx.container.trackingRecorder.flush();
    // Later, in another batch: repeats, and a replay of the same token.
    ctx.clock.advance(60_000);
    expect((await click(ctx, ana.clicks[LINK_A]!)).headers.location).toBe(LINK_A);
    await open(ctx, ana.open!);
    const unsubscribed = await ctx.request('POST', `/u/${createUnsubscribeToken(TEST_SECRET, { tenantId: tenant.tenantId, contactId: contactIds.cy!, campaignId })}`);
    expect(unsubscribed.statusCode).toBe(200);
    await ctx.container.trackingRecorder.flush();

    const report = await stats(ctx, tenant, campaignId);
    expect(report).toMatchObject({
      recipients: 5,
      sent: 3,
      failed: 1,
      bounced: { hard: 1, soft: 0 },
      complained: 0,
      unsubscribed: 1,
      opened: { unique: 2, total: 6, machine: 2 },
      clicked: { unique: 3, total: 5 },
      rates: { open: 0.6667, click: 1, clickToOpen: 1.5, bounce: 0.25, complaint: 0, unsubscribe: 0.3333 },
      links: [
        { url: LINK_A, clicks: 4, uniqueClicks: 3 },
        { url: LINK_B, clicks: 1, uniqueClicks: 1 },
      ],
    });
    expect(report.byLocale).toEqual([
      { locale: 'en', sent: 2, opened: 1, clicked: 2 },
      { locale: 'es', sent: 1, opened: 1, clicked: 1 },
    ]);
    // Two minutes of activity: one point a minute, every minute from the first to the last.
    expect(report.timeline.length).toBeGreaterThanOrEqual(2);
    expect(report.timeline.map((p) => Date.parse(p.at)).every((at, i, all) => i === 0 || at - all[i - 1]! === 60_000)).toBe(true);
    const sum = (key: 'sent' | 'opened' | 'clicked') => report.timeline.reduce((n, p) => n + p[key], 0);
    expect([sum('sent'), sum('opened'), sum('clicked')]).toEqual([3, 2, 3]);

    // Events: the first human open of each message, the first click on each link of each message.
    const opened = await eventsOf(ctx, tenant, 'email.opened');
    expect(opened.map((e) => e.data.email).sort()).toEqual(['ana@stats.test', 'bob@stats.test']);
    expect(opened[0]!.data).toMatchObject({ campaignId, userAgent: PERSON });
    const clicked = await eventsOf(ctx, tenant, 'email.clicked');
    expect(clicked.map((e) => `${e.data.email} ${e.data.url}`).sort()).toEqual([
      `ana@stats.test ${LINK_A}`,
      `ana@stats.test ${LINK_B}`,
      `bob@stats.test ${LINK_A}`,
      `cy@stats.test ${LINK_A}`,
    ]);
    expect(clicked.find((e) => e.data.email === 'cy@stats.test')!.data).toMatchObject({ campaignId, contactId: contactIds.cy, locale: 'en' });

    // Another tenant's campaign is not found; the scope is campaigns:read.
    const other = await ctx.newTenant('Other');
    expect((await ctx.request('GET', `/campaigns/${campaignId}/stats`, { tenant: other })).statusCode).toBe(404);
    const noScope = await tenant.keyWith(['contacts:read']);
    expect((await ctx.request('GET', `/campaigns/${campaignId}/stats`, { headers: noScope.headers })).statusCode).toBe(403);
    const scoped = await tenant.keyWith(['campaigns:read']);
    expect((await ctx.request('GET', `/campaigns/${campaignId}/stats`, { headers: scoped.headers })).statusCode).toBe(200);
  });

  it('never redirects on a token that is not genuine, always serves the pixel, and counts nothing for either', async () => {
    const tenant = await ctx.newTenant('Tokens');
    const { campaignId, mail } = await trackedCampaign(tenant, 'tokens.test');
    const ana = mail('ana');
    const good = ana.clicks[LINK_A]!;
    const flip = (token: string, at: number) => token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
    const otherServer = new TrackingTokens('another-server-secret-0123456789abcdef').seal({ ...tokens.open(good, 'click')!, url: 'https://evil.test/' });
    const forged = [good.slice(0, -3), good.slice(0, 20), flip(good, 5), flip(good, good.length - 5), `${good}x`, otherServer, 'not-a-token', '%00', 'x'.repeat(5000)];
    await ctx.container.trackingRecorder.flush();
    const before = { events: await ctx.count('events'), firsts: await ctx.count('tracking_firsts') };
    // Each kind of token is refused by the other route too.
    for (const token of [...forged, ana.open!]) {
      const res = await click(ctx, token);
      expect([404, 414], token).toContain(res.statusCode);
      expect(res.headers.location, token).toBeUndefined();
    }
    for (const token of [...forged, good]) {
      const pixel = await open(ctx, token);
      expect([200, 414], token).toContain(pixel.statusCode);
      if (pixel.statusCode === 200) {
        expect(pixel.headers['content-type']).toBe('image/gif');
        expect(pixel.rawPayload).toHaveLength(43);
        expect(pixel.headers['cache-control']).toContain('no-store');
      }
    }
    const notFound = await click(ctx, good.slice(0, -3));
    expect(notFound.statusCode).toBe(404);
    expect(notFound.headers['content-type']).toContain('text/html');
    await ctx.container.trackingRecorder.flush();
    expect({ events: await ctx.count('events'), firsts: await ctx.count('tracking_firsts') }).toEqual(before);
    expect((await stats(ctx, tenant, campaignId)).opened.total + (await stats(ctx, tenant, campaignId)).clicked.total).toBe(0);

    // A genuine token whose tenant does not own the message (only this server could make one): it redirects, nothing is counted.
    const intruder = await ctx.newTenant('Intruder');
    const claims = tokens.open(good, 'click')!;
    const crossTenant = tokens.seal({ ...claims, tenantId: intruder.tenantId });
    expect((await click(ctx, crossTenant)).statusCode).toBe(302);
    await open(ctx, tokens.seal({ kind: 'open', tenantId: intruder.tenantId, campaignId, messageId: claims.messageId }));
    await ctx.container.trackingRecorder.flush();
    expect({ events: await ctx.count('events'), firsts: await ctx.count('tracking_firsts') }).toEqual(before);
    expect((await stats(ctx, tenant, campaignId)).clicked.total).toBe(0);
    expect(await eventsOf(ctx, intruder, 'email.clicked')).toEqual([]);

    // HEAD (link checkers, prefetchers) answers like GET and counts nothing.
    const head = await ctx.app.inject({ method: 'HEAD', url: `/track/c/${good}` });
    expect(head.statusCode).toBe(302);
    expect(head.headers.location).toBe(LINK_A);
    expect((await ctx.app.inject({ method: 'HEAD', url: `/track/o/${ana.open!}` })).statusCode).toBe(200);
    await ctx.container.trackingRecorder.flush();
    expect({ events: await ctx.count('events'), firsts: await ctx.count('tracking_firsts') }).toEqual(before);
    const untouched = await stats(ctx, tenant, campaignId);
    expect([untouched.opened.total, untouched.clicked.total]).toEqual([0, 0]);

    // The pixel is public and needs no key.
    const pixel = await open(ctx, ana.open!);
    expect(pixel.statusCode).toBe(200);
    expect(pixel.headers['content-type']).toBe('image/gif');
    expect(pixel.rawPayload.subarray(0, 6).toString()).toBe('GIF89a');
  });

  it('counts a burst of concurrent clicks on one link exactly, with one event per message', async () => {
    const tenant = await ctx.newTenant('Burst');
    const { campaignId, mail } = await trackedCampaign(tenant, 'burst.test');
    ctx.clock.advance(60_000);
    const people = ['ana', 'bob', 'cy'];
    const burst = people.flatMap((name) => Array.from({ length: 70 }, () => mail(name).clicks[LINK_B]!));
    const answers = await Promise.all(burst.map((token) => click(ctx, token)));
    expect(answers.every((res) => res.statusCode === 302 && res.headers.location === LINK_B)).toBe(true);
    await ctx.container.trackingRecorder.flush();
    expect(ctx.container.trackingRecorder.pending).toBe(0);
    const report = await stats(ctx, tenant, campaignId);
    expect(report.clicked).toEqual({ unique: 3, total: 210 });
    expect(report.links).toEqual([{ url: LINK_B, clicks: 210, uniqueClicks: 3 }]);
    expect((await eventsOf(ctx, tenant, 'email.clicked')).map((e) => e.data.email).sort()).toEqual(people.map((p) => `${p}@burst.test`));

    // Retention: firsts older than the cut are pruned in batches of the given size; newer ones stay.
    const firsts = createRepositories(ctx.container.database).trackingFirsts;
    const total = await ctx.count('tracking_firsts');
    expect(await firsts.pruneBefore(new Date(ctx.clock.now.getTime() - 3_600_000), 100)).toBe(0);
    expect(await firsts.pruneBefore(new Date(ctx.clock.now.getTime() + 1), 2)).toBe(2);
    expect(await ctx.count('tracking_firsts')).toBe(total - 2);
  });

  it('keeps redirecting links of cancelled and deleted campaigns and of erased contacts', async () => {
    const tenant = await ctx.newTenant('Afterlife');
    const { campaignId, contactIds, mail } = await trackedCampaign(tenant, 'afterlife.test');
    ctx.clock.advance(60_000);

    // Erased contact: the redirect works, the click is counted, no event names the person.
    expect((await ctx.request('DELETE', `/contacts/${contactIds.bob}`, { tenant })).statusCode).toBe(204);
    const erased = await click(ctx, mail('bob').clicks[LINK_A]!);
    expect(erased.statusCode).toBe(302);
    expect(erased.headers.location).toBe(LINK_A);
    await ctx.container.trackingRecorder.flush();
    expect((await stats(ctx, tenant, campaignId)).clicked).toEqual({ unique: 1, total: 1 });
    expect(await eventsOf(ctx, tenant, 'email.clicked')).toEqual([]);

    // A cancelled campaign (another tenant, so its audience is two): one message went out before the cancel.
    const other = await ctx.newTenant('Cancelled');
    await addContacts(ctx, other, [{ email: 'c1@cancel.test' }, { email: 'c2@cancel.test' }]);
    const { baseVersionId } = await publishedTemplate(ctx, other, { en: { subject: 'S', html: HTML } });
    const projectId = await smtpProject(ctx, other, sink.port);
    const cancelled = await createCampaign(ctx, other, { templateVersionId: baseVersionId, projectId, tracking: { opens: false, clicks: true } });
    expect((await ctx.request('POST', `/campaigns/${cancelled}/send`, { tenant: other })).statusCode).toBe(202);
    await waitForFanOut(ctx, other, cancelled);
    expect(await ctx.container.createWorker({ batchSize: 1 }).runOnce()).toBe(1);
    expect((await ctx.request('POST', `/campaigns/${cancelled}/cancel`, { tenant: other })).json().status).toBe('CANCELLED');
    const sentOne = sink.messages.filter((m) => m.envelope.to.some((to) => to.endsWith('@cancel.test')));
    expect(sentOne).toHaveLength(1);
    const cancelledMail = trackedOf(sink, sentOne[0]!.envelope.to[0]!);
    expect(cancelledMail.open).toBeUndefined(); // opens were off
    const afterCancel = await click(ctx, cancelledMail.clicks[LINK_B]!);
    expect(afterCancel.headers.location).toBe(LINK_B);
    await ctx.container.trackingRecorder.flush();
    expect((await stats(ctx, other, cancelled)).clicked.total).toBe(1);

    // A deleted campaign (its messages go with it): still redirects; nothing left to count against.
    await ctx.container.database.db.deleteFrom('campaigns').where('id', '=', campaignId).execute();
    const gone = await click(ctx, mail('ana').clicks[LINK_B]!);
    expect(gone.statusCode).toBe(302);
    expect(gone.headers.location).toBe(LINK_B);
    await ctx.container.trackingRecorder.flush();
    expect(ctx.container.trackingRecorder.pending).toBe(0);
    expect((await ctx.request('GET', `/campaigns/${campaignId}/stats`, { tenant })).statusCode).toBe(404);
  });

  it('does not track test sends or campaigns with tracking off', async () => {
    const tenant = await ctx.newTenant('Untracked');
    const { campaignId, mail } = await trackedCampaign(tenant, 'off.test', { opens: false, clicks: false });
    const ana = mail('ana');
    expect(ana.html).not.toContain('/track/');
    expect(ana.html).toContain('href="https://shop.test/a?x=1&amp;y=2"');
    expect((await stats(ctx, tenant, campaignId)).sent).toBe(3);

    const { baseVersionId } = await publishedTemplate(ctx, tenant, { en: { subject: 'T', html: HTML } });
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const tracked = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId, tracking: { opens: true, clicks: true } });
    const test = await ctx.request('POST', `/campaigns/${tracked}/test`, { tenant, body: { emails: ['qa@test-send.test'] } });
    expect(test.statusCode, test.body).toBe(200);
    expect(test.json().results[0].status).toBe('sent');
    const copy = sink.messages.find((m) => m.envelope.to.includes('qa@test-send.test'))!;
    expect(String(copy.parsed.html)).not.toContain('/track/');
    expect(String(copy.parsed.html)).toContain('https://shop.test/b');
  });
});
