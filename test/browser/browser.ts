import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { chromium, type APIRequestContext, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { assertBuilt, runCli, startCliServer, type ServerProcess } from '../helpers/cli.js';

/** The system Chromium (Debian package `chromium`); never a downloaded browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots of every page, written on each run (ignored by git). */
export const ARTIFACTS = path.resolve('test/browser/.artifacts');

export async function launch(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Flags that work on a closed network, as root (docs/DASHBOARD.md).
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Records console errors and failed requests (a CSP violation shows up as a console error). */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

const AXE_SOURCE = fs.readFileSync(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * axe-core on the page as it is: no serious or critical violation. axe is
 * evaluated through the DevTools protocol, which the page's CSP does not
 * govern, so the page keeps its real CSP while it is checked.
 */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    // Runs in the page (this file is compiled without the DOM library).
    const page = globalThis as unknown as { document: unknown; axe: { run(ctx: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> } };
    const result = await page.axe.run(page.document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), label).toEqual([]);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

// ── What the dashboard's browser tests share ────────────────────────────────

/** The owner's password in every browser test. */
export const PASSWORD = 'correct horse battery 42';
/** A name or text that must always show as text, never run. */
export const XSS = '<img src=x onerror=alert(1)>';

/** The printed first-run link (`npm start` prints it when no user exists). */
export async function setupLink(server: { output(): string }): Promise<string> {
  for (let i = 0; i < 100 && !server.output().includes('/setup?token='); i++) await new Promise((r) => setTimeout(r, 20));
  const link = /(http:\/\/\S+\/setup\?token=mcu_[0-9A-Za-z]+)/.exec(server.output())?.[1];
  if (!link) throw new Error(`no setup link in the server's output:\n${server.output()}`);
  return link;
}

/**
 * Opens the setup link and creates owner@example.test with PASSWORD, either
 * with a new tenant (`tenantName`) or claiming the tenants made with the CLI;
 * ends on the campaigns page.
 */
export async function createOwner(page: Page, server: { output(): string }, tenant: { name: string } | 'claim' = { name: 'Acme News' }): Promise<void> {
  await page.goto(await setupLink(server));
  await page.getByLabel('Your email').fill('owner@example.test');
  await page.getByLabel('Password (at least 10 characters)').fill(PASSWORD);
  if (tenant === 'claim') await page.getByLabel('Take ownership of the tenants created with the CLI').check();
  else await page.getByLabel('Tenant name').fill(tenant.name);
  await page.getByRole('button', { name: 'Create the owner account' }).click();
  await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
}

/** The first captured email under `folder` (recursively) that `accept` takes, as text. */
export function findEml(folder: string, accept: (text: string) => boolean): string | undefined {
  if (!fs.existsSync(folder)) return undefined;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.eml')) continue;
    const text = fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8');
    if (accept(text)) return text;
  }
  return undefined;
}

/** The invitation link in the invitation captured for `to` (DATA_DIR/outbox/invitations), waiting for it to be written. */
export async function inviteLink(dataDir: string, to?: string): Promise<string> {
  const folder = path.join(dataDir, 'outbox', 'invitations');
  const addressed = to ? new RegExp(`^To: .*${to.replace(/[.]/g, '\\.')}`, 'm') : undefined;
  for (let i = 0; i < 100; i++) {
    const files = fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => f.endsWith('.eml')) : [];
    for (const file of files) {
      // Quoted-printable: soft line breaks and "=" escaped.
      const text = fs.readFileSync(path.join(folder, file), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      if (addressed && !addressed.test(text)) continue;
      const found = /(https?:\/\/[^\s"<>]+\/invite\?token=mci_[0-9A-Za-z]+)/.exec(text);
      if (found) return found[1]!;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no invitation .eml${to ? ` to ${to}` : ''} in ${folder}`);
}

/** POSTs with the page's session (cookie and CSRF token), expecting success; the JSON answer. */
export async function sessionPost(request: APIRequestContext): Promise<(url: string, data?: unknown) => Promise<Record<string, unknown>>> {
  const me = (await (await request.get('/me')).json()) as { csrfToken: string };
  const headers = { 'x-csrf-token': me.csrfToken };
  return async (url, data) => {
    const res = await request.post(url, { headers, ...(data === undefined ? {} : { data }) });
    expect(res.status(), `${url}: ${await res.text()}`).toBeLessThan(300);
    return (await res.json()) as Record<string, unknown>;
  };
}

/** A dashboard under test: `mailingcore start` on a fresh SQLite database, and Chromium on it. */
export interface Dashboard {
  /** DATA_DIR (the database, and captured mail under outbox/). */
  dir: string;
  env: Record<string, string>;
  server: ServerProcess;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and failed requests of `page`. */
  consoleErrors: string[];
  /** Every dialog `page` opened (dismissed): an XSS that ran would open one. */
  dialogs: string[];
  close(): Promise<void>;
}

/**
 * Migrates a fresh SQLite database in a temporary DATA_DIR (no SMTP_URL: mail
 * is captured), lets `beforeStart` use the CLI on it, starts `mailingcore
 * start` and opens a page in Chromium (en-US, 1280 px wide unless `context` says).
 */
export async function startDashboard(
  name: string,
  options: { env?: Record<string, string>; beforeStart?: (env: Record<string, string>) => void | Promise<void>; context?: BrowserContextOptions } = {},
): Promise<Dashboard> {
  assertBuilt();
  if (!fs.existsSync(path.resolve('dist/web/index.html'))) throw new Error('dist/web/ is missing: run "npm run build"');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mc-browser-${name}-`));
  const env = { DATABASE_URL: `sqlite://${path.join(dir, 'mailingcore.db')}`, DATA_DIR: dir, LOG_LEVEL: 'warn', MAILINGCORE_SECRET: 's'.repeat(40), ...options.env };
  expect(runCli(['migrate'], env).status).toBe(0);
  await options.beforeStart?.(env);
  const server = await startCliServer('start', env);
  const browser = await launch();
  const context = await browser.newContext({ baseURL: server.url, locale: 'en-US', viewport: { width: 1280, height: 900 }, ...options.context });
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return {
    dir,
    env,
    server,
    browser,
    context,
    page,
    consoleErrors: watchConsole(page),
    dialogs,
    close: async () => {
      await browser.close();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
