import path from 'node:path';
import type { APIRequestContext, Dialog, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { createOwner, expectAccessible, findEml, inviteLink, screenshot, sessionPost, startDashboard, watchConsole, XSS, type Dashboard } from './browser.js';

/**
 * The campaign pages in a real browser, against the built CLI's `start` on
 * SQLite (no SMTP_URL: mail is captured under DATA_DIR/outbox): create a
 * draft with the audience filter builder and its live count, edit it, test
 * send (the .eml lands in the outbox), the schedule dialog's UTC instant,
 * send and follow the progress to SENT without a reload, the per-recipient
 * log, the report; the preflight blocking a send, stopping a campaign; an
 * editor prepares but cannot send; names with markup render as text.
 */
describe('campaign pages in Chromium', () => {
  let run: Dashboard;
  let dir: string;
  let server: Dashboard['server'];
  let browser: Dashboard['browser'];
  let page: Page;
  let consoleErrors: string[];
  let dialogs: string[];
  const chunks: string[] = [];
  let seeded: Seeded;
  let campaignId: string;
  let sink: SmtpSink;
  /** While true the SMTP sink refuses refused@smtp.test by policy (5.7.1, not a bounce: retryable), its reply text an XSS attempt. */
  let refusing = true;

  beforeAll(async () => {
    run = await startDashboard('campaigns', { context: { timezoneId: 'UTC' } });
    ({ dir, server, browser, page, consoleErrors, dialogs } = run);
    sink = await startSmtpSink({
      recipientResponse: (address) => (refusing && address === 'refused@smtp.test' ? { code: 550, message: '5.7.1 <img src=x onerror=alert(3)> refused by policy' } : undefined),
    });
    page.on('request', (request) => {
      const chunk = /\/assets\/(\w+)-[\w-]+\.js$/.exec(request.url());
      if (chunk) chunks.push(chunk[1]!);
    });
  });

  afterAll(async () => {
    await run?.close();
    await sink?.close();
  });

  it('sets up the owner through the printed link; the seed goes in through the API with the session', async () => {
    await createOwner(page, server);
    seeded = await seed(page.request);
  });

  it('creates a draft with the filter builder, the live count following each condition', async () => {
    await page.reload();
    await page.getByRole('link', { name: 'New campaign' }).click();
    await page.getByRole('heading', { name: 'New campaign' }).waitFor();
    const count = page.locator('.live-count');
    // No condition: every opted-in contact (5 of the 6; one opted out).
    await expect.poll(() => count.textContent()).toBe('5 contacts match now.');
    await page.getByRole('button', { name: '+ Locale' }).click();
    await page.getByLabel('Value of Locale').fill('en');
    await expect.poll(() => count.textContent()).toBe('2 contacts match now.');
    await page.getByRole('button', { name: '+ Attribute' }).click();
    await page.getByLabel('Attribute name').fill('plan');
    await page.getByLabel('Value of plan').fill('pro');
    await expect.poll(() => count.textContent()).toBe('1 contact matches now.');
    // "+ Locale" is gone: one locale condition at most (the API's filter has one locale).
    expect(await page.getByRole('button', { name: '+ Locale' }).count()).toBe(0);

    await page.getByLabel('Name', { exact: true }).fill(`${XSS} June`);
    await page.getByLabel('Subject (optional)').fill('June news');
    await page.getByLabel('Template version').selectOption(seeded.versionId);
    // The picker shows which locales have a published variant.
    await page.getByText('Locale variants of this version:').waitFor();
    expect(await page.locator('.locale-variants li').allTextContents()).toEqual(['en ✓ published', 'es ✓ published', 'fr draft (not sent until published)']);
    await page.getByLabel('Time zone').selectOption('Europe/Madrid');
    await expectAccessible(page, 'new campaign');
    await screenshot(page, 'c01-campaign-new');

    // A name the API refuses (spaces only): its message shows next to the field.
    const name = await page.getByLabel('Name', { exact: true }).inputValue();
    await page.getByLabel('Name', { exact: true }).fill('   ');
    await page.getByRole('button', { name: 'Create the draft' }).click();
    await page.locator('#name-error').filter({ hasText: 'must be 1 to 200 characters after trimming' }).waitFor();
    expect(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByRole('button', { name: 'Create the draft' }).click();

    await page.getByRole('heading', { name: `${XSS} June` }).waitFor();
    campaignId = new URL(page.url()).pathname.split('/').pop()!;
    const saved = (await (await page.request.get(`/campaigns/${campaignId}`)).json()) as { audienceFilter: unknown; timezone: string; templateVersionId: string };
    expect(saved).toMatchObject({ audienceFilter: { locale: 'en', attributes: { plan: 'pro' } }, timezone: 'Europe/Madrid', templateVersionId: seeded.versionId });
    expect(await page.locator('img[src="x"]').count()).toBe(0);
  });

  it('edits the draft: the form comes back filled, a removed condition widens the audience', async () => {
    await page.getByRole('link', { name: 'Edit the draft' }).click();
    await page.getByRole('heading', { name: `Edit “${XSS} June”` }).waitFor();
    expect(await page.getByLabel('Value of plan').inputValue()).toBe('pro');
    await expect.poll(() => page.locator('.live-count').textContent()).toBe('1 contact matches now.');
    await page.getByRole('button', { name: 'Remove condition 2' }).click();
    await page.getByRole('button', { name: 'Remove condition 1' }).click();
    await expect.poll(() => page.locator('.live-count').textContent()).toBe('5 contacts match now.');
    await page.getByLabel('Name', { exact: true }).fill(`${XSS} June update`);
    await page.getByRole('button', { name: 'Save the draft' }).click();
    await page.getByRole('heading', { name: `${XSS} June update` }).waitFor();
    const saved = (await (await page.request.get(`/campaigns/${campaignId}`)).json()) as { audienceFilter: unknown };
    expect(saved.audienceFilter).toBeNull();
  });

  it('sends a test in the chosen variant; the captured .eml lands in the outbox', async () => {
    await page.getByLabel('Addresses (1 to 5)').fill('me@example.test');
    await page.getByLabel('Variant').selectOption('es');
    await page.getByRole('button', { name: 'Send the test' }).click();
    await page.getByText('me@example.test: sent.').waitFor();
    const eml = findEml(path.join(dir, 'outbox'), (text) => /^To: me@example\.test/m.test(text));
    expect(eml).toBeDefined();
    // The campaign's own subject; the es variant's body.
    expect(eml!).toMatch(/^Subject: \[Test\] June news/m);
    expect(eml!).toContain('<p>Hola</p>');
    // The preflight's test-send item turns OK on the next load.
    await page.reload();
    await page.locator('.check-ok').filter({ hasText: 'Test send: OK' }).waitFor();
    await screenshot(page, 'c02-campaign-draft');
  });

  it('schedules in the campaign time zone, showing the UTC instant first', async () => {
    await page.getByRole('button', { name: 'Schedule…' }).click();
    await page.getByLabel('Date and time in Europe/Madrid').fill('2031-01-15T10:00');
    // Madrid is UTC+1 in January.
    await page.getByText('That is 2031-01-15 09:00 UTC (Europe/Madrid time as entered).').waitFor();
    await page.getByLabel('Date and time in Europe/Madrid').fill('2031-07-15T10:00');
    await page.getByText('That is 2031-07-15 08:00 UTC (Europe/Madrid time as entered).').waitFor();
    // 02:30 on the last Sunday of March does not exist in Madrid.
    await page.getByLabel('Date and time in Europe/Madrid').fill('2031-03-30T02:30');
    await page.getByText('That time does not exist in Europe/Madrid (the clocks skip it): choose another.').waitFor();
    expect(await page.getByRole('button', { name: 'Schedule', exact: true }).isDisabled()).toBe(true);
    await page.getByLabel('Date and time in Europe/Madrid').fill('2031-01-15T10:00');
    await expectAccessible(page, 'schedule dialog');
    await screenshot(page, 'c03-campaign-schedule');
    await page.getByRole('button', { name: 'Schedule', exact: true }).click();
    await page.getByText('The campaign is scheduled.').waitFor();
    expect(await page.getByTestId('campaign-status').textContent()).toBe('Scheduled');
    const saved = (await (await page.request.get(`/campaigns/${campaignId}`)).json()) as { scheduledAt: string; status: string };
    expect(saved).toMatchObject({ status: 'SCHEDULED', scheduledAt: '2031-01-15T09:00:00.000Z' });
    await page.getByText('(2031-01-15 09:00 UTC)').waitFor();
  });

  it('sends with a confirmation of recipients and quota, and follows the progress to SENT without a reload', async () => {
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    await page.getByRole('button', { name: 'Send…' }).click();
    await page.getByText('Send this campaign to 5 contacts now?').waitFor();
    // The test send used 1 email of the month's quota.
    await page.getByText(/^Quota: 5 emails take this month from 1 to 6 of [\d,]+ \([\d.]+ %\)\.$/).waitFor();
    await expectAccessible(page, 'send confirmation');
    await screenshot(page, 'c04-campaign-confirm-send');
    await page.getByRole('button', { name: 'Yes, send now' }).click();
    await expect.poll(() => page.getByTestId('campaign-status').textContent(), { timeout: 20_000 }).toBe('Sent');
    expect(await page.getByTestId('campaign.sent').textContent()).toBe('5');
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await page.getByRole('button', { name: 'Send…' }).count()).toBe(0);
    await screenshot(page, 'c05-campaign-sent');
  });

  it('lists each recipient with its locale, filters by status, and serves the captured email', async () => {
    expect(chunks).not.toContain('CampaignReport');
    await page.getByRole('link', { name: 'Recipients' }).click();
    await page.getByRole('heading', { name: `Recipients of “${XSS} June update”` }).waitFor();
    const rows = page.locator('table.messages tbody tr');
    await expect.poll(() => rows.count()).toBe(5);
    const byEmail = Object.fromEntries(
      await Promise.all((await rows.all()).map(async (row) => [await row.locator('th').textContent(), await row.locator('td').first().textContent()] as const)),
    );
    // The locale of the variant each got: es-MX is routed to es.
    expect(byEmail).toEqual({
      'ana@example.test': 'es',
      'bea@example.test': 'es',
      'bob@example.test': 'en',
      'carla@example.test': 'es',
      'dan@example.test': 'en',
    });
    await expectAccessible(page, 'recipients');
    await screenshot(page, 'c06-campaign-recipients');
    await page.getByLabel('Message status').selectOption('FAILED');
    await page.getByText('No messages here yet.').waitFor();
    expect(new URL(page.url()).search).toBe('?status=FAILED');
    await page.getByLabel('Message status').selectOption('SENT');
    await expect.poll(() => rows.count()).toBe(5);
    const href = await rows.first().getByRole('link', { name: /Download \.eml/ }).getAttribute('href');
    const raw = await page.request.get(href!);
    expect(raw.status()).toBe(200);
    expect(raw.headers()['content-type']).toContain('message/rfc822');
    expect(await raw.text()).toMatch(/^To: \w+@example\.test/m);
  });

  it('shows the report in its own chunk: totals, by locale, an SVG timeline with a table alternative', async () => {
    await page.getByRole('link', { name: 'Report' }).click();
    await page.getByRole('heading', { name: `Report: “${XSS} June update”` }).waitFor();
    expect(chunks).toContain('CampaignReport');
    await page.getByRole('img', { name: 'Timeline' }).waitFor();
    const locales = page.getByRole('table', { name: 'By locale' });
    await locales.waitFor();
    expect(await locales.getByRole('row', { name: /^es/ }).locator('td').first().textContent()).toBe('3');
    expect(await locales.getByRole('row', { name: /^en/ }).locator('td').first().textContent()).toBe('2');
    await page.getByText('Show the timeline as a table').click();
    await page.getByRole('columnheader', { name: 'Time' }).waitFor();
    await expectAccessible(page, 'report');
    await screenshot(page, 'c07-campaign-report');
    expect(await page.locator('img[src="x"]').count()).toBe(0);
  });

  it('blocks the send while a preflight check fails, and stops a draft', async () => {
    const id = await createCampaign(page.request, { name: 'No unsubscribe link', templateVersionId: seeded.bareVersionId });
    await page.goto(`/app/campaigns/${id}`);
    await page.getByRole('heading', { name: 'No unsubscribe link' }).waitFor();
    await page.locator('.check-fail').filter({ hasText: 'Unsubscribe link: blocks sending' }).waitFor();
    await page.getByText('Sending and scheduling are blocked until this is fixed: Unsubscribe link.').waitFor();
    await page.getByRole('button', { name: 'Send…' }).click();
    expect(await page.getByRole('button', { name: 'Yes, send now' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Yes, send now' }).getAttribute('aria-describedby')).toBe('send-blocked');
    await expectAccessible(page, 'blocked send');
    await screenshot(page, 'c08-campaign-blocked');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByRole('button', { name: 'Stop campaign…' }).click();
    await page.getByRole('button', { name: 'Yes, stop it' }).click();
    await page.getByText('The campaign was stopped.').waitFor();
    expect(await page.getByTestId('campaign-status').textContent()).toBe('Cancelled');
    expect(await page.getByRole('link', { name: 'Edit the draft' }).count()).toBe(0);
    // Only drafts are editable: the form is not offered for a stopped campaign, even by its address.
    await page.goto(`/app/campaigns/${id}/edit`);
    await page.getByText('Only draft campaigns can be edited.').waitFor();
    expect(await page.getByRole('button', { name: 'Save the draft' }).count()).toBe(0);
  });

  it('reads in Spanish', async () => {
    await page.getByLabel('Language').selectOption('es');
    await page.goto('/app/campaigns/new');
    await page.getByRole('heading', { name: 'Nueva campaña' }).waitFor();
    await page.getByRole('button', { name: '+ Idioma' }).click();
    await page.getByLabel('Valor de Idioma').fill('es');
    await expect.poll(() => page.locator('.live-count').textContent()).toBe('Ahora coinciden 2 contactos.');
    expect(await page.getAttribute('html', 'lang')).toBe('es');
    await expectAccessible(page, 'new campaign (es)');
    await screenshot(page, 'c09-campaign-new-es');
    await page.goto(`/app/campaigns/${campaignId}/report`);
    await page.getByRole('heading', { name: `Informe: «${XSS} June update»` }).waitFor();
    await page.getByRole('table', { name: 'Por idioma' }).waitFor();
    await page.getByRole('combobox', { name: /^Idioma/ }).selectOption('en');
    await page.getByRole('heading', { name: `Report: “${XSS} June update”` }).waitFor();
  });

  it('an editor creates a draft and sends a test, but sees no Send, Schedule or Stop, and the API refuses the send', async () => {
    const me = (await (await page.request.get('/me')).json()) as { csrfToken: string; currentTenantId: string };
    const invite = await page.request.post(`/tenants/${me.currentTenantId}/members`, {
      headers: { 'x-csrf-token': me.csrfToken },
      data: { email: 'editor@example.test', role: 'editor' },
    });
    expect(invite.status()).toBe(201);
    const link = await inviteLink(dir, 'editor@example.test');
    const editor = await browser.newContext({ baseURL: server.url, locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const p = await editor.newPage();
    const errors = watchConsole(p);
    p.on('dialog', (dialog: Dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await p.goto(link.replace(/^https?:\/\/[^/]+/, server.url));
    await p.getByLabel('Password (at least 10 characters)').fill('editor password 123');
    await p.getByRole('button', { name: 'Accept and sign in' }).click();
    await p.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await p.getByRole('link', { name: 'New campaign' }).click();
    await p.getByLabel('Name', { exact: true }).fill('Editor draft');
    await p.getByLabel('Template version').selectOption(seeded.versionId);
    await expect.poll(() => p.locator('.live-count').textContent()).toBe('5 contacts match now.');
    await p.getByRole('button', { name: 'Create the draft' }).click();
    await p.getByRole('heading', { name: 'Editor draft' }).waitFor();
    await p.getByRole('link', { name: 'Edit the draft' }).waitFor();
    await p.getByRole('heading', { name: 'Send a test' }).waitFor();
    expect(await p.getByRole('button', { name: 'Send…' }).count()).toBe(0);
    expect(await p.getByRole('button', { name: 'Schedule…' }).count()).toBe(0);
    expect(await p.getByRole('button', { name: 'Stop campaign…' }).count()).toBe(0);
    await p.getByRole('heading', { name: 'Before sending' }).waitFor();
    await expectAccessible(p, 'editor campaign');
    await screenshot(p, 'c10-campaign-editor');
    const editorId = new URL(p.url()).pathname.split('/').pop()!;
    const editorMe = (await (await p.request.get('/me')).json()) as { csrfToken: string };
    const send = await p.request.post(`/campaigns/${editorId}/send`, { headers: { 'x-csrf-token': editorMe.csrfToken } });
    expect(send.status()).toBe(403);
    // The sent campaign: no retry, no stop for an editor; the log reads the same.
    await p.goto(`/app/campaigns/${campaignId}/messages`);
    await expect.poll(() => p.locator('table.messages tbody tr').count()).toBe(5);
    expect(await p.getByRole('button', { name: 'Retry failed…' }).count()).toBe(0);
    expect(errors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
    await editor.close();
  });

  it('a viewer reads every campaign page but is offered no change', async () => {
    const me = (await (await page.request.get('/me')).json()) as { csrfToken: string; currentTenantId: string };
    const invite = await page.request.post(`/tenants/${me.currentTenantId}/members`, {
      headers: { 'x-csrf-token': me.csrfToken },
      data: { email: 'viewer@example.test', role: 'viewer' },
    });
    expect(invite.status()).toBe(201);
    const link = await inviteLink(dir, 'viewer@example.test');
    const viewer = await browser.newContext({ baseURL: server.url, locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const p = await viewer.newPage();
    const errors = watchConsole(p);
    await p.goto(link.replace(/^https?:\/\/[^/]+/, server.url));
    await p.getByLabel('Password (at least 10 characters)').fill('viewer password 123');
    await p.getByRole('button', { name: 'Accept and sign in' }).click();
    await p.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await p.getByRole('link', { name: 'Editor draft' }).waitFor();
    expect(await p.getByRole('link', { name: 'New campaign' }).count()).toBe(0);
    await p.getByRole('link', { name: 'Editor draft' }).click();
    await p.getByRole('heading', { name: 'Before sending' }).waitFor();
    for (const name of ['Send…', 'Schedule…', 'Stop campaign…', 'Send the test']) expect(await p.getByRole('button', { name }).count(), name).toBe(0);
    expect(await p.getByRole('link', { name: 'Edit the draft' }).count()).toBe(0);
    await p.getByRole('link', { name: 'Recipients' }).click();
    await p.getByText('No messages here yet.').waitFor();
    await p.goto(`/app/campaigns/${campaignId}/report`);
    await p.getByRole('img', { name: 'Timeline' }).waitFor();
    await p.goto('/app/campaigns/new');
    await p.getByText('Your role does not allow editing campaigns.').waitFor();
    expect(errors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
    await viewer.close();
  });

  it('shows a refused recipient with the SMTP reply as text, and retries it after a confirmation', async () => {
    const post = await sessionPost(page.request);
    await post('/contacts/bulk', {
      contacts: [
        { email: 'ok@smtp.test', locale: 'de', optIn: true, attributes: { group: 'smtp' } },
        { email: 'refused@smtp.test', locale: 'de', optIn: true, attributes: { group: 'smtp' } },
      ],
    });
    const project = await post('/projects', { name: 'Sink', smtp: { host: '127.0.0.1', port: sink.port, secure: false }, fromEmail: 'news@acme.test' });
    const id = await createCampaign(page.request, {
      name: 'Through SMTP',
      templateVersionId: seeded.versionId,
      projectId: project.id,
      audienceFilter: { attributes: { group: 'smtp' } },
    });
    await page.goto(`/app/campaigns/${id}`);
    await page.getByRole('button', { name: 'Send…' }).click();
    await page.getByText('Send this campaign to 2 contacts now?').waitFor();
    await page.getByRole('button', { name: 'Yes, send now' }).click();
    await expect.poll(() => page.getByTestId('campaign-status').textContent(), { timeout: 20_000 }).toBe('Sent');
    expect(await page.getByTestId('campaign.failed').textContent()).toBe('1');

    await page.getByRole('link', { name: 'Recipients' }).click();
    await page.getByLabel('Message status').selectOption('FAILED');
    const row = page.locator('table.messages tbody tr');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator('th').textContent()).toBe('refused@smtp.test');
    expect(await row.locator('.error-text').textContent()).toContain('<img src=x onerror=alert(3)> refused by policy');
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await screenshot(page, 'c11-campaign-failed-recipient');

    refusing = false;
    await page.getByRole('button', { name: 'Retry failed…' }).click();
    await page.getByText('Queue the failed message again?').waitFor();
    await expectAccessible(page, 'retry failed');
    await page.getByRole('button', { name: 'Yes, retry them' }).click();
    await page.getByText('1 message queued again.').waitFor();
    await expect
      .poll(async () => ((await (await page.request.get(`/campaigns/${id}`)).json()) as { status: string; counters: { sent: number } }).counters.sent, { timeout: 20_000 })
      .toBe(2);
    await page.getByLabel('Message status').selectOption('SENT');
    await expect.poll(() => row.count()).toBe(2);
    expect(sink.messages.map((m) => m.envelope.to[0]).sort()).toEqual(['ok@smtp.test', 'refused@smtp.test']);
  });

  it('pauses a sending campaign and resumes it (owner), the status following live', async () => {
    const post = await sessionPost(page.request);
    // One message a second through the sink: the campaign stays SENDING long enough to pause it.
    const contacts = Array.from({ length: 8 }, (_, i) => ({ email: `slow${i}@smtp.test`, locale: 'en', optIn: true, attributes: { group: 'slow' } }));
    await post('/contacts/bulk', { contacts });
    const project = await post('/projects', { name: 'Slow sink', smtp: { host: '127.0.0.1', port: sink.port, secure: false }, fromEmail: 'news@acme.test', rateLimitPerSecond: 1 });
    const id = await createCampaign(page.request, { name: 'Slow one', templateVersionId: seeded.versionId, projectId: project.id, audienceFilter: { attributes: { group: 'slow' } } });
    await page.goto(`/app/campaigns/${id}`);
    await page.getByRole('button', { name: 'Send…' }).click();
    await page.getByRole('button', { name: 'Yes, send now' }).click();
    await expect.poll(() => page.getByTestId('campaign-status').textContent()).toBe('Sending');
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByText('The campaign is paused.').waitFor();
    await expect.poll(() => page.getByTestId('campaign-status').textContent()).toBe('Paused');
    expect(Number(await page.getByTestId('campaign.sent').textContent())).toBeLessThan(8);
    await expectAccessible(page, 'paused campaign');
    await screenshot(page, 'c12-campaign-paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByText('Sending resumed.').waitFor();
    await expect.poll(() => page.getByTestId('campaign-status').textContent(), { timeout: 30_000 }).toBe('Sent');
    expect(await page.getByTestId('campaign.sent').textContent()).toBe('8');
  });

  it('never ran markup from a name, and logged no console error (but the expected 4xx answers)', () => {
    expect(dialogs).toEqual([]);
    expect(consoleErrors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
  });
});

interface Seeded {
  versionId: string;
  bareVersionId: string;
}

/**
 * Contacts in en, es and es-MX (one opted out), some with `plan`; a template
 * (its name an XSS attempt) with published en and es variants and a draft fr
 * one; a published template without an unsubscribe link.
 */
async function seed(request: APIRequestContext): Promise<Seeded> {
  const post = await sessionPost(request);
  await post('/contacts/bulk', {
    contacts: [
      { email: 'ana@example.test', locale: 'es', optIn: true },
      { email: 'bea@example.test', locale: 'es', optIn: true, attributes: { plan: 'free' } },
      { email: 'bob@example.test', locale: 'en', optIn: true, attributes: { plan: 'pro' } },
      { email: 'carla@example.test', locale: 'es-MX', optIn: true, attributes: { plan: 'pro' } },
      { email: 'dan@example.test', locale: 'en', optIn: true },
      { email: 'olga@example.test', locale: 'en', optIn: false },
    ],
  });
  const html = (text: string) => `<p>${text}</p><p><a href="https://example.test/news">More</a> · <a href="{{ unsubscribeUrl }}">Unsubscribe</a></p>`;
  const template = await post('/templates', { name: `Newsletter ${'<script>alert(2)</script>'}`, locale: 'en', subject: 'News', htmlBody: html('Hello') });
  const tid = template.id as string;
  const en = (template.versions as { id: string }[])[0]!.id;
  const es = (await post(`/templates/${tid}/versions`, { locale: 'es', localeGroupId: en, subject: 'Noticias', htmlBody: html('Hola') })).id as string;
  await post(`/templates/${tid}/versions`, { locale: 'fr', localeGroupId: en, subject: 'Nouvelles', htmlBody: html('Bonjour') });
  await post(`/templates/${tid}/versions/${en}/publish`);
  await post(`/templates/${tid}/versions/${es}/publish`);
  const bare = await post('/templates', { name: 'Bare', locale: 'en', subject: 'Bare', htmlBody: '<p>No way out</p>' });
  const bareVersionId = (bare.versions as { id: string }[])[0]!.id;
  await post(`/templates/${bare.id as string}/versions/${bareVersionId}/publish`);
  return { versionId: en, bareVersionId };
}

async function createCampaign(request: APIRequestContext, body: Record<string, unknown>): Promise<string> {
  const post = await sessionPost(request);
  return (await post('/campaigns', body)).id as string;
}

/** The first .eml under `folder` (recursively) whose text passes `accept`. */

