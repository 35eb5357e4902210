import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createContainer, type Container } from '../../src/container.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { buildApp } from '../../src/app.js';
import type { App } from '../../src/http/types.js';
import { createLogger } from '../../src/server.js';
import { TEST_OUTBOUND, TEST_SECRET, TestClock } from '../helpers/app.js';
import { createTestDatabase, DIALECTS } from '../helpers/databases.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

const WEBHOOK_SECRET = 'whsec_given-by-the-tenant-0123456789abcdefABCDEF';

const PASSWORD = 'Sm7p-P@ss-never-in-logs-0c3f';
const NEW_PASSWORD = 'Rot4ted-P@ss-never-in-logs-77aa';
const SMTP_USER = 'mailer';

/** The logger the server makes (createLogger: level, redaction), its output captured in memory instead of stdout. */
function capturingLogger(): { logger: FastifyBaseLogger; text: () => string } {
  const lines: string[] = [];
  const logger = createLogger({ logLevel: 'trace' } as Config);
  (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] = { write: (line: string) => lines.push(line) };
  return { logger, text: () => lines.join('') };
}

/** Every form a secret could take on the way to a log: as is, and as SMTP AUTH PLAIN / LOGIN send it. */
const formsOf = (secret: string, user = SMTP_USER) => [
  secret,
  Buffer.from(secret).toString('base64'),
  Buffer.from(`\u0000${user}\u0000${secret}`).toString('base64'),
  encodeURIComponent(secret),
];

