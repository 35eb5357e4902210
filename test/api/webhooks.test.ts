import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { errorBody, useTestApp, type TestContext, type TestTenant } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { closedPort } from '../helpers/routes.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

interface Endpoint {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
  secret?: string;
}

interface Delivery {
  id: string;
  endpointId: string;
  event: string;
  eventId: string;
  payload: { id: string; type: string; createdAt: string; tenantId: string; data: Record<string, unknown> };
  status: 'pending' | 'delivered' | 'failed';
  attempt: number;
  statusCode: number | null;
  responseBody: string | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

/** Short, so the hang case is quick; far above what a local answer takes even on a loaded machine. */
const TIMEOUT_MS = 3000;

/** Runs dispatcher rounds until nothing is due; the attempts made. */
async function drain(dispatcher: WebhookDispatcher): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await dispatcher.runOnce();
    total += n;
    if (n === 0) return total;
  }
}

function helpers(ctx: TestContext) {
  const created: { tenant: TestTenant; id: string }[] = [];
  return {
    created,
    async createEndpoint(tenant: TestTenant, body: Record<string, unknown>): Promise<Endpoint> {
      const res = await ctx.request('POST', '/webhooks/endpoints', { tenant, body });
      expect(res.statusCode, res.body).toBe(201);
      const endpoint = res.json() as Endpoint;
      created.push({ tenant, id: endpoint.id });
      return endpoint;
    },
    /** A receiver subscribed to contact.unsubscribed (and whatever else), its secret set from the answer. */
    async subscribed(tenant: TestTenant, receiver: WebhookReceiver, events = ['contact.unsubscribed']): Promise<Endpoint> {
      const endpoint = await this.createEndpoint(tenant, { url: `${receiver.url}/hooks?x=1`, events });
      receiver.secret = endpoint.secret!;
      return endpoint;
    },
    /** One contact.unsubscribed event per address (POST /suppressions). */
    async unsubscribe(tenant: TestTenant, ...emails: string[]): Promise<void> {
      for (const email of emails) {
        const res = await ctx.request('POST', '/suppressions', { tenant, body: { email, reason: 'manual' } });
        expect(res.statusCode, res.body).toBeLessThan(300);
      }
    },
    async deliveries(tenant: TestTenant, endpointId: string, query = ''): Promise<Delivery[]> {
      const res = await ctx.request('GET', `/webhooks/endpoints/${endpointId}/deliveries${query}`, { tenant });
      expect(res.statusCode, res.body).toBe(200);
      return (res.json() as { data: Delivery[] }).data;
    },
    async endpoint(tenant: TestTenant, id: string): Promise<Endpoint> {
      const res = await ctx.request('GET', `/webhooks/endpoints/${id}`, { tenant });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as Endpoint;
    },
    /** Deletes what the test registered, so later tests' dispatchers do not find its deliveries due. */
    async cleanUp() {
      for (const { tenant, id } of created.splice(0)) await ctx.request('DELETE', `/webhooks/endpoints/${id}`, { tenant });
    },
  };
}

