import fs from 'node:fs';
import path from 'node:path';
import type { Dialog, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, createOwner, expectAccessible, inviteLink, screenshot, startDashboard, watchConsole, XSS, type Dashboard } from './browser.js';

/** Data rows; row 1000 (line 1001, after the header) has a broken email. */
const ROWS = 2000;
const BROKEN_ROW = 1000;
/** A style block, inlined into style attributes by the preview (as by publishing): the previews' CSP must let it apply. */
const STYLE = '<style>p { color: #1d4ed8; }</style>';

/**
 * The contacts, import and templates pages in Chromium, against the built
 * CLI's `start` on SQLite: import a CSV with a broken row in the middle
 * (upload progress, the summary names the line), search, cursor paging,
 * a contact's attributes edited to hostile text, its messages, GDPR erase;
 * a two-locale template built in the editor with sandboxed previews, edits
 * that survive a failed save and a reload, publish; a viewer sees no editing
 * controls. axe-core on every page, Spanish once, no dialog ever opens.
 */
describe('contacts and templates in Chromium', () => {
  let run: Dashboard;
  let dir: string;
  let server: Dashboard['server'];
  let browser: Dashboard['browser'];
  let page: Page;
  let consoleErrors: string[];
  let dialogs: string[];

  const csrf = async (p: Page = page) => ((await (await p.request.get('/me')).json()) as { csrfToken: string }).csrfToken;

  beforeAll(async () => {
    run = await startDashboard('contacts');
    ({ dir, server, browser, page, consoleErrors, dialogs } = run);
  });
  afterAll(async () => run?.close());

  it('creates the owner through the printed setup link', async () => {
    await createOwner(page, server);
  });

  it('imports a 2,000-row CSV with a broken row in the middle: progress bar, then a summary naming the line', async () => {
    await page.getByRole('link', { name: 'Contacts', exact: true }).click();
    await page.getByRole('heading', { name: 'Contacts' }).waitFor();
    await page.getByText('No contacts match.').waitFor();
    await page.getByRole('link', { name: 'Import contacts…' }).click();
    await page.getByRole('heading', { name: 'Import contacts' }).waitFor();

    const lines = ['email,locale,optIn,first_name,plan'];
    for (let i = 1; i <= ROWS; i++) {
      const n = String(i).padStart(4, '0');
      const email = i === BROKEN_ROW ? 'not-an-email' : `user${n}@example.test`;
      lines.push(`${email},${i % 2 === 0 ? 'es' : 'en'},true,First${i},${i === 1 ? XSS : 'basic'}`);
    }
    const file = path.join(dir, 'contacts.csv');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    await page.getByLabel('CSV or NDJSON file').setInputFiles(file);

    // Record every value the progress bar takes, and slow the upload so that it is seen between 0 and 100 %.
    // (Strings evaluated in the page: this file is compiled without the DOM library.)
    await page.evaluate(`
      window.progressValues = [];
      new MutationObserver(() => {
        const bar = document.querySelector('.import-progress [role="progressbar"]');
        if (bar) window.progressValues.push(Number(bar.getAttribute('aria-valuenow')));
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    `);
    const cdp = await run.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 32 * 1024 });
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('heading', { name: 'Summary' }).waitFor({ timeout: 30_000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await cdp.detach();

    const values = (await page.evaluate('window.progressValues')) as number[];
    expect(values.some((v) => v > 0 && v < 100), `progress values ${values.join(',')}`).toBe(true);
    expect(values.at(-1)).toBe(100);
    const counters = page.locator('dl.counters');
    expect(await counters.locator('div', { hasText: 'Rows read' }).locator('dd').textContent()).toBe('2,000');
    expect(await counters.locator('div', { hasText: 'Created' }).locator('dd').textContent()).toBe('1,999');
    expect(await counters.locator('div', { hasText: 'Failed' }).locator('dd').textContent()).toBe('1');
    const failed = page.getByRole('table', { name: 'Rows that failed' });
    const rows = failed.locator('tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.locator('td').first().textContent()).toBe(String(BROKEN_ROW + 1).replace(/(\d)(\d{3})$/, '$1,$2'));
    expect(await rows.locator('td').nth(1).textContent()).toMatch(/email/i);
    await expectAccessible(page, 'import summary');
    await screenshot(page, 'c01-import-summary');
  });

  it('lists contacts with cursor paging, searches by prefix and filters by locale', async () => {
    await page.getByRole('link', { name: 'Back to contacts' }).click();
    const table = page.getByRole('table', { name: 'Contacts' });
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(50);
    const firstOnPage1 = await table.locator('tbody tr').first().locator('td').first().textContent();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Page 2').waitFor();
    await expect.poll(() => table.locator('tbody tr').first().locator('td').first().textContent()).not.toBe(firstOnPage1);
    await page.getByRole('button', { name: 'Previous' }).click();
    await page.getByText('Page 1').waitFor();
    await expect.poll(() => table.locator('tbody tr').first().locator('td').first().textContent()).toBe(firstOnPage1);
    await expectAccessible(page, 'contacts');
    await screenshot(page, 'c02-contacts');

    await page.getByLabel('Email or external ID starts with').fill('USER004');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(10);
    expect(new URL(page.url()).search).toBe('?q=USER004');
    await page.getByLabel('Email or external ID starts with').fill('user0');
    await page.getByLabel('Locale').fill('es');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(50);
    const locales = await table.locator('tbody tr td:nth-child(3)').allTextContents();
    expect(new Set(locales)).toEqual(new Set(['es']));
    await page.getByLabel('Email or external ID starts with').fill('nobody');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No contacts match.').waitFor();
  });

  it('shows a contact: hostile attributes as text, an attribute edited, its messages', async () => {
    // A transactional email to the contact, sent with the owner's session, so its message list is not empty.
    const sent = await page.request.post('/emails/send', {
      headers: { 'x-csrf-token': await csrf() },
      data: { to: 'user0001@example.test', subject: `Welcome ${XSS}`, htmlBody: '<p>Welcome</p>' },
    });
    expect(sent.status(), await sent.text()).toBe(202);

    await page.goto('/app/contacts?q=user0001');
    await page.getByRole('link', { name: 'user0001@example.test' }).click();
    await page.getByRole('heading', { name: 'user0001@example.test' }).waitFor();
    const attributes = page.getByRole('table', { name: 'Attributes' });
    expect(await attributes.getByRole('row', { name: /plan/ }).locator('td').textContent()).toBe(XSS);
    expect(await attributes.getByRole('row', { name: /first_name/ }).locator('td').textContent()).toBe('First1');
    const messages = page.getByRole('table', { name: 'Messages received' });
    await messages.waitFor();
    expect(await messages.locator('tbody tr').first().locator('td').first().textContent()).toBe(`Welcome ${XSS}`);
    expect(await messages.locator('tbody tr').first().locator('td').nth(1).textContent()).toBe('Transactional');

    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Name of attribute 1').waitFor();
    const names = await page.locator('[id^="attr-key-"]').evaluateAll((inputs) => inputs.map((i) => (i as unknown as { value: string }).value));
    const firstName = names.indexOf('first_name') + 1;
    await page.getByLabel(`Value of attribute ${firstName}`).fill(`"><script>alert(2)</script>${XSS}`);
    await page.getByLabel('Locale').fill('es-mx');
    await expectAccessible(page, 'contact edit');
    await screenshot(page, 'c03-contact-edit');
    await page.getByRole('button', { name: 'Save' }).click();
    await attributes.waitFor();
    await expect.poll(() => attributes.getByRole('row', { name: /first_name/ }).locator('td').textContent()).toBe(`"><script>alert(2)</script>${XSS}`);
    expect(await page.locator('.facts').textContent()).toContain('es-MX');
    expect(await page.locator('main img').count()).toBe(0);
    await expectAccessible(page, 'contact');
    await screenshot(page, 'c04-contact');
  });

  it('erases a contact only once its email is typed', async () => {
    await page.goto('/app/contacts?q=user0002');
    await page.getByRole('link', { name: 'user0002@example.test' }).click();
    await page.getByRole('heading', { name: 'user0002@example.test' }).waitFor();
    const id = new URL(page.url()).pathname.split('/').pop()!;
    await page.getByRole('button', { name: 'Erase this contact…' }).click();
    const confirm = page.getByRole('button', { name: 'Erase for good' });
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel('Type user0002@example.test to confirm').fill('user0003@example.test');
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel('Type user0002@example.test to confirm').fill('user0002@example.test');
    await expectAccessible(page, 'erase confirmation');
    await screenshot(page, 'c05-erase');
    await confirm.click();
    await page.getByText('The contact was erased.').waitFor();
    expect((await page.request.get(`/contacts/${id}`)).status()).toBe(404);
  });

  it('builds a two-locale template: variables, edits kept when the save fails, sandboxed previews, publish', async () => {
    await page.getByRole('link', { name: 'Templates' }).click();
    await page.getByRole('heading', { name: 'Templates', exact: true }).waitFor();
    await page.getByText('New template').click();
    await page.getByLabel('Name', { exact: true }).fill(`${XSS} Newsletter`);
    await page.getByLabel('Locale of the first variant (e.g. en)').fill('en');
    await page.getByLabel('Subject', { exact: true }).fill('Hello {{ first_name }}');
    await page.getByLabel('HTML (Liquid)').fill(`${STYLE}<p>Hello {{ contact.first_name }} on {{ plan | default: "free" }}</p><script>alert(3)</script>`);
    await page.getByRole('button', { name: 'Create and open the editor' }).click();
    await page.getByRole('heading', { name: `${XSS} Newsletter` }).waitFor();
    const templatePath = new URL(page.url()).pathname;
    const templateId = templatePath.split('/').pop()!;

    const en = page.getByRole('region', { name: /Variant en/ });
    await expect.poll(() => en.getByRole('list', { name: 'Variables detected' }).locator('li').allTextContents()).toEqual(['contact.first_name', 'first_name', 'plan']);

    // The save fails (the API cannot be reached): a clear message, the edits stay, and survive a reload.
    const versionPath = (url: URL) => /\/templates\/[^/]+\/versions\/[^/]+$/.test(url.pathname);
    await page.route(versionPath, (route) => (route.request().method() === 'PATCH' ? route.abort('connectionrefused') : route.continue()));
    const edited = `${STYLE}<p>Hello {{ contact.first_name }}, news for {{ plan | default: "free" }}!</p><script>alert(3)</script>`;
    await en.getByLabel('HTML (en)').fill(edited);
    await en.getByRole('alert').filter({ hasText: 'Not saved.' }).waitFor();
    expect(await en.getByRole('alert').filter({ hasText: 'Not saved.' }).textContent()).toContain('The MailingCore server cannot be reached');
    expect(await en.getByLabel('HTML (en)').inputValue()).toBe(edited);
    await screenshot(page, 'c06-editor-not-saved');
    await page.reload();
    await en.getByLabel('HTML (en)').waitFor();
    expect(await en.getByLabel('HTML (en)').inputValue()).toBe(edited);
    await en.getByText('Unsaved edits kept in this browser were restored.').waitFor();
    // Still unreachable: the autosave of the restored edits fails the same way.
    await en.getByRole('alert').filter({ hasText: 'Not saved.' }).waitFor();
    // The server is back: a later save succeeds and the browser's copy goes.
    await page.unroute(versionPath);
    await en.getByRole('button', { name: 'Save en' }).click();
    await en.getByText('Saved.', { exact: true }).waitFor();
    const stored = await page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('mc.template-edits.'))");
    expect(stored).toEqual([]);
    const version = (await (await page.request.get(`/templates/${templateId}`)).json()) as { versions: { htmlBody: string }[] };
    expect(version.versions[0]!.htmlBody).toBe(edited);

    // A Spanish variant, side by side, edited and autosaved.
    await page.getByLabel('Locale of a new variant').fill('es');
    await page.getByRole('button', { name: 'Add the variant' }).click();
    const es = page.getByRole('region', { name: /Variant es/ });
    await es.getByLabel('Subject (es)').waitFor();
    await es.getByLabel('Subject (es)').fill('Hola {{ first_name }}');
    await es.getByLabel('HTML (es)').fill('<p>Hola {{ contact.first_name }}, plan {{ plan }}</p><script>alert(4)</script>');
    await es.getByText('Saved.', { exact: true }).waitFor();

    // Previews with the sample attributes, then with a contact's own.
    const enFrame = en.locator('iframe');
    const esFrame = es.locator('iframe');
    expect(await enFrame.getAttribute('sandbox')).toBe('');
    expect(await esFrame.getAttribute('sandbox')).toBe('');
    await expect.poll(() => page.frameLocator('iframe[title="HTML preview (es)"]').locator('body').textContent()).toContain('Hola Ana, plan');
    await expect.poll(() => page.frameLocator('iframe[title="HTML preview (en)"]').locator('body').textContent()).toContain('Hello Ana, news for free!');
    await page.getByLabel('Sample attributes (JSON, override the contact’s)').fill('{}');
    await page.getByLabel('Sample contact (email or external ID starts with)').fill('user0001');
    await page.getByRole('button', { name: 'Use this contact' }).click();
    await page.getByText('Previewing with the attributes of user0001@example.test.').waitFor();
    // user0001's first_name was edited to hostile text above: it is escaped in the HTML, so it shows as text in the frame.
    await expect.poll(() => page.frameLocator('iframe[title="HTML preview (es)"]').locator('body').textContent()).toContain(`Hola "><script>alert(2)</script>${XSS}, plan ${XSS}`);
    expect(await page.frameLocator('iframe[title="HTML preview (es)"]').locator('img').count()).toBe(0);
    expect(await es.locator('.preview-subject').textContent()).toContain('Hola "><script>alert(2)</script>');
    // The inlined style applies inside the sandboxed frame (the policy it inherits allows inline style, never script).
    expect(await page.frameLocator('iframe[title="HTML preview (en)"]').locator('p').evaluate((p) => (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(p).color)).toBe('rgb(29, 78, 216)');
    await expectAccessible(page, 'template editor');
    await screenshot(page, 'c07-template-editor');
    // Frames outside the viewport are not painted into a full-page capture: one of the previews in view.
    await enFrame.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'c07b-template-preview.png') });

    await en.getByRole('button', { name: 'Publish en' }).click();
    await es.getByRole('button', { name: 'Publish es' }).click();
    await en.getByRole('button', { name: 'Unpublish en' }).waitFor();
    await es.getByRole('button', { name: 'Unpublish es' }).waitFor();
    expect(await en.getByLabel('HTML (en)').getAttribute('readonly')).toBe('');
    expect(dialogs).toEqual([]);

    await page.getByRole('link', { name: 'Back to templates' }).click();
    await page.getByRole('link', { name: `${XSS} Newsletter` }).waitFor();
    await expectAccessible(page, 'templates');
    await screenshot(page, 'c08-templates');
  });

  it('reads in Spanish', async () => {
    await page.getByLabel('Language').selectOption('es');
    await page.getByRole('heading', { name: 'Plantillas', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Contactos' }).click();
    await page.getByRole('heading', { name: 'Contactos' }).waitFor();
    await page.getByLabel('El correo o el ID externo empieza por').waitFor();
    await page.getByRole('button', { name: 'Siguiente' }).waitFor();
    await expectAccessible(page, 'contacts (es)');
    await screenshot(page, 'c09-contacts-es');
    await page.getByRole('banner').getByLabel('Idioma').selectOption('en');
    await page.getByRole('heading', { name: 'Contacts' }).waitFor();
  });

  it('a viewer reads contacts and templates but gets no editing control', async () => {
    const me = (await (await page.request.get('/me')).json()) as { csrfToken: string; currentTenantId: string };
    const invite = await page.request.post(`/tenants/${me.currentTenantId}/members`, {
      headers: { 'x-csrf-token': me.csrfToken },
      data: { email: 'viewer@example.test', role: 'viewer' },
    });
    expect(invite.status()).toBe(201);
    const link = await inviteLink(dir);
    const viewer = await browser.newContext({ baseURL: server.url, locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const p = await viewer.newPage();
    const errors = watchConsole(p);
    p.on('dialog', (dialog: Dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await p.goto(link.replace(/^https?:\/\/[^/]+/, server.url));
    await p.getByLabel('Password (at least 10 characters)').fill('viewer password 123');
    await p.getByRole('button', { name: 'Accept and sign in' }).click();
    await p.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await p.getByRole('link', { name: 'Contacts', exact: true }).click();
    await p.getByRole('table', { name: 'Contacts' }).waitFor();
    expect(await p.getByRole('link', { name: 'Import contacts…' }).count()).toBe(0);
    await p.goto('/app/contacts?q=user0003');
    await p.getByRole('link', { name: 'user0003@example.test' }).click();
    await p.getByRole('table', { name: 'Attributes' }).waitFor();
    await p.getByRole('heading', { name: 'Messages received' }).waitFor();
    expect(await p.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    expect(await p.getByRole('button', { name: 'Erase this contact…' }).count()).toBe(0);
    await p.getByRole('link', { name: 'Templates' }).click();
    await p.getByRole('link', { name: `${XSS} Newsletter` }).click();
    const en = p.getByRole('region', { name: /Variant en/ });
    await en.getByLabel('HTML (en)').waitFor();
    await p.frameLocator('iframe[title="HTML preview (en)"]').getByText(/Hello Ana/).waitFor();
    expect(await p.getByText('New template').count()).toBe(0);
    expect(await p.getByRole('button', { name: /^(Save|Publish|Unpublish) / }).count()).toBe(0);
    expect(await p.getByRole('button', { name: 'Add the variant' }).count()).toBe(0);
    await expectAccessible(p, 'template editor (viewer)');
    await screenshot(p, 'c10-template-viewer');
    const refused = await p.request.patch(`/contacts/${encodeURIComponent('user0003@example.test')}`, {
      headers: { 'x-csrf-token': await csrf(p) },
      data: { optIn: false },
    });
    expect(refused.status()).toBe(403);
    expect(errors.filter((e) => !expected(e))).toEqual([]);
    await viewer.close();
  });

  it('opened no dialog and logged no unexpected console error', () => {
    expect(dialogs).toEqual([]);
    expect(consoleErrors.filter((e) => !expected(e))).toEqual([]);
    expect(fs.existsSync(path.join(ARTIFACTS, 'c07-template-editor.png'))).toBe(true);
  });
});

/**
 * Console errors a run is expected to log: 4xx answers the pages handle,
 * the save the test made fail on purpose, and the sandbox refusing the
 * template's script (the point of the sandbox).
 */
function expected(error: string): boolean {
  return /status of 4\d\d/.test(error) || /net::ERR_CONNECTION_REFUSED/.test(error) || /Blocked script execution in 'about:srcdoc'/.test(error);
}