describe.each(DIALECTS)('log redaction (%s)', (dialect) => {
  let app: App;
  let container: Container;
  let sink: SmtpSink;
  let drop: () => Promise<void> = async () => {};
  const capture = capturingLogger();

  beforeAll(async () => {
    sink = await startSmtpSink({ auth: { user: SMTP_USER, pass: PASSWORD } });
    const testDb = await createTestDatabase(dialect);
    drop = testDb.drop;
    const database = openDatabase(testDb.config, { poolSize: 5 });
    await migrateToLatest(database);
    container = createContainer(database, { secret: TEST_SECRET, logger: capture.logger, clock: new TestClock().fn, outbound: TEST_OUTBOUND });
    app = await buildApp(container, { logger: capture.logger });
  });

  afterAll(async () => {
    await app?.close();
    await container?.close();
    await drop();
    await sink?.close();
  });

  it('writes neither API keys, SMTP passwords nor webhook secrets to the log, at trace level, on any path', async () => {
    const { tenant, apiKey } = await container.tenants.create({ name: 'Logged' });
    const other = await container.tenants.create({ name: 'Other' });
    const headers = { authorization: `Bearer ${apiKey}`, 'x-tenant-id': tenant.id };
    const call = async (method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, body?: unknown, extra: Record<string, string> = {}) => {
      const res = await app.inject({
        method,
        url,
        headers: { ...headers, ...extra },
        ...(body === undefined ? {} : typeof body === 'string' ? { payload: body, headers: { ...headers, 'content-type': 'application/json', ...extra } } : { payload: body as object }),
      });
      expect(res.statusCode, `${method} ${url} → ${res.body}`).toBeLessThan(500);
      return res;
    };
    const project = (pass: string, name: string) => ({
      name,
      smtp: { host: '127.0.0.1', port: sink.port, secure: false, user: SMTP_USER, pass },
      fromEmail: 'news@logged.test',
    });

    // Requests that succeed, and requests refused at each step of authentication.
    await call('GET', '/campaigns');
    await call('GET', '/usage');
    await call('GET', '/campaigns', undefined, { authorization: `Bearer ${other.apiKey}` }); // 403 tenant mismatch
    await call('GET', '/campaigns', undefined, { 'x-tenant-id': '' }); // 400 missing tenant
    await call('GET', `/campaigns?api_key=x`, undefined, { authorization: `Bearer ${apiKey}x` }); // 401 unknown key
    await call('GET', '/no-such-route');

    // SMTP projects: created, refused, updated, verified — the password in every body.
    const created = await call('POST', '/projects', project(PASSWORD, 'Main'));
    expect(created.statusCode, created.body).toBe(201);
    const projectId = created.json().id as string;
    await call('POST', '/projects', { ...project(PASSWORD, 'Refused'), fromEmail: 'not an address' }); // 400 validation
    await call('POST', '/projects', `{"name":"Broken","smtp":{"pass":"${PASSWORD}"`); // 400 invalid JSON
    await call('POST', '/projects', { ...project(PASSWORD, 'Unknown field'), password: PASSWORD, apiKey }); // 400 unknown fields
    expect((await call('POST', `/projects/${projectId}/verify`)).json()).toEqual({ ok: true });
    const wrong = await call('POST', '/projects', project(`${PASSWORD}-wrong`, 'Wrong'));
    expect((await call('POST', `/projects/${wrong.json().id}/verify`)).json().ok).toBe(false);

    // A campaign sent through the project: fan-out and delivery log as they go.
    await call('PUT', '/contacts', { email: 'reader@logged.test', optIn: true, attributes: { first_name: 'Ann' } });
    const template = await call('POST', '/templates', { name: 'T', subject: 'Hi {{ first_name }}', htmlBody: '<p>Hi</p><a href="{{ unsubscribeUrl }}">x</a>' });
    const versionId = template.json().versions[0].id as string;
    await call('POST', `/templates/${template.json().id}/versions/${versionId}/publish`);
    const campaign = await call('POST', '/campaigns', { name: 'Logged', templateVersionId: versionId, projectId });
    expect((await call('POST', `/campaigns/${campaign.json().id}/test`, { emails: ['tester@logged.test'] })).json().results[0].status).toBe('sent');
    expect((await call('POST', `/campaigns/${campaign.json().id}/send`)).statusCode).toBe(202);
    const worker = container.createWorker();
    for (let i = 0; i < 50 && sink.messages.length < 2; i++) {
      await worker.runOnce();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(sink.messages.length).toBe(2); // the test send and the campaign's one message, both authenticated
    expect(sink.messages.every((m) => m.user === SMTP_USER)).toBe(true);

    // The password is changed; the key is used once more.
    await call('PATCH', `/projects/${projectId}`, { smtp: { pass: NEW_PASSWORD } });
    await call('GET', `/projects/${projectId}`);

    // Webhook endpoints: a given and a generated secret, a delivery signed with each, a test send.
    const receiver = await startWebhookReceiver();
    const webhookSecrets: string[] = [WEBHOOK_SECRET];
    try {
      await call('POST', '/webhooks/endpoints', { url: `${receiver.url}/given`, events: ['contact.unsubscribed'], secret: WEBHOOK_SECRET });
      const generated = await call('POST', '/webhooks/endpoints', { url: `${receiver.url}/generated`, events: ['contact.unsubscribed'] });
      webhookSecrets.push(generated.json().secret as string);
      await call('POST', '/webhooks/endpoints', { url: `${receiver.url}/short`, events: ['email.sent'], secret: 'short-secret' }); // 400
      await call('POST', '/suppressions', { email: 'gone@logged.test', reason: 'manual' });
      await container.createWebhookDispatcher().runOnce();
      expect(receiver.received).toHaveLength(2);
      await call('POST', `/webhooks/endpoints/${generated.json().id}/test`);
    } finally {
      await receiver.close();
    }

    // What the redaction configuration does when a caller does log such objects.
    capture.logger.info({ req: { headers: { authorization: `Bearer ${apiKey}` } }, smtp: { pass: PASSWORD }, settings: { password: NEW_PASSWORD } }, 'redaction probe');

    const log = capture.text();
    expect(log).toContain('incoming request'); // the capture works: Fastify's request lines are there…
    expect(log).toContain('[redacted]'); // …and so is the probe, censored
    const leaks = [apiKey, apiKey.slice(8), other.apiKey, ...formsOf(PASSWORD), ...formsOf(NEW_PASSWORD), ...webhookSecrets].filter((secret) => log.includes(secret));
    expect(leaks, 'secrets found in the log').toEqual([]);
  });

  it('writes neither passwords, session cookies, CSRF tokens, setup nor invitation tokens to the log', async () => {
    const { tenant } = await container.tenants.create({ name: 'Accounts logged' });
    const ACCOUNT_PASSWORD = 'Acc0unt-P@ss-never-in-logs-51de';
    const setupLink = await container.accounts.issueSetupLink();
    const setupToken = new URL(setupLink!).searchParams.get('token')!;
    const inject = (method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = {}) =>
      app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
    // The link as a browser opens it (the dashboard's page, built by `npm test`'s build), then the page's own check: the URLs are logged, the token is not.
    const page = await inject('GET', `/setup?token=${setupToken}`);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect((await inject('GET', `/auth/setup?token=${setupToken}`)).json()).toEqual({ open: true });
    // Refused first (a weak password, which the validation error must not echo), then the real one.
    await inject('POST', '/setup', { token: setupToken, email: 'owner@logged.test', password: 'weak', tenantName: 'X' });
    const setup = await inject('POST', '/setup', { token: setupToken, email: 'owner@logged.test', password: ACCOUNT_PASSWORD, tenantName: 'Own' });
    expect(setup.statusCode, setup.body).toBe(201);
    await inject('POST', '/auth/sign-in', { email: 'owner@logged.test', password: `${ACCOUNT_PASSWORD}-wrong` });
    const signedIn = await inject('POST', '/auth/sign-in', { email: 'owner@logged.test', password: ACCOUNT_PASSWORD });
    const cookie = signedIn.cookies.find((c) => c.name === 'mc_session')!.value;
    const csrf = signedIn.json().csrfToken as string;
    const session = { cookie: `mc_session=${cookie}`, 'x-csrf-token': csrf };
    await inject('GET', '/me', undefined, session);
    await inject('POST', '/auth/sign-out', undefined, { cookie: `mc_session=${cookie}`, 'x-csrf-token': 'wrong' }); // 403 CSRF
    void tenant;
    capture.logger.info({ res: { headers: { 'set-cookie': `mc_session=${cookie}` } }, body: { token: setupToken, csrfToken: csrf } }, 'redaction probe');
    const log = capture.text();
    const leaks = [ACCOUNT_PASSWORD, 'weak"', cookie, csrf, setupToken].filter((secret) => log.includes(secret));
    expect(leaks, 'secrets found in the log').toEqual([]);
  });
});

/** The readable format (LOG_FORMAT=pretty) redacts exactly as JSON does: redaction happens before formatting. */
describe('log redaction, pretty format', () => {
  it('writes one readable line per entry, without the secrets', async () => {
    const { Writable } = await import('node:stream');
    let text = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString('utf8');
        done();
      },
    });
    const logger = createLogger({ logLevel: 'trace', logFormat: 'pretty' }, destination);
    logger.info({ req: { headers: { authorization: 'Bearer mc_live_secret0123456789' } }, smtp: { pass: PASSWORD } }, 'hello');
    logger.info({ method: 'GET', url: '/campaigns', statusCode: 200, ms: 3.1 }, 'GET /campaigns 200 3.1ms');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('mc_live_secret0123456789');
    expect(text).toContain('[redacted]');
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: GET \/campaigns 200 3\.1ms$/);
  });
});
