import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, idempotencyKey, MailingCoreError, parseRetryAfter, verifyWebhook, WebhookVerificationError } from '../../sdk/src/index.js';
import { runCampaignFlow } from '../../sdk/examples/campaign-flow.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { assertBuilt, runCli, startCliServer, type ServerProcess } from '../helpers/cli.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

/** The SDK (imported from its TypeScript source) against a real server, on both databases. */
describe.each(DIALECTS)('@mailingcore/sdk end to end (%s)', { timeout: 120_000 }, (dialect) => {
  let testDb: TestDatabase;
  let dataDir: string;
  let server: ServerProcess;
  let tenantId: string;
  let apiKey: string;

  beforeAll(async () => {
    assertBuilt();
    testDb = await createTestDatabase(dialect);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailingcore-sdk-'));
    const url = testDb.config.dialect === 'sqlite' ? `sqlite:${testDb.config.file}` : testDb.config.url;
    const env = { DATABASE_URL: url, DATA_DIR: dataDir, LOG_LEVEL: 'warn', MAILINGCORE_SECRET: 's'.repeat(40) };
    server = await startCliServer('start', env);
    const created = runCli(['tenants', 'create', '--name', 'SDK', '--json'], env);
    expect(created.status, created.stderr).toBe(0);
    const parsed = JSON.parse(created.stdout) as { tenant: { id: string }; apiKey: string };
    tenantId = parsed.tenant.id;
    apiKey = parsed.apiKey;
  });

  afterAll(async () => {
    await server?.stop();
    await testDb?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs the example flow: the campaign reaches SENT and the emails are captured', async () => {
    const client = createClient({ baseUrl: server.url, apiKey, tenantId });
    const lines: string[] = [];
    const { campaign, messages } = await runCampaignFlow(client, (line) => lines.push(line));
    expect(campaign.status).toBe('SENT');
    expect(campaign.counters).toMatchObject({ total: 3, sent: 3, failed: 0, queued: 0 });
    expect(messages).toHaveLength(3);
    expect(messages.every((m) => m.status === 'SENT')).toBe(true);
    // es-MX falls back to the Spanish variant: the message records the variant's locale.
    expect(messages.map((m) => m.locale).sort()).toEqual(['en', 'es', 'es']);
    const outbox = path.join(dataDir, 'outbox', campaign.id);
    const emails = fs.readdirSync(outbox).filter((f) => f.endsWith('.eml'));
    expect(emails).toHaveLength(3);
    const texts = emails.map((f) => fs.readFileSync(path.join(outbox, f), 'utf8'));
    expect(texts.some((t) => t.includes('Noticias para Ana'))).toBe(true);
    expect(texts.some((t) => t.includes('News for Bob'))).toBe(true);

    // The raw typed paths work too.
    const { data } = await client.GET('/campaigns/{id}', { params: { path: { id: campaign.id } } });
    expect(data?.status).toBe('SENT');

    const stats = await client.campaigns.stats(campaign.id);
    expect(stats).toMatchObject({ recipients: 3, sent: 3, bounced: { hard: 0, soft: 0 }, opened: { unique: 0 } });
    expect(stats.byLocale.map((row) => [row.locale, row.sent]).sort()).toEqual([['en', 1], ['es', 2]]);
  });

  it('emails: send (sync, idempotent), batch, logs, detail, raw, scheduled list and cancel', async () => {
    const client = createClient({ baseUrl: server.url, apiKey, tenantId });
    const body = { to: 'buyer@shop.test', subject: 'Your receipt', htmlBody: '<p>Thanks for order A-1</p>', tags: ['receipt'] };
    const key = idempotencyKey();
    const sent = await client.emails.send(body, { idempotencyKey: key, sync: true });
    expect(sent).toMatchObject({ status: 'SENT' });
    expect((await client.emails.send(body, { idempotencyKey: key })).id).toBe(sent.id); // a retry is the same email
    expect(await client.emails.raw(sent.id)).toContain('Thanks for order A-1');
    expect((await client.emails.get(sent.id)).events.map((e) => e.type)).toContain('email.sent');
    const batch = await client.emails.batch([{ to: 'one@shop.test', subject: 'One', htmlBody: '<p>1</p>' }, { to: 'not an address', subject: 'Two', htmlBody: '<p>2</p>' }]);
    expect(batch.data.map((r) => ('error' in r && r.error ? r.error.code : 'queued'))).toEqual(['queued', 'VALIDATION_ERROR']);
    const logs = await client.emails.logs({ tag: 'receipt' });
    expect(logs.data.map((e) => e.id)).toEqual([sent.id]);
    const later = await client.emails.send({ ...body, scheduledAt: new Date(Date.now() + 86_400_000).toISOString() });
    expect(later.status).toBe('SCHEDULED');
    expect((await client.emails.scheduled.list()).data.map((e) => e.id)).toEqual([later.id]);
    await client.emails.scheduled.cancel(later.id);
    expect((await client.emails.scheduled.list()).data).toEqual([]);
    await expect(client.emails.get('00000000-0000-7000-8000-000000000000')).rejects.toMatchObject({ status: 404 });
  });

  it('helpers for the whole API: contacts (upsert, import with progress), suppressions, templates, projects, usage', async () => {
    const client = createClient({ baseUrl: server.url, apiKey, tenantId });
    const domain = await client.domains.create('Mail.Example.COM');
    expect(domain).toMatchObject({ name: 'mail.example.com', selector: 'mc1' });
    expect(domain.records.map((r) => r.host)).toContain('mc1._domainkey.mail.example.com');
    expect(JSON.stringify(domain)).not.toContain('PRIVATE KEY');
    expect((await client.domains.list()).data.map((d) => d.id)).toEqual([domain.id]);
    await client.domains.remove(domain.id);
    await expect(client.domains.get(domain.id)).rejects.toMatchObject({ status: 404 });
    const postmark = await client.domains.bounceProviders.create({ provider: 'postmark' });
    expect(postmark).toMatchObject({ provider: 'postmark' });
    expect((await client.domains.bounceProviders.list()).data.map((p) => p.id)).toEqual([postmark.id]);
    await client.domains.bounceProviders.remove(postmark.id);
    expect((await client.domains.bounceProviders.list()).data).toEqual([]);

    const upserted = await client.contacts.upsert({ email: 'zoe@münchen.de', locale: 'de', optIn: true });
    expect(upserted.email).toBe('zoe@xn--mnchen-3ya.de');
    expect((await client.contacts.get(upserted.id)).id).toBe(upserted.id);
    expect((await client.contacts.update(upserted.id, { attributes: { plan: 'pro' } })).attributes).toEqual({ plan: 'pro' });

    // Import from a file (format from the extension) and from a stream, with progress in rows.
    const csv = path.join(dataDir, 'sdk-import.csv');
    fs.writeFileSync(csv, 'email,locale,optIn\n' + Array.from({ length: 250 }, (_, i) => `i${i}@example.com,en,true\n`).join('') + 'broken,en,true\n');
    const progress: { rows: number; bytes: number }[] = [];
    const fromFile = await client.contacts.import(csv, { onProgress: (p) => progress.push(p) });
    expect(fromFile).toMatchObject({ processed: 251, created: 250, updated: 0, failed: 1 });
    expect(fromFile.errors).toEqual([{ line: 252, message: expect.stringContaining('email') }]);
    expect(progress.at(-1)).toMatchObject({ rows: 251, bytes: fs.statSync(csv).size });
    async function* ndjson() {
      yield '{"email":"s1@example.com","optIn":true}\n';
      yield '{"email":"s2@example.com","optIn":true}';
    }
    const fromStream = await client.contacts.import(ndjson(), { format: 'ndjson', onProgress: (p) => progress.push(p) });
    expect(fromStream).toMatchObject({ processed: 2, created: 2, failed: 0 });
    expect(progress.at(-1)!.rows).toBe(2);
    await expect(client.contacts.import(Readable.toWeb(fs.createReadStream(csv)) as ReadableStream<Uint8Array>)).rejects.toMatchObject({
      code: 'UNSUPPORTED_FILE',
    });

    const suppressed = await client.suppressions.add('zoe@MÜNCHEN.de', 'manual');
    expect(suppressed.email).toBe('zoe@xn--mnchen-3ya.de');
    expect((await client.suppressions.list()).data.map((x) => x.email)).toContain('zoe@xn--mnchen-3ya.de');
    await client.suppressions.remove('zoe@münchen.de');
    expect((await client.suppressions.list()).data.map((x) => x.email)).not.toContain('zoe@xn--mnchen-3ya.de');
    await expect(client.suppressions.remove('zoe@münchen.de')).rejects.toMatchObject({ status: 404 });

    const template = await client.templates.create({ name: 'Helpers', locale: 'en', subject: 'Hi {{ first_name }}', htmlBody: '<p>Hi</p>' });
    const versionId = template.versions[0]!.id;
    expect((await client.templates.versions(template.id)).data.map((v) => v.id)).toEqual([versionId]);
    expect((await client.templates.publish(template.id, versionId)).status).toBe('PUBLISHED');
    expect((await client.templates.preview(template.id, versionId, { data: { first_name: 'Zoe' } })).subject).toBe('Hi Zoe');
    expect((await client.templates.list()).data.map((t) => t.id)).toContain(template.id);

    // This template has no unsubscribe link: the pre-send check fails, force sends anyway.
    const noLink = await client.campaigns.create({ name: 'No link', templateVersionId: versionId, audienceFilter: { locale: 'de' } });
    const preflight = await client.campaigns.preflight(noLink.id);
    expect(preflight.ok).toBe(false);
    expect(preflight.checks.find((c) => c.id === 'unsubscribe_link')?.status).toBe('fail');
    await expect(client.campaigns.send(noLink.id)).rejects.toMatchObject({ status: 422, code: 'PREFLIGHT_FAILED' });
    expect((await client.campaigns.send(noLink.id, { force: true })).status).toBe('SENDING');

    const project = await client.projects.create({
      name: 'Nowhere',
      fromEmail: 'news@example.com',
      smtp: { host: 'smtp.mailingcore.invalid', port: 587, secure: false }, // never resolves
    });
    const verified = await client.projects.verify(project.id);
    expect(verified.ok).toBe(false);
    expect(verified.error).toBeTruthy();

    const usage = await client.usage.get();
    expect(usage).toMatchObject({ limit: 100_000, used: expect.any(Number), month: expect.stringMatching(/^\d{4}-\d{2}$/) });
  });

  it('dashboard helpers: audience count, contact search, a contact\'s messages', async () => {
    const client = createClient({ baseUrl: server.url, apiKey, tenantId });
    await client.contacts.bulk([
      { email: 'Zoe.Search@sdk.test', externalId: 'SDK-ZOE', locale: 'en', optIn: true, attributes: { tier: 'gold' } },
      { email: 'zed@sdk.test', externalId: 'sdk-zed', locale: 'en', optIn: true, attributes: { tier: 'silver' } },
      { email: 'zara@sdk.test', locale: 'es', optIn: false, attributes: { tier: 'gold' } },
    ]);
    expect(await client.audience.count({ attributes: { tier: 'gold' } })).toBe(1); // zara is not opted in
    expect(await client.audience.count({ attributes: { tier: 'gold' }, optIn: false })).toBe(1);
    const found = await client.contacts.search('ZOE.s');
    expect(found.data.map((c) => c.email)).toEqual(['Zoe.Search@sdk.test']);
    const byExternal = await client.contacts.search('sdk-z', { locale: 'en' });
    expect(byExternal.data.map((c) => c.email).sort()).toEqual(['Zoe.Search@sdk.test', 'zed@sdk.test']);
    await expect(client.contacts.search('a\u0001')).rejects.toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });

    const sent = await client.emails.send({ to: 'zed@sdk.test', subject: 'Hello Zed', htmlBody: '<p>Hi</p>' });
    const history = await client.contacts.messages('sdk-zed');
    expect(history.data[0]).toMatchObject({ stream: 'transactional', campaign: null, email: { id: sent.id, subject: 'Hello Zed' } });
    await expect(client.contacts.messages('nobody-here')).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('accounts helpers: an API key with keys:manage manages /tenants/{id}/api-keys; members; me() needs a session', async () => {
    const client = createClient({ baseUrl: server.url, apiKey, tenantId });
    const created = await client.apiKeys.create(tenantId, { name: 'Key manager', scopes: ['keys:manage', 'contacts:read'] });
    expect(created.apiKey).toMatch(/^mc_live_/);
    const manager = createClient({ baseUrl: server.url, apiKey: created.apiKey, tenantId });
    const listed = await manager.apiKeys.list(tenantId);
    expect(listed.data.map((k) => k.id)).toContain(created.id);
    expect(JSON.stringify(listed)).not.toContain(created.apiKey);
    const reader = await manager.apiKeys.create(tenantId, { name: 'Reader', scopes: ['contacts:read'] });
    await expect(manager.apiKeys.create(tenantId, { name: 'Escalation', scopes: ['campaigns:send'] })).rejects.toMatchObject({
      status: 403,
      code: 'SCOPE_ESCALATION',
    });
    expect((await manager.apiKeys.revoke(tenantId, reader.id)).revokedAt).toBeTruthy();
    await expect(createClient({ baseUrl: server.url, apiKey: reader.apiKey, tenantId, retries: 0 }).contacts.list()).rejects.toMatchObject({ status: 401 });
    await expect(manager.members.list(tenantId)).rejects.toMatchObject({ status: 403 }); // keys:manage is not members:manage

    const invitation = await client.members.invite(tenantId, { email: 'new.member@sdk.test', role: 'editor' });
    expect(invitation).toMatchObject({ email: 'new.member@sdk.test', role: 'editor' });
    const members = await client.members.list(tenantId);
    expect(JSON.stringify(members)).toContain('new.member@sdk.test');
    const unknownUser = '00000000-0000-4000-8000-000000000000';
    await expect(client.members.update(tenantId, unknownUser, { role: 'viewer' })).rejects.toMatchObject({ status: 404 });
    await expect(client.members.remove(tenantId, unknownUser)).rejects.toMatchObject({ status: 404 });
    await expect(client.me()).rejects.toMatchObject({ status: 401 });
  });

  it('replays a send carrying the same Idempotency-Key, and throws typed errors', async () => {
    const client = createClient({ baseUrl: server.url, apiKey, tenantId });
    const campaign = await client.campaigns.create({ name: 'No template' });
    const error = await client.campaigns.send(campaign.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailingCoreError);
    expect((error as MailingCoreError).status).toBe(422);

    const key = idempotencyKey();
    const first = await client.campaigns.create({ name: 'Once' }, { idempotencyKey: key });
    const again = await client.campaigns.create({ name: 'Once' }, { idempotencyKey: key });
    expect(again.id).toBe(first.id);

    const bad = createClient({ baseUrl: server.url, apiKey: 'mc_live_nope', tenantId });
    await expect(bad.campaigns.get(first.id)).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });

  it('webhooks: registers an endpoint, the worker delivers signed events that verifyWebhook accepts; test, deliveries, toggle, events', async () => {
    const client = createClient({ baseUrl: server.url, apiKey, tenantId });
    const receiver = await startWebhookReceiver();
    try {
      const endpoint = await client.webhooks.create({ url: `${receiver.url}/sdk`, events: ['contact.unsubscribed'] });
      expect(endpoint.secret).toMatch(/^whsec_/);
      receiver.secret = endpoint.secret;
      await client.suppressions.add('webhook-one@sdk.test');
      await client.suppressions.add('webhook-two@sdk.test');
      // Delivered by the server process's own dispatcher (role start), verified by the receiver with verifyWebhook.
      const got = await receiver.waitFor(2, 30_000);
      expect(got.map((r) => r.event!.data.email)).toEqual(['webhook-one@sdk.test', 'webhook-two@sdk.test']);
      const first = got[0]!;
      expect(verifyWebhook(first.rawBody, first.headers['x-mailingcore-signature'] as string, endpoint.secret).id).toBe(first.event!.id);
      expect(() => verifyWebhook(first.rawBody, first.headers['x-mailingcore-signature'] as string, 'whsec_wrong-secret-0123456789abcdef')).toThrow(WebhookVerificationError);

      const events = await client.events.list({ type: 'contact.unsubscribed', order: 'asc' });
      const ours = events.data.filter((e) => String(e.data.email).startsWith('webhook-')); // earlier tests unsubscribed others
      expect(ours.map((e) => e.id)).toEqual(got.map((r) => r.event!.id));
      let deliveries = await client.webhooks.deliveries(endpoint.id);
      for (let i = 0; deliveries.data.some((d) => d.status !== 'delivered') && i < 100; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100)); // the outcome is written just after the answer
        deliveries = await client.webhooks.deliveries(endpoint.id);
      }
      expect(deliveries.data.map((d) => d.status)).toEqual(['delivered', 'delivered']);
      const test = await client.webhooks.test(endpoint.id);
      expect(test).toMatchObject({ event: 'webhook.test', status: 'delivered', statusCode: 200 });
      expect((await client.webhooks.toggle(endpoint.id)).enabled).toBe(false);
      expect((await client.webhooks.list()).data.map((e) => e.id)).toEqual([endpoint.id]);
      await client.webhooks.remove(endpoint.id);
      await expect(client.webhooks.get(endpoint.id)).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
    } finally {
      await receiver.close();
    }
  });
});