describe.each(DIALECTS)('webhooks (%s)', (dialect) => {
  const ctx = useTestApp(dialect, { webhooks: { timeoutMs: TIMEOUT_MS } });
  const h = helpers(ctx);
  let receiver: WebhookReceiver;
  let dispatcher: WebhookDispatcher;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    dispatcher = ctx.container.createWebhookDispatcher();
  });
  afterEach(async () => {
    await h.cleanUp();
    await receiver.behave('ok');
    receiver.received.length = 0;
  });
  afterAll(async () => {
    await receiver?.close();
  });

  it('registers, lists, reads, changes, toggles and deletes endpoints; the secret is shown once', async () => {
    const tenant = await ctx.newTenant('Endpoints');
    const generated = await h.createEndpoint(tenant, { url: 'http://127.0.0.1:9/hooks', events: ['email.sent', 'email.sent', 'contact.unsubscribed'] });
    expect(generated).toMatchObject({ url: 'http://127.0.0.1:9/hooks', events: ['email.sent', 'contact.unsubscribed'], enabled: true, failingSince: null });
    expect(generated.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const given = await h.createEndpoint(tenant, { url: 'http://127.0.0.1:9/other', events: ['email.bounced'], secret: 'my-own-secret-that-is-long-enough-0123' });
    expect(given.secret).toBe('my-own-secret-that-is-long-enough-0123');

    const list = await ctx.request('GET', '/webhooks/endpoints?limit=1', { tenant });
    expect(list.statusCode).toBe(200);
    const page1 = list.json() as { data: Endpoint[]; meta: { nextCursor: string | null } };
    expect(page1.data.map((e) => e.id)).toEqual([generated.id]);
    const page2 = (await ctx.request('GET', `/webhooks/endpoints?limit=1&cursor=${page1.meta.nextCursor}`, { tenant })).json() as { data: Endpoint[]; meta: { nextCursor: string | null } };
    expect(page2.data.map((e) => e.id)).toEqual([given.id]);
    expect(page2.meta.nextCursor).toBeNull();
    for (const body of [list.body, JSON.stringify(page2), JSON.stringify(await h.endpoint(tenant, given.id))]) {
      expect(body).not.toContain(generated.secret);
      expect(body).not.toContain(given.secret);
      expect(body).not.toContain('secret');
    }

    const patched = await ctx.request('PATCH', `/webhooks/endpoints/${generated.id}`, { tenant, body: { url: 'http://127.0.0.1:9/v2', events: ['email.failed'] } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ url: 'http://127.0.0.1:9/v2', events: ['email.failed'] });

    const off = await ctx.request('PATCH', `/webhooks/endpoints/${generated.id}/toggle`, { tenant });
    expect(off.json()).toMatchObject({ enabled: false, disabledReason: 'disabled by hand' });
    const on = await ctx.request('PATCH', `/webhooks/endpoints/${generated.id}/toggle`, { tenant });
    expect(on.json()).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });

    expect((await ctx.request('DELETE', `/webhooks/endpoints/${generated.id}`, { tenant })).statusCode).toBe(204);
    expect((await ctx.request('GET', `/webhooks/endpoints/${generated.id}`, { tenant })).statusCode).toBe(404);
    expect((await ctx.request('DELETE', `/webhooks/endpoints/${generated.id}`, { tenant })).statusCode).toBe(404);
  });

  it('refuses bad input with the error shape: events, URL, secret', async () => {
    const tenant = await ctx.newTenant('Bad input');
    const cases: [Record<string, unknown>, number, string][] = [
      [{ url: 'http://127.0.0.1:9/', events: [] }, 400, 'VALIDATION_ERROR'],
      [{ url: 'http://127.0.0.1:9/', events: ['email.nope'] }, 400, 'VALIDATION_ERROR'],
      [{ url: 'http://127.0.0.1:9/', events: ['webhook.test'] }, 400, 'VALIDATION_ERROR'],
      [{ url: 'not a url', events: ['email.sent'] }, 400, 'VALIDATION_ERROR'],
      [{ url: 'ftp://127.0.0.1/', events: ['email.sent'] }, 400, 'VALIDATION_ERROR'],
      [{ url: 'http://user:pw@127.0.0.1:9/', events: ['email.sent'] }, 400, 'VALIDATION_ERROR'],
      [{ url: `http://127.0.0.1:9/${'a'.repeat(2048)}`, events: ['email.sent'] }, 400, 'VALIDATION_ERROR'],
      [{ url: 'http://127.0.0.1:9/', events: ['email.sent'], secret: 'too-short' }, 400, 'VALIDATION_ERROR'],
      [{ url: 'http://127.0.0.1:9/', events: ['email.sent'], extra: 1 }, 400, 'VALIDATION_ERROR'],
      [{ url: 'http://169.254.169.254/latest/meta-data', events: ['email.sent'] }, 422, 'HOST_NOT_ALLOWED'],
    ];
    for (const [body, status, code] of cases) {
      const res = await ctx.request('POST', '/webhooks/endpoints', { tenant, body });
      expect(res.statusCode, `${JSON.stringify(body).slice(0, 100)} → ${res.body}`).toBe(status);
      expect(errorBody(res).code).toBe(code);
    }
    expect(await ctx.count('webhook_endpoints')).toBe(0);
    const patch = await ctx.request('PATCH', `/webhooks/endpoints/${(await h.createEndpoint(tenant, { url: 'http://127.0.0.1:9/', events: ['email.sent'] })).id}`, {
      tenant,
      body: { url: 'http://[fe80::1]/' },
    });
    expect(patch.statusCode, patch.body).toBe(422);
  });

  it('caps the endpoints of a tenant', async () => {
    const tenant = await ctx.newTenant('Cap');
    for (let i = 0; i < 20; i++) await h.createEndpoint(tenant, { url: `http://127.0.0.1:9/${i}`, events: ['email.sent'] });
    const res = await ctx.request('POST', '/webhooks/endpoints', { tenant, body: { url: 'http://127.0.0.1:9/21', events: ['email.sent'] } });
    expect(res.statusCode).toBe(409);
    expect(errorBody(res).code).toBe('ENDPOINT_LIMIT_REACHED');
  });

  it('delivers each subscribed event, signed, in order, with the documented headers and body', async () => {
    const tenant = await ctx.newTenant('Delivery');
    const endpoint = await h.subscribed(tenant, receiver);
    const other = await h.createEndpoint(tenant, { url: `${receiver.url}/not-subscribed`, events: ['email.bounced'] });
    await h.unsubscribe(tenant, 'a@hooks.test', 'b@hooks.test', 'c@hooks.test');

    expect(await drain(dispatcher)).toBe(3);
    const got = await receiver.waitFor(3);
    expect(receiver.received.every((r) => r.event !== undefined)).toBe(true);
    expect(got.map((r) => r.event!.data.email)).toEqual(['a@hooks.test', 'b@hooks.test', 'c@hooks.test']);
    const first = got[0]!;
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers['user-agent']).toBe('MailingCore-Webhook/1.0');
    expect(first.headers['x-mailingcore-event']).toBe('contact.unsubscribed');
    expect(first.headers['x-mailingcore-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(Object.keys(JSON.parse(first.rawBody))).toEqual(['id', 'type', 'createdAt', 'tenantId', 'data']);
    expect(first.event).toMatchObject({ type: 'contact.unsubscribed', tenantId: tenant.tenantId, data: { how: 'api', email: 'a@hooks.test' } });

    // The event is the one in the log (same id); each delivery carries its own id, recorded as delivered.
    const logged = (await ctx.request('GET', '/events?type=contact.unsubscribed&order=asc', { tenant })).json() as { data: { id: string }[] };
    expect(got.map((r) => r.event!.id)).toEqual(logged.data.map((e) => e.id));
    const deliveries = await h.deliveries(tenant, endpoint.id);
    expect(deliveries.map((d) => d.id)).toEqual(got.map((r) => r.deliveryId).reverse()); // newest first
    for (const d of deliveries) {
      expect(d).toMatchObject({ status: 'delivered', attempt: 1, statusCode: 200, responseBody: 'ok', lastError: null, nextAttemptAt: null, event: 'contact.unsubscribed' });
      expect(d.deliveredAt).not.toBeNull();
      expect(JSON.stringify(d.payload)).toBe(got.find((r) => r.deliveryId === d.id)!.rawBody);
    }
    expect(await h.deliveries(tenant, other.id)).toEqual([]);
    expect((await h.deliveries(tenant, endpoint.id, '?status=pending')).length).toBe(0);
    const paged = (await ctx.request('GET', `/webhooks/endpoints/${endpoint.id}/deliveries?limit=2`, { tenant })).json() as { data: Delivery[]; meta: { nextCursor: string } };
    const rest = await h.deliveries(tenant, endpoint.id, `?limit=2&cursor=${paged.meta.nextCursor}`);
    expect([...paged.data, ...rest].map((d) => d.id)).toEqual(deliveries.map((d) => d.id));
  });

  it('POST …/test sends a signed webhook.test now and answers with its delivery; it is not logged as an event', async () => {
    const tenant = await ctx.newTenant('Test send');
    const endpoint = await h.subscribed(tenant, receiver);
    const res = await ctx.request('POST', `/webhooks/endpoints/${endpoint.id}/test`, { tenant });
    expect(res.statusCode, res.body).toBe(200);
    const delivery = res.json() as Delivery;
    expect(delivery).toMatchObject({ event: 'webhook.test', status: 'delivered', statusCode: 200, responseBody: 'ok', attempt: 1 });
    const [got] = await receiver.waitFor(1);
    expect(got!.deliveryId).toBe(delivery.id);
    expect(got!.event).toMatchObject({ type: 'webhook.test', tenantId: tenant.tenantId, data: { endpointId: endpoint.id } });
    expect(((await ctx.request('GET', '/events', { tenant })).json() as { data: unknown[] }).data).toEqual([]);

    await receiver.behave('status', 503);
    const failed = (await ctx.request('POST', `/webhooks/endpoints/${endpoint.id}/test`, { tenant })).json() as Delivery;
    expect(failed).toMatchObject({ status: 'failed', statusCode: 503, responseBody: 'answered 503', lastError: 'HTTP 503' });
    expect(await drain(dispatcher)).toBe(0); // a test is not retried
  });

  it('treats 500, a redirect, a reset, a hang and a refused connection as failures, and backs off by the schedule with jitter', async () => {
    const tenant = await ctx.newTenant('Failures');
    const endpoint = await h.subscribed(tenant, receiver);
    const cases: [Parameters<WebhookReceiver['behave']>, (d: Delivery) => void][] = [
      [['status', 500], (d) => expect(d).toMatchObject({ statusCode: 500, lastError: 'HTTP 500', responseBody: 'answered 500' })],
      [['redirect'], (d) => expect(d).toMatchObject({ statusCode: 302, lastError: 'HTTP 302: redirects are not followed' })],
      [['reset'], (d) => expect(d).toMatchObject({ statusCode: null, lastError: expect.stringMatching(/connection (reset|closed)/) })],
      [['hang'], (d) => expect(d).toMatchObject({ statusCode: null, lastError: `timeout: no complete answer within ${TIMEOUT_MS} ms` })],
      [['down'], (d) => expect(d).toMatchObject({ statusCode: null, lastError: expect.stringMatching(/connection (reset|closed)/) })],
    ];
    for (const [behaviour, check] of cases) {
      await receiver.behave(...behaviour);
      const before = receiver.received.length;
      await h.unsubscribe(tenant, `${behaviour[0]}@fail.test`);
      const now = ctx.clock.now.getTime();
      expect(await drain(dispatcher)).toBe(1);
      const [d] = await h.deliveries(tenant, endpoint.id);
      expect(d, behaviour[0]).toMatchObject({ status: 'pending', attempt: 1, deliveredAt: null });
      check(d!);
      const delay = Date.parse(d!.nextAttemptAt!) - now;
      expect(delay).toBeGreaterThanOrEqual(9000);
      expect(delay).toBeLessThanOrEqual(11_000);
      // The redirect was not followed: one request per attempt.
      if (behaviour[0] !== 'down') expect(receiver.received.length - before).toBe(1);
      if (behaviour[0] === 'redirect') expect(receiver.received.at(-1)!.headers.host).toBe(`127.0.0.1:${receiver.port}`);
    }
    expect((await h.endpoint(tenant, endpoint.id)).failingSince).not.toBeNull();
    await receiver.behave('ok');
    ctx.clock.advance(11_000);
    expect(await drain(dispatcher)).toBe(5);
    const all = await h.deliveries(tenant, endpoint.id);
    expect(all.map((d) => [d.status, d.attempt])).toEqual(all.map(() => ['delivered', 2]));
    expect((await h.endpoint(tenant, endpoint.id)).failingSince).toBeNull(); // a success stops the failure clock
  });

  it('counts attempts, request times, pending deliveries and disabled endpoints in /metrics, without ids or URLs', async () => {
    const tenant = await ctx.newTenant('Metrics');
    const endpoint = await h.subscribed(tenant, receiver);
    const metric = async (line: string) => {
      const text = (await ctx.request('GET', '/metrics')).body;
      expect(text).not.toContain(endpoint.id);
      expect(text).not.toContain(receiver.url);
      const match = text.split('\n').find((l) => l.startsWith(`${line} `));
      return match ? Number(match.slice(line.length + 1)) : 0;
    };
    const names = [
      'mailingcore_webhook_attempts_total{result="delivered"}',
      'mailingcore_webhook_attempts_total{result="retry"}',
      'mailingcore_webhook_request_duration_seconds_count{result="error"}',
      'mailingcore_webhook_deliveries_pending',
    ];
    const before = await Promise.all(names.map(metric));
    await receiver.behave('status', 500);
    await h.unsubscribe(tenant, 'm1@metrics.test');
    await drain(dispatcher);
    await receiver.behave('ok');
    await h.unsubscribe(tenant, 'm2@metrics.test');
    await drain(dispatcher); // m2 delivered; m1 waits for its retry
    const after = await Promise.all(names.map(metric));
    expect(after.map((value, i) => value - before[i]!)).toEqual([1, 1, 1, 1]);
  });

  it('sends queued deliveries to the URL the endpoint has when they are sent (PATCH moves them)', async () => {
    const tenant = await ctx.newTenant('Moved');
    const endpoint = await h.createEndpoint(tenant, { url: `http://127.0.0.1:${await closedPort()}/old`, events: ['contact.unsubscribed'] });
    receiver.secret = endpoint.secret!;
    await h.unsubscribe(tenant, 'moved@url.test');
    expect(await drain(dispatcher)).toBe(1);
    expect((await h.deliveries(tenant, endpoint.id))[0]).toMatchObject({ status: 'pending', lastError: 'connection refused' });
    const moved = await ctx.request('PATCH', `/webhooks/endpoints/${endpoint.id}`, { tenant, body: { url: `${receiver.url}/new` } });
    expect(moved.statusCode, moved.body).toBe(200);
    ctx.clock.advance(11_000);
    expect(await drain(dispatcher)).toBe(1);
    const [got] = await receiver.waitFor(1);
    expect(got).toMatchObject({ path: '/new', event: { data: { email: 'moved@url.test' } } });
    expect((await h.deliveries(tenant, endpoint.id))[0]).toMatchObject({ status: 'delivered', attempt: 2 });
  });

  it('a slow answer within the timeout is a success; a huge answer is cut at 2 KiB and not buffered', async () => {
    const tenant = await ctx.newTenant('Slow and huge');
    const endpoint = await h.subscribed(tenant, receiver);
    await receiver.behave('slow', 50);
    await h.unsubscribe(tenant, 'slow@answers.test');
    expect(await drain(dispatcher)).toBe(1);
    expect((await h.deliveries(tenant, endpoint.id))[0]).toMatchObject({ status: 'delivered', responseBody: 'slow ok' });

    await receiver.behave('huge');
    await h.unsubscribe(tenant, 'huge@answers.test');
    expect(await drain(dispatcher)).toBe(1);
    const [huge] = await h.deliveries(tenant, endpoint.id);
    expect(huge).toMatchObject({ status: 'delivered', statusCode: 200, responseBody: 'x'.repeat(2048) });
    // The client hung up: the receiver stopped writing long before its 64 MiB safety stop.
    expect(receiver.hugeBytesWritten).toBeLessThan(64 * 1024 * 1024);
  });

  it('a receiver down for an hour gets every event once it is back: signed, each delivery id once', async () => {
    const tenant = await ctx.newTenant('Down for an hour');
    const endpoint = await h.subscribed(tenant, receiver);
    await receiver.behave('down');
    const emails = Array.from({ length: 5 }, (_, i) => `down${i}@hour.test`);
    await h.unsubscribe(tenant, ...emails);
    const start = ctx.clock.now.getTime();
    let attempts = await drain(dispatcher);
    // Attempts at about 0, 10 s, 1 min 10 s and 11 min 10 s all fail; the receiver comes back at 1 h.
    while (ctx.clock.now.getTime() - start < 60 * 60_000) {
      ctx.clock.advance(60_000);
      attempts += await drain(dispatcher);
    }
    expect(attempts).toBe(5 * 4);
    expect(receiver.received).toHaveLength(0);
    await receiver.behave('ok');
    while (ctx.clock.now.getTime() - start < 2 * 60 * 60_000) {
      ctx.clock.advance(60_000);
      await drain(dispatcher);
    }
    const got = await receiver.waitFor(5);
    // Each delivery's retries have their own jitter: they may arrive in any order.
    expect(got.map((r) => r.event!.data.email).sort()).toEqual(emails);
    expect([...receiver.countsByDelivery().values()]).toEqual([1, 1, 1, 1, 1]);
    expect(receiver.received.every((r) => r.event !== undefined)).toBe(true);
    const deliveries = await h.deliveries(tenant, endpoint.id);
    expect(deliveries.map((d) => [d.status, d.attempt])).toEqual(deliveries.map(() => ['delivered', 5]));
  });

  it('marks a delivery failed once the schedule is spent; a manual retry sends it again with the same id', async () => {
    const tenant = await ctx.newTenant('Spent');
    const endpoint = await h.subscribed(tenant, receiver);
    const short = ctx.container.createWebhookDispatcher({ retryScheduleMs: [1000, 2000] });
    await receiver.behave('status', 500);
    await h.unsubscribe(tenant, 'spent@retry.test');
    await drain(short);
    ctx.clock.advance(1200);
    await drain(short);
    ctx.clock.advance(2400);
    await drain(short);
    const [failed] = await h.deliveries(tenant, endpoint.id);
    expect(failed).toMatchObject({ status: 'failed', attempt: 3, statusCode: 500, nextAttemptAt: null, lastError: 'HTTP 500 (gave up after 3 attempts)' });
    expect(await h.deliveries(tenant, endpoint.id, '?status=failed')).toHaveLength(1);
    ctx.clock.advance(24 * 3600_000);
    expect(await drain(short)).toBe(0);

    await receiver.behave('ok');
    const retried = await ctx.request('POST', `/webhooks/endpoints/${endpoint.id}/deliveries/${failed!.id}/retry`, { tenant });
    expect(retried.statusCode, retried.body).toBe(202);
    expect(retried.json()).toMatchObject({ id: failed!.id, status: 'pending', attempt: 3 });
    expect(await drain(short)).toBe(1);
    expect((await h.deliveries(tenant, endpoint.id))[0]).toMatchObject({ id: failed!.id, status: 'delivered', attempt: 4 });
    expect(receiver.countsByDelivery().get(failed!.id)).toBe(4);

    const again = await ctx.request('POST', `/webhooks/endpoints/${endpoint.id}/deliveries/${failed!.id}/retry`, { tenant });
    expect(again.statusCode).toBe(409);
    expect(errorBody(again)).toMatchObject({ code: 'INVALID_STATE', currentStatus: 'delivered' });
    await ctx.request('PATCH', `/webhooks/endpoints/${endpoint.id}/toggle`, { tenant });
    const disabled = await ctx.request('POST', `/webhooks/endpoints/${endpoint.id}/deliveries/${failed!.id}/retry`, { tenant });
    expect(errorBody(disabled).code).toBe('ENDPOINT_DISABLED');
  });

  it('disables an endpoint failing for WEBHOOK_DISABLE_AFTER_MS, with an event; toggling it back on clears the failure clock', async () => {
    const tenant = await ctx.newTenant('Auto-disable');
    const failing = await h.subscribed(tenant, receiver);
    const watcherReceiver = await startWebhookReceiver();
    try {
      const watcher = await h.subscribed(tenant, watcherReceiver, ['webhook.endpoint_disabled']);
      const quick = ctx.container.createWebhookDispatcher({ disableAfterMs: 5 * 60_000 });
      await receiver.behave('status', 500);
      await h.unsubscribe(tenant, 'x1@disable.test');
      await drain(quick);
      expect((await h.endpoint(tenant, failing.id))).toMatchObject({ enabled: true, failingSince: ctx.clock.now.toISOString() });
      ctx.clock.advance(4 * 60_000);
      await drain(quick);
      expect((await h.endpoint(tenant, failing.id)).enabled).toBe(true);
      ctx.clock.advance(2 * 60_000);
      await drain(quick);
      const disabled = await h.endpoint(tenant, failing.id);
      expect(disabled).toMatchObject({ enabled: false, disabledReason: expect.stringContaining('disabled automatically') });

      const events = (await ctx.request('GET', '/events?type=webhook.endpoint_disabled', { tenant })).json() as { data: { data: Record<string, unknown> }[] };
      expect(events.data).toHaveLength(1);
      expect(events.data[0]!.data).toMatchObject({ endpointId: failing.id, url: failing.url, failingSince: disabled.failingSince });
      const [notice] = await watcherReceiver.waitFor(1);
      expect(notice!.event).toMatchObject({ type: 'webhook.endpoint_disabled', data: { endpointId: failing.id } });
      expect((await h.deliveries(tenant, watcher.id))[0]!.status).toBe('delivered');

      // Disabled: new events are not queued for it, and what was queued waits.
      await h.unsubscribe(tenant, 'x2@disable.test');
      expect((await h.deliveries(tenant, failing.id)).map((d) => d.payload.data.email)).toEqual(['x1@disable.test']);
      ctx.clock.advance(3600_000);
      await receiver.behave('ok');
      expect(await drain(quick)).toBe(0);

      const on = (await ctx.request('PATCH', `/webhooks/endpoints/${failing.id}/toggle`, { tenant })).json() as Endpoint;
      expect(on).toMatchObject({ enabled: true, failingSince: null, disabledReason: null });
      expect(await drain(quick)).toBe(1);
      expect((await h.deliveries(tenant, failing.id))[0]).toMatchObject({ status: 'delivered' });
    } finally {
      await watcherReceiver.close();
    }
  });

  it('answers 404 for another tenant’s endpoints and deliveries, and 403 without webhooks:manage', async () => {
    const owner = await ctx.newTenant('Owner');
    const stranger = await ctx.newTenant('Stranger');
    const endpoint = await h.subscribed(owner, receiver);
    await h.unsubscribe(owner, 'own@iso.test');
    const [delivery] = await h.deliveries(owner, endpoint.id);
    const strangerEndpoint = await h.createEndpoint(stranger, { url: `${receiver.url}/s`, events: ['email.sent'] });
    const attempts: [string, string, unknown?][] = [
      ['GET', `/webhooks/endpoints/${endpoint.id}`],
      ['PATCH', `/webhooks/endpoints/${endpoint.id}`, { events: ['email.sent'] }],
      ['PATCH', `/webhooks/endpoints/${endpoint.id}/toggle`],
      ['POST', `/webhooks/endpoints/${endpoint.id}/test`],
      ['GET', `/webhooks/endpoints/${endpoint.id}/deliveries`],
      ['POST', `/webhooks/endpoints/${endpoint.id}/deliveries/${delivery!.id}/retry`],
      ['POST', `/webhooks/endpoints/${strangerEndpoint.id}/deliveries/${delivery!.id}/retry`],
      ['DELETE', `/webhooks/endpoints/${endpoint.id}`],
      ['GET', '/webhooks/endpoints/not-an-id'],
    ];
    for (const [method, url, body] of attempts) {
      const res = await ctx.request(method as 'GET', url, { tenant: stranger, ...(body ? { body } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(errorBody(res).code).toBe('NOT_FOUND');
    }
    const list = (await ctx.request('GET', '/webhooks/endpoints', { tenant: stranger })).json() as { data: Endpoint[] };
    expect(list.data.map((e) => e.id)).toEqual([strangerEndpoint.id]);
    expect(await h.endpoint(owner, endpoint.id)).toMatchObject({ enabled: true, events: ['contact.unsubscribed'] });
    expect(receiver.received).toHaveLength(0);

    const readOnly = await owner.keyWith(['events:read', 'contacts:read']);
    const refused = await ctx.request('GET', '/webhooks/endpoints', { headers: readOnly.headers });
    expect(refused.statusCode).toBe(403);
    expect(errorBody(refused).code).toBe('INSUFFICIENT_SCOPE');
  });

  it('prunes events and finished deliveries past EVENTS_RETENTION_DAYS, in batches; pending deliveries stay', async () => {
    const tenant = await ctx.newTenant('Retention');
    const endpoint = await h.subscribed(tenant, receiver);
    await h.unsubscribe(tenant, 'old1@retention.test', 'old2@retention.test');
    await drain(dispatcher);
    await receiver.behave('down');
    await h.unsubscribe(tenant, 'stuck@retention.test');
    await drain(dispatcher);
    const before = await h.deliveries(tenant, endpoint.id);
    expect(before.map((d) => d.status)).toEqual(['pending', 'delivered', 'delivered']);

    // Tracking firsts (written by open/click tracking) are kept as long as events.
    const day = 86_400_000;
    await ctx.container.database.db
      .insertInto('tracking_firsts')
      .values([
        { message_id: 1, kind: 'open', key: '', created_at: new Date(ctx.clock.now.getTime() - 100 * day).toISOString() },
        { message_id: 1, kind: 'link', key: 'old-link', created_at: new Date(ctx.clock.now.getTime() - 91 * day).toISOString() },
        { message_id: 2, kind: 'open', key: '', created_at: new Date(ctx.clock.now.getTime() - 89 * day).toISOString() },
      ])
      .execute();
    const retention = ctx.container.createRetention();
    const first = await retention.runOnce();
    expect(first).toEqual({ events: 0, webhookDeliveries: 0, trackingFirsts: 2 });
    expect(await ctx.count('tracking_firsts')).toBe(1);
    ctx.clock.advance(91 * 86_400_000);
    const pruned = await retention.runOnce();
    expect(pruned.events).toBeGreaterThanOrEqual(3);
    expect(pruned.webhookDeliveries).toBeGreaterThanOrEqual(2);
    expect(((await ctx.request('GET', '/events', { tenant })).json() as { data: unknown[] }).data).toEqual([]);
    expect((await h.deliveries(tenant, endpoint.id)).map((d) => d.status)).toEqual(['pending']);
  });
});

describe.each(DIALECTS)('webhook SSRF rules by default (%s)', (dialect) => {
  // The production default: no private targets, https only. The resolver is the test's, so names can be made to rebind.
  const addresses = new Map<string, string>([['hooks.example.test', '93.184.216.34']]);
  const ctx = useTestApp(dialect, {
    outbound: { lookup: async (host) => [{ address: addresses.get(host) ?? '203.0.113.7', family: 4 }] },
    webhooks: { timeoutMs: TIMEOUT_MS },
  });

  it('refuses loopback, private, link-local, metadata and reserved targets, and plain http', async () => {
    const tenant = await ctx.newTenant('SSRF');
    const refused = [
      'https://127.0.0.1/hook',
      'https://localhost/hook',
      'https://0x7f000001/hook',
      'https://[::1]/hook',
      'https://10.1.2.3/hook',
      'https://192.168.0.10/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fd00::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://0.0.0.0/hook',
    ];
    for (const url of refused) {
      const res = await ctx.request('POST', '/webhooks/endpoints', { tenant, body: { url, events: ['email.sent'] } });
      expect(res.statusCode, `${url} → ${res.body}`).toBe(422);
      const body = errorBody(res);
      expect(body.code).toBe('HOST_NOT_ALLOWED');
      expect(body.details![0]!.field).toBe('url');
    }
    addresses.set('internal.example.test', '10.0.0.5');
    const named = await ctx.request('POST', '/webhooks/endpoints', { tenant, body: { url: 'https://internal.example.test/', events: ['email.sent'] } });
    expect(named.statusCode).toBe(422);
    expect(named.body).not.toContain('10.0.0.5'); // the resolved address is not told

    const http = await ctx.request('POST', '/webhooks/endpoints', { tenant, body: { url: 'http://hooks.example.test/', events: ['email.sent'] } });
    expect(http.statusCode).toBe(400);
    expect(errorBody(http).details![0]).toMatchObject({ field: 'url', message: expect.stringContaining('https://') });
    expect(await ctx.count('webhook_endpoints')).toBe(0);
  });

  it('checks the address actually connected to at every delivery: a name rebound to loopback is refused', async () => {
    const tenant = await ctx.newTenant('Rebinding');
    const receiver = await startWebhookReceiver();
    try {
      const created = await ctx.request('POST', '/webhooks/endpoints', {
        tenant,
        body: { url: `https://hooks.example.test:${receiver.port}/hook`, events: ['contact.unsubscribed'] },
      });
      expect(created.statusCode, created.body).toBe(201);
      const endpoint = created.json() as Endpoint;
      addresses.set('hooks.example.test', '127.0.0.1'); // the DNS answer changes after registration
      await ctx.request('POST', '/suppressions', { tenant, body: { email: 'rebind@ssrf.test', reason: 'manual' } });
      expect(await ctx.container.createWebhookDispatcher().runOnce()).toBe(1);
      const res = await ctx.request('GET', `/webhooks/endpoints/${endpoint.id}/deliveries`, { tenant });
      const [delivery] = (res.json() as { data: Delivery[] }).data;
      expect(delivery).toMatchObject({ status: 'pending', attempt: 1, statusCode: null });
      expect(delivery!.lastError).toMatch(/^host not allowed: hooks\.example\.test resolves to a loopback address/);
      const tested = (await ctx.request('POST', `/webhooks/endpoints/${endpoint.id}/test`, { tenant })).json() as Delivery;
      expect(tested).toMatchObject({ status: 'failed', lastError: expect.stringContaining('host not allowed') });
      expect(receiver.received).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });
});

describe.each(DIALECTS)('webhook dispatchers at work (%s)', (dialect) => {
  // The production timeout (10 s): nothing here should come near it.
  const ctx = useTestApp(dialect);
  const h = helpers(ctx);
  afterEach(() => h.cleanUp());

  async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('a receiver that does not answer holds up only its own endpoint; its next delivery waits for the answer', async () => {
    const slowTenant = await ctx.newTenant('Slow receiver');
    const otherTenant = await ctx.newTenant('Other tenant');
    const stuck = await startWebhookReceiver();
    const fine = await startWebhookReceiver();
    const dispatcher = ctx.container.createWebhookDispatcher({ idlePollMs: 20 });
    try {
      await stuck.behave('hold');
      const held = await h.subscribed(slowTenant, stuck);
      const served = await h.subscribed(otherTenant, fine);
      await h.unsubscribe(slowTenant, 'a1@held.test', 'a2@held.test');
      await h.unsubscribe(otherTenant, 'b1@served.test', 'b2@served.test', 'b3@served.test');
      dispatcher.start();
      await fine.waitFor(3);
      await until('the other endpoint’s outcomes', async () => (await h.deliveries(otherTenant, served.id)).every((d) => d.status === 'delivered'));
      // All the while, the first request to the stuck endpoint waits for its answer and the second is not sent.
      expect(stuck.received.map((r) => r.event?.data.email)).toEqual(['a1@held.test']);
      expect((await h.deliveries(slowTenant, held.id)).map((d) => d.attempt)).toEqual([0, 0]);
      await stuck.behave('ok');
      expect(stuck.release()).toBe(1);
      await stuck.waitFor(2);
      await until('the stuck endpoint’s outcomes', async () => (await h.deliveries(slowTenant, held.id)).every((d) => d.status === 'delivered'));
      expect(stuck.received.map((r) => r.event?.data.email)).toEqual(['a1@held.test', 'a2@held.test']);
      expect((await h.deliveries(slowTenant, held.id)).map((d) => d.responseBody)).toEqual(['ok', 'released']);
    } finally {
      await dispatcher.stop();
      await stuck.close();
      await fine.close();
    }
  });

  it('stop (SIGTERM) lets the request in flight finish and be recorded, sends nothing more, and releases the endpoint', async () => {
    const tenant = await ctx.newTenant('Stopping');
    const receiver = await startWebhookReceiver();
    const dispatcher = ctx.container.createWebhookDispatcher({ idlePollMs: 10 });
    try {
      await receiver.behave('hold');
      const endpoint = await h.subscribed(tenant, receiver);
      await h.unsubscribe(tenant, 's1@stop.test', 's2@stop.test');
      dispatcher.start();
      await until('the first request', async () => receiver.received.length === 1);
      const stopped = dispatcher.stop();
      expect(receiver.release()).toBe(1);
      await stopped;
      expect(receiver.received).toHaveLength(1);
      expect((await h.deliveries(tenant, endpoint.id)).map((d) => [d.payload.data.email, d.status])).toEqual([
        ['s2@stop.test', 'pending'],
        ['s1@stop.test', 'delivered'],
      ]);
      const row = await ctx.container.database.db
        .selectFrom('webhook_endpoints')
        .select(['lease_owner', 'lease_until'])
        .where('id', '=', endpoint.id)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ lease_owner: null, lease_until: null });
    } finally {
      await dispatcher.stop();
      await receiver.close();
    }
  });

  it('two dispatchers on one database: never two requests in flight to an endpoint, each delivery once, first attempts in queue order', async () => {
    const tenant = await ctx.newTenant('Two dispatchers');
    const receiver = await startWebhookReceiver();
    // Small turns, so the endpoints change hands between the dispatchers many times.
    const dispatchers = [1, 2].map(() => ctx.container.createWebhookDispatcher({ idlePollMs: 5, deliveriesPerClaim: 3 }));
    try {
      await receiver.behave('slow', 2);
      const paths = ['/e0', '/e1', '/e2', '/e3'];
      let secret = '';
      for (const path of paths) {
        const res = await ctx.request('POST', '/webhooks/endpoints', {
          tenant,
          body: { url: `${receiver.url}${path}`, events: ['contact.unsubscribed'], ...(secret ? { secret } : {}) },
        });
        expect(res.statusCode, res.body).toBe(201);
        secret ||= res.json().secret as string; // one secret for all four: the receiver verifies every request
        h.created.push({ tenant, id: res.json().id as string });
      }
      receiver.secret = secret;
      const emails = Array.from({ length: 25 }, (_, i) => `p${String(i).padStart(2, '0')}@two.test`);
      await h.unsubscribe(tenant, ...emails);
      for (const d of dispatchers) d.start();
      await receiver.waitFor(paths.length * emails.length, 60_000);
      expect(receiver.received.every((r) => r.event !== undefined)).toBe(true);
      expect(new Set(receiver.countsByDelivery().values())).toEqual(new Set([1]));
      for (const path of paths) expect(receiver.maxInFlight.get(path), path).toBe(1);
      const byPath = new Map<string, string[]>();
      for (const r of receiver.received) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r.event!.data.email as string]);
      for (const path of paths) expect(byPath.get(path), path).toEqual(emails);
    } finally {
      await Promise.all(dispatchers.map((d) => d.stop()));
      await receiver.close();
    }
  });
});
