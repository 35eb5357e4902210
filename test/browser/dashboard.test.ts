import type { APIRequestContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { expectAccessible, inviteLink, PASSWORD, screenshot, sessionPost, setupLink, startDashboard, watchConsole, type Dashboard } from './browser.js';

/**
 * The dashboard in a real browser, against the built CLI's `start` on SQLite:
 * the printed setup link → owner + tenant → campaigns → detail → usage →
 * Spanish → sign out → sign in; another tenant's campaign never shows; a viewer
 * (invited through the members API) sees no Send button. axe-core on every page.
 */
describe('dashboard in Chromium', () => {
  let run: Dashboard;
  let dir: string;
  let server: Dashboard['server'];
  let browser: Dashboard['browser'];
  let page: Page;
  let consoleErrors: string[];
  let other: { tenantId: string; apiKey: string; campaignId: string };
  let campaignId: string;

  beforeAll(async () => {
    // A tenant made with the CLI, which the owner below does not claim: its data must never show.
    let created!: { tenant: { id: string }; apiKey: string };
    run = await startDashboard('dashboard', {
      beforeStart: (cliEnv) => void (created = JSON.parse(runCli(['tenants', 'create', '--name', 'Elsewhere', '--json'], cliEnv).stdout) as typeof created),
      context: { viewport: { width: 1280, height: 860 } },
    });
    ({ dir, server, browser, page, consoleErrors } = run);
    const res = await fetch(`${server.url}/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.apiKey}`, 'x-tenant-id': created.tenant.id, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Elsewhere secret campaign' }),
    });
    expect(res.status).toBe(201);
    other = { tenantId: created.tenant.id, apiKey: created.apiKey, campaignId: ((await res.json()) as { id: string }).id };
  });

  afterAll(async () => run?.close());

  it('opens the printed setup link and creates the owner and a tenant', async () => {
    const response = await page.goto(await setupLink(server));
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByRole('heading', { name: 'Set up MailingCore' }).waitFor();
    await expectAccessible(page, 'setup');
    await screenshot(page, '01-setup');
    await page.getByLabel('Your email').fill('owner@example.test');
    await page.getByLabel('Password (at least 10 characters)').fill(PASSWORD);
    await page.getByLabel('Tenant name').fill('Acme News');
    await page.getByRole('button', { name: 'Create the owner account' }).click();
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/app/campaigns');
    expect(page.url()).not.toContain('token=');
    await expect.poll(() => page.getByText('No campaigns yet.').isVisible()).toBe(true);
  });

  it('lists the campaigns seeded through the API, filtered and paged, never another tenant\'s', async () => {
    campaignId = await seed(page.request);
    await page.reload();
    await page.getByRole('link', { name: 'June update' }).waitFor();
    await expect.poll(() => page.getByText('23 campaigns').isVisible()).toBe(true);
    expect(await page.getByText('Elsewhere secret campaign').count()).toBe(0);
    expect(await page.getByRole('progressbar').count()).toBe(20);
    await expectAccessible(page, 'campaigns');
    await screenshot(page, '02-campaigns');
    // Paging: 23 campaigns, 20 a page.
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Page 2 of 2').waitFor();
    expect(await page.getByRole('progressbar').count()).toBe(3);
    // Status filter, keyboard only: focus the select and pick "Sent" (none).
    await page.getByLabel('Status').focus();
    await page.getByLabel('Status').selectOption('SENT');
    await page.getByText('No campaigns yet.').waitFor();
    await page.getByLabel('Status').selectOption('DRAFT');
    await expect.poll(() => page.getByText('23 campaigns').isVisible()).toBe(true);
    expect(new URL(page.url()).search).toBe('?status=DRAFT');
  });

  it('shows a campaign: counters, coverage with the uncovered locale highlighted, Send for the owner', async () => {
    await page.goto(`${server.url}/app/campaigns`);
    await page.getByRole('link', { name: 'June update' }).click();
    await page.getByRole('heading', { name: 'June update' }).waitFor();
    const coverage = page.getByRole('table', { name: 'Locale coverage' });
    await coverage.waitFor();
    const frRow = coverage.getByRole('row', { name: /fr/ });
    expect(await frRow.getAttribute('class')).toBe('uncovered');
    expect(await frRow.textContent()).toContain('No published variant');
    expect(await coverage.getByRole('row', { name: /es/ }).first().getAttribute('class')).toBeNull();
    await page.getByText('Locales without a published variant: 1.').waitFor();
    expect(await page.getByRole('button', { name: 'Send…' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Send…' }).click();
    await page.getByText('Send this campaign to 4 contacts now?').waitFor();
    await expectAccessible(page, 'campaign detail');
    await screenshot(page, '03-campaign-detail');
    await page.getByRole('button', { name: 'Cancel' }).click();
    // Another tenant's campaign, by its id: the API answers 404 for this tenant.
    await page.goto(`${server.url}/app/campaigns/${other.campaignId}`);
    await page.getByRole('alert').filter({ hasText: 'Not found.' }).waitFor();
    expect(await page.getByText('Elsewhere secret campaign').count()).toBe(0);
  });

  it('shows usage with the quota meter', async () => {
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { name: 'Usage' }).waitFor();
    await page.getByRole('meter').waitFor();
    await page.getByText('Within the monthly quota.').waitFor();
    await expectAccessible(page, 'usage');
    await screenshot(page, '04-usage');
  });

  it('switches to Spanish, signs out, refuses a wrong password, signs in again', async () => {
    await page.getByLabel('Language').selectOption('es');
    await page.getByRole('heading', { name: 'Consumo' }).waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('es');
    await page.getByRole('link', { name: 'Campañas' }).click();
    await page.getByRole('heading', { name: 'Campañas' }).waitFor();
    await page.getByRole('cell', { name: 'Borrador' }).first().waitFor();
    await expectAccessible(page, 'campaigns (es)');
    await screenshot(page, '05-campaigns-es');
    await page.getByRole('button', { name: 'Cerrar sesión' }).click();
    await page.getByRole('heading', { name: 'Iniciar sesión' }).waitFor();
    // The choice is remembered; switch back to English for the rest.
    await page.getByLabel('Idioma').selectOption('en');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // Signed out: an app page sends to sign-in.
    await page.goto(`${server.url}/app/usage`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill('owner@example.test');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong email or password.' }).waitFor();
    await expectAccessible(page, 'sign-in with an error');
    await screenshot(page, '06-sign-in-error');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Usage' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/app/usage');
  });

  it('shows the rate-limit message after repeated failures', async () => {
    const fresh = await browser.newContext({ locale: 'en-US' });
    const p = await fresh.newPage();
    await p.goto(`${server.url}/sign-in`);
    await p.getByLabel('Email').fill('nobody@example.test');
    await p.getByLabel('Password').fill('wrong password');
    // 5 failures in a row are free, the 6th locks the address for 1 s: the 7th is refused before any hashing (docs/ACCOUNTS.md).
    const limited = p.getByRole('alert').filter({ hasText: /Too many attempts\. Wait \d+ s, then try again\./ });
    for (let i = 0; i < 10 && !(await limited.isVisible()); i++) {
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('alert').filter({ hasText: /Wrong email or password|Too many attempts/ }).waitFor();
      await expect.poll(() => p.getByRole('button', { name: 'Sign in' }).isEnabled()).toBe(true);
    }
    await limited.waitFor();
    await screenshot(p, '08-sign-in-rate-limited');
    await fresh.close();
  });

  it('a viewer invited through the members API accepts the link and sees no Send button', async () => {
    const me = (await (await page.request.get(`${server.url}/me`)).json()) as { csrfToken: string; currentTenantId: string };
    const invite = await page.request.post(`${server.url}/tenants/${me.currentTenantId}/members`, {
      headers: { 'x-csrf-token': me.csrfToken },
      data: { email: 'viewer@example.test', role: 'viewer' },
    });
    expect(invite.status()).toBe(201);
    const link = await inviteLink(dir);
    expect(link).toMatch(/\/invite\?token=mci_/);
    const viewer = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 860 } });
    const p = await viewer.newPage();
    const errors = watchConsole(p);
    await p.goto(link.replace(/^https?:\/\/[^/]+/, server.url));
    await p.getByRole('heading', { name: 'Accept the invitation' }).waitFor();
    await expectAccessible(p, 'invite');
    await screenshot(p, '07-invite');
    await p.getByLabel('Password (at least 10 characters)').fill('viewer password 123');
    await p.getByRole('button', { name: 'Accept and sign in' }).click();
    await p.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await p.getByText(/viewer@example\.test \(viewer\)/).waitFor();
    await p.getByRole('link', { name: 'June update' }).click();
    await p.getByRole('heading', { name: 'June update' }).waitFor();
    await p.getByRole('table', { name: 'Locale coverage' }).waitFor();
    expect(await p.getByRole('button', { name: 'Send…' }).count()).toBe(0);
    // And the API refuses it too.
    const viewerMe = (await (await p.request.get(`${server.url}/me`)).json()) as { csrfToken: string };
    const send = await p.request.post(`${server.url}/campaigns/${campaignId}/send`, { headers: { 'x-csrf-token': viewerMe.csrfToken } });
    expect(send.status()).toBe(403);
    expect(await p.getByText('Elsewhere secret campaign').count()).toBe(0);
    expect(errors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
    await viewer.close();
  });

  it('answered every page under its CSP without a console error (but the expected 4xx answers)', () => {
    expect(consoleErrors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
  });

  it('says so clearly when the server cannot be reached', async () => {
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('link', { name: 'June update' }).waitFor();
    await server.stop();
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('alert').filter({ hasText: 'The MailingCore server cannot be reached.' }).waitFor();
    await page.getByRole('button', { name: 'Try again' }).waitFor();
    await screenshot(page, '09-unreachable');
  });
});

/** Contacts in en, es and fr; a template with en and es variants; 23 draft campaigns. Returns "June update"'s id. */
async function seed(request: APIRequestContext): Promise<string> {
  const post = await sessionPost(request);
  await post('/contacts/bulk', {
    contacts: [
      { email: 'ana@example.test', locale: 'es', optIn: true },
      { email: 'bob@example.test', locale: 'en', optIn: true },
      { email: 'carla@example.test', locale: 'es-MX', optIn: true },
      { email: 'fabien@example.test', locale: 'fr', optIn: true },
    ],
  });
  const template = await post('/templates', { name: 'Newsletter', locale: 'en', subject: 'News', htmlBody: '<p>Hello</p>' });
  const en = (template.versions as { id: string }[])[0]!.id;
  const es = (await post(`/templates/${template.id as string}/versions`, { locale: 'es', localeGroupId: en, subject: 'Noticias', htmlBody: '<p>Hola</p>' })).id as string;
  await post(`/templates/${template.id as string}/versions/${en}/publish`);
  await post(`/templates/${template.id as string}/versions/${es}/publish`);
  for (let i = 1; i <= 22; i++) await post('/campaigns', { name: `Draft ${String(i).padStart(2, '0')}`, templateVersionId: en, audienceFilter: { optIn: true } });
  return (await post('/campaigns', { name: 'June update', subject: 'June news', templateVersionId: en, audienceFilter: { optIn: true } })).id as string;
}