/** Retries against a tiny local HTTP server scripted per test. */
describe('@mailingcore/sdk retries', () => {
  let server: http.Server;
  let baseUrl: string;
  let script: Array<{ status: number; headers?: Record<string, string>; body?: unknown }> = [];
  let seen: Array<{ method: string; url: string; at: number; idempotencyKey?: string; body: string }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, at: Date.now(), idempotencyKey: req.headers['idempotency-key'] as string | undefined, body });
        const next = script.shift() ?? { status: 200 };
        res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
        res.end(JSON.stringify(next.body ?? { id: 'c1', status: 'DRAFT' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = () => createClient({ baseUrl, apiKey: 'mc_live_x', tenantId: 't', retry: { baseDelayMs: 10 } });
  const reset = (s: typeof script) => {
    script = s;
    seen = [];
  };
  const error = (status: number, code: string) => ({ statusCode: status, code, message: code, path: '/', timestamp: new Date().toISOString() });

  it('waits Retry-After on 429, then succeeds', async () => {
    reset([{ status: 429, headers: { 'retry-after': '1' }, body: error(429, 'RATE_LIMITED') }]);
    const started = Date.now();
    const campaign = await client().campaigns.get('c1');
    expect(campaign).toMatchObject({ id: 'c1' });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('retries 503 twice with backoff, then succeeds', async () => {
    reset([
      { status: 503, body: error(503, 'NOT_READY') },
      { status: 503, body: error(503, 'NOT_READY') },
    ]);
    await expect(client().campaigns.get('c1')).resolves.toMatchObject({ id: 'c1' });
    expect(seen.map((s) => s.method)).toEqual(['GET', 'GET', 'GET']);
  });

  it('gives up after the configured number of retries', async () => {
    reset(Array.from({ length: 10 }, () => ({ status: 500, body: error(500, 'INTERNAL') })));
    const c = createClient({ baseUrl, apiKey: 'k', tenantId: 't', retries: 2, retry: { baseDelayMs: 1 } });
    await expect(c.campaigns.get('c1')).rejects.toMatchObject({ status: 500, code: 'INTERNAL' });
    expect(seen).toHaveLength(3);
  });

  it('never retries a POST without Idempotency-Key', async () => {
    reset([{ status: 503, body: error(503, 'NOT_READY') }]);
    const { response } = await client().POST('/campaigns/{id}/cancel', { params: { path: { id: 'c1' } } });
    expect(response.status).toBe(503);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.idempotencyKey).toBeUndefined();
  });

  it('retries a POST that carries an Idempotency-Key, with the same key and body', async () => {
    reset([{ status: 502, body: error(502, 'BAD_GATEWAY') }]);
    await client().campaigns.create({ name: 'x' });
    expect(seen).toHaveLength(2);
    expect(seen[0]!.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[1]!.idempotencyKey).toBe(seen[0]!.idempotencyKey);
    expect(JSON.parse(seen[1]!.body)).toEqual({ name: 'x' });
  });

  it('does not retry 429 QUOTA_EXCEEDED (waiting will not help)', async () => {
    reset([{ status: 429, body: error(429, 'QUOTA_EXCEEDED') }]);
    await expect(client().campaigns.send('c1')).rejects.toMatchObject({ status: 429, code: 'QUOTA_EXCEEDED' });
    expect(seen).toHaveLength(1);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
