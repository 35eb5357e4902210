import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { TestDnsServer } from '../helpers/dns-server.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { createOwner, expectAccessible, screenshot, startDashboard, watchConsole, XSS, type Dashboard } from './browser.js';

/**
 * The settings pages in a real browser, against the built CLI's `start` on
 * SQLite, with a local SMTP sink (127.0.0.1 is allowed by TEST_OUTBOUND_ENV),
 * a webhook receiver and a DNS server that knows no record: suppressions,
 * SMTP projects, API keys, members and invitations, sending domains,
 * webhooks; the viewer's read-only view; Spanish once; 390 px once.
 * User-controlled names carry an XSS attempt that must show as text.
 */
const SMTP_USER = 'sink-user';
const SMTP_PASS = 'sink-password-7f3a9c';

describe('settings pages in Chromium', () => {
  let run: Dashboard;
  let dir: string;
  let server: Dashboard['server'];
  let sink: SmtpSink;
  let receiver: WebhookReceiver;
  let dns: TestDnsServer;
  let browser: Dashboard['browser'];
  let page: Page;
  let consoleErrors: string[];
  let dialogs: string[];
  let tenantId: string;

  const api = async (method: 'GET' | 'POST' | 'DELETE', url: string, data?: unknown) => {
    const me = (await (await page.request.get(`${server.url}/me`)).json()) as { csrfToken: string };
    return page.request.fetch(`${server.url}${url}`, { method, headers: { 'x-csrf-token': me.csrfToken }, ...(data === undefined ? {} : { data }) });
  };
  const invitationLink = async (email: string) => {
    const list = (await (await api('GET', `/tenants/${tenantId}/members`)).json()) as { invitations: { id: string; email: string }[] };
    const invitation = list.invitations.find((i) => i.email === email);
    expect(invitation, email).toBeDefined();
    const file = path.join(dir, 'outbox', 'invitations', `${invitation!.id}.eml`);
    const text = fs.readFileSync(file, 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    const link = /(https?:\/\/[^\s"<>]+\/invite\?token=mci_[0-9A-Za-z]+)/.exec(text)?.[1];
    expect(link).toBeDefined();
    return link!.replace(/^https?:\/\/[^/]+/, server.url);
  };
  /** Clicks a ConfirmButton and answers Yes. */
  const confirm = async (scope: Page | ReturnType<Page['locator']>, label: string, question: RegExp) => {
    await scope.getByRole('button', { name: label, exact: true }).click();
    const group = page.getByRole('group', { name: question });
    await group.waitFor();
    await group.getByRole('button', { name: 'Yes' }).click();
  };

  beforeAll(async () => {
    sink = await startSmtpSink({ auth: { user: SMTP_USER, pass: SMTP_PASS } });
    receiver = await startWebhookReceiver();
    dns = new TestDnsServer();
    run = await startDashboard('settings', {
      env: { DNS_SERVERS: await dns.start() },
      // The owner claims this tenant at setup: a name with an XSS attempt, and a quota of 5 to reach the 80 % mark and the grace band.
      beforeStart: (env) => expect(runCli(['tenants', 'create', '--name', `Acme ${XSS}`, '--quota', '5', '--json'], env).status).toBe(0),
      context: { viewport: { width: 1280, height: 860 }, permissions: ['clipboard-read', 'clipboard-write'] },
    });
    ({ dir, server, browser, page, consoleErrors, dialogs } = run);
  });

  afterAll(async () => {
    await run?.close();
    await sink?.close();
    await receiver?.close();
    await dns?.close();
  });

  it('creates the owner through the printed setup link', async () => {
    await createOwner(page, server, 'claim');
    tenantId = ((await (await page.request.get(`${server.url}/me`)).json()) as { currentTenantId: string }).currentTenantId;
  });

  it('suppressions: adds two, finds one by the start of its address, removes it after a confirmation', async () => {
    await page.getByRole('link', { name: 'Suppressions' }).click();
    await page.getByRole('heading', { name: 'Suppressions' }).waitFor();
    await page.getByText('No suppressed addresses.').waitFor();
    for (const [email, reason] of [['blocked@example.test', 'complaint'], ['Other@example.test', 'manual']] as const) {
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Reason').selectOption(reason);
      await page.getByRole('button', { name: 'Suppress' }).click();
      await page.getByRole('status').filter({ hasText: `${email} is suppressed.` }).waitFor();
    }
    const row = page.getByRole('row', { name: /blocked@example\.test/ });
    await row.getByRole('cell', { name: 'Complaint' }).waitFor();
    await page.getByRole('row', { name: /Other@example\.test/ }).waitFor();
    await page.getByLabel('Search by address (starts with)').fill('BLOCK');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => page.getByRole('row', { name: /Other@example\.test/ }).count()).toBe(0);
    await row.waitFor();
    await page.getByLabel('Search by address (starts with)').fill('nobody');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('No suppressed address starts with “nobody”.').waitFor();
    await page.getByRole('button', { name: 'Clear the search' }).click();
    await page.getByRole('row', { name: /Other@example\.test/ }).waitFor();
    await expectAccessible(page, 'suppressions');
    await screenshot(page, 'settings-01-suppressions');
    // Keyboard: the question focuses Cancel; Enter cancels and gives the focus back to Remove.
    const focused = () => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } | null } }).document.activeElement?.textContent);
    await row.getByRole('button', { name: 'Remove', exact: true }).click();
    await expect.poll(focused).toBe('Cancel');
    await page.keyboard.press('Enter');
    await expect.poll(focused).toBe('Remove');
    await confirm(row, 'Remove', /Send to blocked@example\.test again\?/);
    await page.getByRole('status').filter({ hasText: 'blocked@example.test is no longer suppressed.' }).waitFor();
    await expect.poll(() => page.getByRole('row', { name: /blocked@example\.test/ }).count()).toBe(0);
    expect((await (await api('GET', '/suppressions')).json()).data.map((s: { email: string }) => s.email)).toEqual(['Other@example.test']);
  });

  it('SMTP projects: a refused host shows at the field; create, verify against the sink, the password never shown; edit; delete', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'SMTP projects' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/app/settings/projects');
    await page.getByRole('button', { name: 'New SMTP project' }).click();
    const form = page.getByRole('form', { name: 'New SMTP project' });
    await form.getByLabel('Name', { exact: true }).fill(`Main ${XSS}`);
    await form.getByLabel('SMTP host').fill('10.1.2.3');
    await form.getByLabel('Port').fill(String(sink.port));
    await form.getByLabel('Username').fill(SMTP_USER);
    await form.getByLabel('Password', { exact: true }).fill(SMTP_PASS);
    await form.getByLabel('From address').fill('news@example.test');
    await form.getByRole('button', { name: 'Save' }).click();
    const hostError = form.locator('#project-host-error');
    await hostError.filter({ hasText: 'This host is not allowed' }).waitFor();
    expect(await form.getByLabel('SMTP host').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, 'projects: host refused');
    await screenshot(page, 'settings-02-project-host-refused');

    await form.getByLabel('SMTP host').fill('127.0.0.1');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: `Main ${XSS} is saved.` }).waitFor();
    const row = page.getByRole('row', { name: /Main/ });
    await row.getByRole('rowheader', { name: `Main ${XSS}` }).waitFor();
    await row.getByRole('cell', { name: 'set', exact: true }).waitFor();
    expect(await page.content()).not.toContain(SMTP_PASS);
    const listed = await (await api('GET', '/projects?page=1&limit=10')).text();
    expect(listed).not.toContain(SMTP_PASS);
    expect(listed).toContain('"hasPassword":true');

    await row.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('status').filter({ hasText: 'the SMTP server accepted the connection and the login' }).waitFor();
    await expectAccessible(page, 'projects');
    await screenshot(page, 'settings-03-projects');

    // Edit: the password field is empty and says one is set; a wrong one makes verify fail with the server's words.
    await row.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: /Edit Main/ });
    expect(await edit.getByLabel('Password', { exact: true }).inputValue()).toBe('');
    await edit.getByText('A password is set.').waitFor();
    await edit.getByLabel('Password', { exact: true }).fill('not-the-sink-password');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'is saved.' }).waitFor();
    await page.getByRole('row', { name: /Main/ }).getByRole('button', { name: 'Verify' }).click();
    const failed = page.getByRole('status').filter({ hasText: 'the SMTP server could not be used' });
    await failed.waitFor();
    expect(await failed.textContent()).toContain(`Main ${XSS}`);
    expect(await page.content()).not.toContain('not-the-sink-password');

    await confirm(page.getByRole('row', { name: /Main/ }), 'Delete', /Delete the SMTP project/);
    await page.getByText('No SMTP projects yet').waitFor();
  });

  it('API keys: scopes of the role, the secret shown once, revoked → 401', async () => {
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    const form = page.getByRole('form', { name: 'Create an API key' });
    // The owner holds every scope.
    expect(await form.getByRole('checkbox').count()).toBe(19);
    await form.getByRole('button', { name: 'Create the key' }).click();
    await page.getByText('Choose at least one permission.').waitFor();
    await form.getByLabel('Name').fill(`CI ${XSS}`);
    await form.getByRole('checkbox', { name: 'contacts:read' }).check();
    await form.getByRole('button', { name: 'Create the key' }).click();
    await page.getByText('Copy it now: you will not see it again.').waitFor();
    const secret = await page.getByRole('textbox', { name: 'API key' }).inputValue();
    expect(secret).toMatch(/^mc_/);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
    const row = page.getByRole('row', { name: /CI/ });
    await row.getByRole('rowheader', { name: `CI ${XSS}` }).waitFor();
    await row.getByText('contacts:read').waitFor();
    await row.getByRole('cell', { name: 'Never' }).waitFor();
    await expectAccessible(page, 'api keys: secret shown');
    await screenshot(page, 'settings-04-api-key-created');

    const use = () => fetch(`${server.url}/contacts`, { headers: { authorization: `Bearer ${secret}`, 'x-tenant-id': tenantId } });
    expect((await use()).status).toBe(200);
    await page.reload();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.getByRole('row', { name: /CI/ }).waitFor();
    expect(await page.content()).not.toContain(secret);
    // Last use is written in batches (every 5 s): it becomes a date.
    await expect
      .poll(
        async () => {
          await page.reload();
          await page.getByRole('row', { name: /CI/ }).waitFor();
          return page.getByRole('row', { name: /CI/ }).getByRole('cell', { name: 'Never' }).count();
        },
        { timeout: 20_000, interval: 1_000 },
      )
      .toBe(0);

    await confirm(page.getByRole('row', { name: /CI/ }), 'Revoke', /Revoke the key CI/);
    await page.getByRole('status').filter({ hasText: 'is revoked.' }).waitFor();
    await page.getByRole('row', { name: /CI/ }).getByText(/^Revoked /).waitFor();
    expect((await use()).status).toBe(401);
  });

  it('members: invite two, resend one (old link refused, new accepted), cancel the other, change a role; the last owner stays', async () => {
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Members' }).click();
    await page.getByRole('heading', { name: 'Members', exact: true }).waitFor();
    const form = page.getByRole('form', { name: 'Invite a member' });
    for (const [email, role] of [['first@example.test', 'editor'], ['second@example.test', 'viewer']] as const) {
      await form.getByLabel('Email').fill(email);
      await form.getByLabel('Role').selectOption(role);
      await form.getByRole('button', { name: 'Send the invitation' }).click();
      await page.getByRole('status').filter({ hasText: `An invitation was sent to ${email}.` }).waitFor();
    }
    const invitations = page.getByRole('table', { name: 'Pending invitations' });
    await invitations.getByRole('row', { name: /second@example\.test/ }).waitFor();
    const oldLink = await invitationLink('first@example.test');
    const cancelledLink = await invitationLink('second@example.test');

    await invitations.getByRole('row', { name: /first@example\.test/ }).getByRole('button', { name: 'Resend' }).click();
    await page.getByRole('status').filter({ hasText: 'A new link was sent to first@example.test; the previous one no longer works.' }).waitFor();
    const newLink = await invitationLink('first@example.test');
    expect(newLink).not.toBe(oldLink);

    await confirm(invitations.getByRole('row', { name: /second@example\.test/ }), 'Cancel invitation', /Cancel the invitation of second@example\.test/);
    await page.getByRole('status').filter({ hasText: 'The invitation of second@example.test is cancelled.' }).waitFor();
    await expect.poll(() => invitations.getByRole('row', { name: /second@example\.test/ }).count()).toBe(0);
    await expectAccessible(page, 'members');
    await screenshot(page, 'settings-05-members');

    const invitee = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 860 } });
    const p = await invitee.newPage();
    const errors = watchConsole(p);
    for (const refused of [oldLink, cancelledLink]) {
      await p.goto(refused);
      await p.getByLabel('Password (at least 10 characters)').fill('invitee password 123');
      await p.getByRole('button', { name: 'Accept and sign in' }).click();
      await p.getByRole('alert').filter({ hasText: 'This invitation link is not valid, was already used, or has expired.' }).waitFor();
    }
    await p.goto(newLink);
    await p.getByLabel('Password (at least 10 characters)').fill('invitee password 123');
    await p.getByRole('button', { name: 'Accept and sign in' }).click();
    await p.getByText(/first@example\.test \(editor\)/).waitFor();

    // The owner makes them a viewer.
    await page.reload();
    const members = page.getByRole('table', { name: 'Members' });
    await members.getByRole('row', { name: /first@example\.test/ }).waitFor();
    await page.getByLabel('Role of first@example.test').selectOption('viewer');
    await page.getByRole('status').filter({ hasText: 'first@example.test is now viewer.' }).waitFor();
    // The only owner cannot step down: the API's refusal is shown.
    await page.getByLabel('Role of owner@example.test').selectOption('admin');
    await page.getByRole('alert').filter({ hasText: 'A tenant keeps at least one owner' }).waitFor();
    expect(await page.getByLabel('Role of owner@example.test').inputValue()).toBe('owner');

    // The viewer: the settings they may read, without controls; the others are not found.
    await p.reload();
    await p.getByText(/first@example\.test \(viewer\)/).waitFor();
    await p.getByRole('link', { name: 'Settings' }).click();
    await p.getByRole('heading', { name: 'SMTP projects' }).waitFor();
    const subnav = p.getByRole('navigation', { name: 'Settings' });
    expect(await subnav.getByRole('link').allTextContents()).toEqual(['SMTP projects', 'Sending domains']);
    await p.getByText('Your role can see this page but not change it.').waitFor();
    expect(await p.getByRole('button', { name: 'New SMTP project' }).count()).toBe(0);
    await p.getByRole('link', { name: 'Suppressions' }).click();
    await p.getByRole('heading', { name: 'Suppressions' }).waitFor();
    expect(await p.getByRole('button', { name: 'Suppress' }).count()).toBe(0);
    await p.goto(`${server.url}/app/settings/members`);
    await p.getByRole('heading', { name: 'Page not found' }).waitFor();
    await expectAccessible(p, 'viewer: not found');
    expect(errors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
    await invitee.close();
  });

  it('sending domains: add, records to publish with copy buttons, verify with reasons, rotate DKIM, delete; 390 px wide', async () => {
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Sending domains' }).click();
    await page.getByRole('heading', { name: 'Sending domains' }).waitFor();
    await page.getByText('No sending domains yet.').waitFor();
    await page.getByRole('textbox', { name: 'Domain' }).fill('news.example.test');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const card = page.getByRole('region', { name: 'news.example.test' });
    const records = card.getByRole('table', { name: 'DNS records of news.example.test' });
    await records.waitFor();
    const dkim = records.getByRole('row', { name: /^DKIM/ });
    expect(await dkim.locator('code').nth(1).textContent()).toMatch(/^v=DKIM1; k=rsa; p=/);
    await dkim.getByRole('button', { name: 'Copy the value of the DKIM record' }).click();
    await dkim.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText())).toMatch(/^v=DKIM1/);
    await card.getByText('Not checked yet').waitFor();

    await card.getByRole('button', { name: 'Verify now' }).click();
    await card.getByRole('status').filter({ hasText: /DNS check: (Pending|Failed)\./ }).waitFor();
    await card.getByText(/Last checked/).waitFor();
    expect(await card.getByText(/^Why: /).count()).toBeGreaterThan(0);
    await expectAccessible(page, 'domains');
    await screenshot(page, 'settings-06-domains');

    await page.setViewportSize({ width: 390, height: 844 });
    await expectAccessible(page, 'domains at 390 px');
    await screenshot(page, 'settings-07-domains-390px');
    await page.setViewportSize({ width: 1280, height: 860 });

    await confirm(card, 'Rotate DKIM key', /Create a new DKIM key for news\.example\.test/);
    await card.getByRole('status').filter({ hasText: 'A new DKIM key was created' }).waitFor();
    await records.getByRole('row', { name: /^Next DKIM/ }).waitFor();

    await confirm(card, 'Delete', /Delete the domain news\.example\.test/);
    await page.getByText('No sending domains yet.').waitFor();
  });

  it('webhooks: create (secret once), a failing test delivery, retried and delivered; disable and enable', async () => {
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    const url = `${receiver.url}/hooks/mailingcore`;
    await page.getByLabel('URL').fill(url);
    await page.getByRole('checkbox', { name: 'email.sent' }).check();
    await page.getByRole('checkbox', { name: 'email.bounced' }).check();
    await page.getByRole('button', { name: 'Create the endpoint' }).click();
    await page.getByText('Copy it now to verify the signatures: you will not see it again.').waitFor();
    receiver.secret = await page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    expect(receiver.secret.length).toBeGreaterThan(20);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.content()).not.toContain(receiver.secret);

    const card = page.getByRole('region', { name: url });
    await card.getByText('email.sent, email.bounced').waitFor();
    await receiver.behave('status', 500);
    await card.getByRole('button', { name: 'Send a test' }).click();
    await card.getByRole('status').filter({ hasText: `A test event was sent to ${url}: Failed (500).` }).waitFor();
    const deliveries = card.getByRole('table', { name: `Deliveries to ${url}` });
    const failedRow = deliveries.getByRole('row', { name: /webhook\.test/ });
    await failedRow.getByText('Failed').waitFor();
    await failedRow.getByRole('cell', { name: '500', exact: true }).waitFor();
    await expectAccessible(page, 'webhooks');
    await screenshot(page, 'settings-08-webhooks');

    await receiver.behave('ok');
    await failedRow.getByRole('button', { name: 'Retry' }).click();
    await card.getByRole('status').filter({ hasText: 'The delivery is queued again.' }).waitFor();
    await receiver.waitFor(1);
    await expect
      .poll(async () => {
        await card.getByRole('button', { name: 'Refresh' }).click();
        return deliveries.getByRole('row', { name: /webhook\.test/ }).getByText('Delivered').count();
      })
      .toBe(1);

    await card.getByRole('button', { name: 'Disable' }).click();
    await card.getByText('Disabled', { exact: true }).waitFor();
    await card.getByRole('button', { name: 'Enable' }).click();
    await card.getByText('Enabled', { exact: true }).waitFor();
  });

  it('usage: the 80 % warning, then the grace band', async () => {
    const send = async (n: number) => {
      const res = await api('POST', '/emails/send', { to: `reader${n}@example.test`, subject: 'Receipt', htmlBody: '<p>Thanks</p>' });
      expect(res.status(), await res.text()).toBeLessThan(300);
    };
    for (let n = 1; n <= 4; n++) await send(n);
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { name: 'Usage' }).waitFor();
    await page.getByText('4 of 5 emails (80 %)').waitFor();
    await page.getByRole('status').filter({ hasText: 'Over 80 % of the monthly quota is used.' }).waitFor();
    await expectAccessible(page, 'usage: warning');
    await screenshot(page, 'settings-10-usage-warning');
    await send(5);
    await page.reload();
    await page.getByText('5 of 5 emails (100 %)').waitFor();
    await page.getByRole('status').filter({ hasText: 'sending continues in the grace band up to 110 %' }).waitFor();
    // The meter stays in the page, under its heading, with the grace band drawn inside it.
    const meter = page.getByRole('meter');
    const meterBox = (await meter.boundingBox())!;
    const headingBox = (await page.getByRole('heading', { name: 'Emails sent this month' }).boundingBox())!;
    expect(meterBox.y).toBeGreaterThan(headingBox.y);
    expect(meterBox.x).toBe(headingBox.x);
    const bandBox = (await meter.locator('.quota-grace-band').boundingBox())!;
    expect(bandBox.x).toBeGreaterThan(meterBox.x);
    expect(bandBox.x + bandBox.width).toBeLessThanOrEqual(meterBox.x + meterBox.width);
    await screenshot(page, 'settings-11-usage-grace');
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Webhooks' }).click();
  });

  it('reads in Spanish', async () => {
    await page.getByLabel('Language').selectOption('es');
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await page.getByRole('navigation', { name: 'Ajustes' }).getByRole('link', { name: 'Miembros' }).click();
    await page.getByRole('heading', { name: 'Miembros', exact: true }).waitFor();
    await page.getByRole('heading', { name: 'Invitar a un miembro' }).waitFor();
    await page.getByRole('button', { name: 'Enviar la invitación' }).waitFor();
    await page.getByRole('link', { name: 'Supresiones' }).waitFor();
    await expectAccessible(page, 'members (es)');
    await screenshot(page, 'settings-09-members-es');
    await page.getByLabel('Idioma').selectOption('en');
  });

  it('showed every name literally, with no dialog and no console error (but the expected 4xx answers)', async () => {
    expect(dialogs).toEqual([]);
    expect(consoleErrors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
  });
});
