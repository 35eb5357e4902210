import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContainer } from '../../src/container.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { buildApp } from '../../src/app.js';
import { buildOperationsApp } from '../../src/operations/operations.app.js';
import { errorBody, TEST_SECRET, useTestApp } from '../helpers/app.js';
import { createTestDatabase, DIALECTS, type TestDialect } from '../helpers/databases.js';
import { addContacts, createCampaign, deliverAll, publishedTemplate, smtpProject, waitForFanOut } from '../helpers/flow.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

/** The value of one sample of the exposition text (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(match[3]);
  }
  return 0;
}

/** An app over a database of its own (so that it can be left unmigrated, or closed under the app). */
async function standaloneApp(dialect: TestDialect, options: { migrate: boolean }) {
  const testDb = await createTestDatabase(dialect);
  const database = openDatabase(testDb.config, { poolSize: 2 });
  if (options.migrate) await migrateToLatest(database);
  const container = createContainer(database, { secret: TEST_SECRET });
  const app = await buildApp(container);
  return {
    app,
    container,
    async close() {
      await app.close();
      await container.close();
      await testDb.drop();
    },
  };
}

describe.each(DIALECTS)('operations endpoints (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  let sink: SmtpSink;

  beforeAll(async () => {
    sink = await startSmtpSink({
      recipientResponse: (address) => (address.startsWith('bounce') ? { code: 550, message: 'No such user' } : undefined),
    });
  });
  afterAll(async () => sink?.close());

  const metricsText = async () => {
    const res = await ctx.request('GET', '/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.body;
  };

  it('answers /healthz and /readyz without a key', async () => {
    const health = await ctx.request('GET', '/healthz');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const ready = await ctx.request('GET', '/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });

  it('is not ready, in the error shape, while the schema is not migrated, and ready once it is', async () => {
    const standalone = await standaloneApp(dialect, { migrate: false });
    try {
      const res = await standalone.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(errorBody(res).code).toBe('SCHEMA_NOT_CURRENT');
      await migrateToLatest(standalone.container.database);
      const after = await standalone.app.inject({ method: 'GET', url: '/readyz' });
      expect(after.statusCode).toBe(200);
    } finally {
      await standalone.close();
    }
  });

  it('is not ready when the database does not answer', async () => {
    const standalone = await standaloneApp(dialect, { migrate: true });
    try {
      expect((await standalone.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      await standalone.container.database.close();
      const res = await standalone.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      const body = errorBody(res);
      expect(body.code).toBe('DATABASE_UNAVAILABLE');
      expect(body.path).toBe('/readyz');
      // Liveness does not depend on the database.
      expect((await standalone.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await standalone.close();
    }
  });

  it('times requests by route pattern and status code, never by raw URL', async () => {
    const tenant = await ctx.newTenant();
    const id = await createCampaign(ctx, tenant, { name: 'Metrics' });
    await ctx.request('GET', `/campaigns/${id}`, { tenant });
    await ctx.request('GET', '/campaigns', { tenant });
    await ctx.request('GET', '/campaigns'); // 401
    await ctx.request('GET', `/no-such-route/${id}`);
    const text = await metricsText();
    const count = (labels: Record<string, string>) => sample(text, 'mailingcore_http_request_duration_seconds_count', labels);
    expect(count({ method: 'POST', route: '/campaigns', status_code: '201' })).toBeGreaterThanOrEqual(1);
    expect(count({ method: 'GET', route: '/campaigns/:id', status_code: '200' })).toBeGreaterThanOrEqual(1);
    expect(count({ method: 'GET', route: '/campaigns', status_code: '401' })).toBeGreaterThanOrEqual(1);
    expect(count({ method: 'GET', route: 'unmatched', status_code: '404' })).toBeGreaterThanOrEqual(1);
    expect(text).toContain('# TYPE mailingcore_http_request_duration_seconds histogram');
    expect(text).not.toContain(id);
    expect(text).not.toContain(tenant.tenantId);
  });

  it('counts deliveries, SMTP latency, fan-outs and the queue, with no tenant, campaign or address in any label', async () => {
    const tenant = await ctx.newTenant();
    const emails = ['ok1@metrics.test', 'ok2@metrics.test', 'bounce@metrics.test', 'later-suppressed@metrics.test'];
    const contactIds = await addContacts(ctx, tenant, emails.map((email) => ({ email, locale: 'en' })));
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });

    const before = await metricsText();
    const send = await ctx.request('POST', `/campaigns/${id}/send`, { tenant });
    expect(send.statusCode, send.body).toBe(202);
    await waitForFanOut(ctx, tenant, id);

    const queued = await metricsText();
    expect(sample(queued, 'mailingcore_messages_queue_depth', { status: 'QUEUED' })).toBe(
      sample(before, 'mailingcore_messages_queue_depth', { status: 'QUEUED' }) + 4,
    );
    expect(sample(queued, 'mailingcore_fanout_duration_seconds_count', { result: 'completed' })).toBe(
      sample(before, 'mailingcore_fanout_duration_seconds_count', { result: 'completed' }) + 1,
    );

    // Suppressed after the fan-out: skipped at send time.
    const suppressed = await ctx.request('POST', '/suppressions', { tenant, body: { email: emails[3], reason: 'manual' } });
    expect(suppressed.statusCode).toBe(201);
    const campaign = await deliverAll(ctx, tenant, id, ctx.container.createWorker());
    expect(campaign.counters).toMatchObject({ sent: 2, failed: 1 });

    const after = await metricsText();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('mailingcore_messages_sent_total')).toBe(2);
    expect(delta('mailingcore_messages_failed_total', { reason: 'bounce' })).toBe(1);
    expect(delta('mailingcore_messages_skipped_total', { reason: 'suppressed' })).toBe(1);
    expect(after).toContain('# TYPE mailingcore_messages_retried_total counter');
    expect(delta('mailingcore_smtp_send_duration_seconds_count', { transport: 'smtp', result: 'ok' })).toBe(2);
    expect(delta('mailingcore_smtp_send_duration_seconds_count', { transport: 'smtp', result: 'error' })).toBe(1);
    expect(sample(after, 'mailingcore_messages_queue_depth', { status: 'QUEUED' })).toBe(0);
    expect(sample(after, 'mailingcore_messages_queue_depth', { status: 'SENDING' })).toBe(0);

    for (const secret of [tenant.tenantId, id, projectId, baseVersionId, ...contactIds, ...emails, 'metrics.test']) {
      expect(after, secret).not.toContain(secret);
    }
  });

  it('counts retries of temporary failures', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [{ email: 'soft@retry.test' }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    // Nothing listens on the project's port: a connection error, retried with backoff until the attempts run out.
    const projectId = await smtpProject(ctx, tenant, 9);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    const before = await metricsText();
    expect((await ctx.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
    const worker = ctx.container.createWorker({ retry: { maxAttempts: 2, baseDelayMs: 1000, maxDelayMs: 1000 } });
    const campaign = await deliverAll(ctx, tenant, id, worker);
    expect(campaign.counters.failed).toBe(1);
    const after = await metricsText();
    expect(sample(after, 'mailingcore_messages_retried_total') - sample(before, 'mailingcore_messages_retried_total')).toBe(1);
    expect(
      sample(after, 'mailingcore_messages_failed_total', { reason: 'error' }) - sample(before, 'mailingcore_messages_failed_total', { reason: 'error' }),
    ).toBe(1);
  });

  it('protects /metrics with METRICS_TOKEN when one is set', async () => {
    const token = 'metrics-token-0123456789';
    const app = await buildApp(ctx.container, { metricsToken: token });
    try {
      const none = await app.inject({ method: 'GET', url: '/metrics' });
      expect(none.statusCode).toBe(401);
      expect(errorBody(none).code).toBe('UNAUTHORIZED');
      const wrong = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456780' } });
      expect(wrong.statusCode).toBe(401);
      const right = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
      expect(right.statusCode).toBe(200);
      expect(right.body).toContain('mailingcore_messages_sent_total');
    } finally {
      await app.close();
    }
  });

  it('serves health, readiness and metrics, and nothing else, on a worker process port', async () => {
    const app = await buildOperationsApp(ctx.container);
    try {
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toContain('mailingcore_smtp_send_duration_seconds');
      const api = await app.inject({ method: 'GET', url: '/campaigns' });
      expect(api.statusCode).toBe(404);
      expect(errorBody(api).code).toBe('ROUTE_NOT_FOUND');
    } finally {
      await app.close();
    }
  });

  it('keeps a well-formed X-Request-Id, replaces a malformed one, and echoes it on every answer', async () => {
    const kept = await ctx.request('GET', '/healthz', { headers: { 'x-request-id': 'lb-7f3a:42' } });
    expect(kept.headers['x-request-id']).toBe('lb-7f3a:42');
    const fresh = await ctx.request('GET', '/healthz');
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    for (const bad of ['has spaces', 'x'.repeat(129), 'semi;colon', '']) {
      const res = await ctx.request('GET', '/healthz', { headers: { 'x-request-id': bad } });
      expect(res.headers['x-request-id'], JSON.stringify(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
    // Refused requests and unknown routes carry it too.
    expect((await ctx.request('GET', '/campaigns', { headers: { 'x-request-id': 'refused-1' } })).headers['x-request-id']).toBe('refused-1');
    expect((await ctx.request('GET', '/nowhere', { headers: { 'x-request-id': 'lost-1' } })).headers['x-request-id']).toBe('lost-1');
  });

  const logLines = async (level: string) => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const app = await buildApp(ctx.container, { logger: pino({ level }, stream) });
    try {
      await app.inject({ method: 'GET', url: '/campaigns?limit=5', headers: { 'x-request-id': 'trace-42' } });
    } finally {
      await app.close();
    }
    return lines;
  };

  it('puts the request id on every log line of the request (Fastify\'s request lines at debug)', async () => {
    const lines = await logLines('debug');
    const mine = lines.filter((line) => line.reqId === 'trace-42');
    expect(mine.map((line) => line.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
    expect(lines.filter((line) => 'req' in line || 'res' in line).every((line) => line.reqId === 'trace-42')).toBe(true);
  });

  it('logs one summary line per request at info', async () => {
    const mine = (await logLines('info')).filter((line) => line.reqId === 'trace-42');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ level: 30, method: 'GET', url: '/campaigns?limit=5', statusCode: 401, ms: expect.any(Number) });
    expect(mine[0]!.msg).toMatch(/^GET \/campaigns\?limit=5 401 [\d.]+ms$/);
  });
});
