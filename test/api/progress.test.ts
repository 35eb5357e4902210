import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorBody, useTestApp, type TestTenant } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { addContacts, createCampaign, deliverAll, publishedTemplate, waitForFanOut } from '../helpers/flow.js';

interface SseMessage {
  event: string;
  data: { id: string; status: string; counters: { total: number; queued: number; sent: number; failed: number }; at: string };
}

/** Parses a whole Server-Sent Events body into its messages. */
function parseSse(text: string): SseMessage[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))!.slice('event: '.length);
      const data = JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice('data: '.length)) as SseMessage['data'];
      return { event, data };
    });
}

/** Issue 14, item 5: live progress as Server-Sent Events. */
describe.each(DIALECTS)('campaign progress stream (%s)', (dialect) => {
  const ctx = useTestApp(dialect, { progress: { intervalMs: 20, maxStreamsPerTenant: 2 } });
  let base: string;

  beforeAll(async () => {
    await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
  });
  async function sendingCampaign(tenant: TestTenant, recipients: number) {
    await addContacts(ctx, tenant, Array.from({ length: recipients }, (_, i) => ({ email: `r${i}@progress.test`, attributes: { first_name: 'R' } })));
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    expect((await ctx.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
    await waitForFanOut(ctx, tenant, id);
    return id;
  }

  /** A stream on its own connection (no pooled keep-alive sockets left behind to hold the server open). */
  const open = (tenant: TestTenant, id: string, signal?: AbortSignal) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; text(): Promise<string>; json(): Promise<unknown> }>((resolve, reject) => {
      const request = http.get(`${base}/campaigns/${id}/progress`, { headers: tenant.headers, agent: false, ...(signal ? { signal } : {}) }, (response) => {
        const chunks: Buffer[] = [];
        const body = new Promise<string>((done) => {
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
          response.on('error', () => done(Buffer.concat(chunks).toString('utf8')));
          response.on('close', () => done(Buffer.concat(chunks).toString('utf8')));
        });
        resolve({ status: response.statusCode!, headers: response.headers, text: () => body, json: async () => JSON.parse(await body) as unknown });
      });
      request.on('error', (error) => (signal?.aborted ? undefined : reject(error)));
    });

  it('streams counters while SENDING, then one final event at SENT, and closes', async () => {
    const tenant = await ctx.newTenant('Progress');
    const id = await sendingCampaign(tenant, 30);
    const response = await open(tenant, id);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toContain('text/event-stream');
    expect(response.headers['cache-control']).toContain('no-cache');
    const body = response.text(); // resolves when the server closes the stream
    const worker = ctx.container.createWorker({ batchSize: 4 });
    await deliverAll(ctx, tenant, id, worker);
    const messages = parseSse(await body);

    expect(messages.length).toBeGreaterThanOrEqual(2);
    expect(messages[0]).toMatchObject({ event: 'progress', data: { id, status: 'SENDING' } });
    const last = messages[messages.length - 1]!;
    expect(last).toMatchObject({ event: 'done', data: { status: 'SENT', counters: { total: 30, sent: 30, queued: 0 } } });
    expect(messages.filter((m) => m.event === 'done')).toHaveLength(1);
    const sent = messages.map((m) => m.data.counters.sent);
    expect(sent).toEqual([...sent].sort((a, b) => a - b)); // never goes backwards
  });

  it('gives a finished campaign its final event at once', async () => {
    const tenant = await ctx.newTenant('Finished');
    const id = await sendingCampaign(tenant, 2);
    await deliverAll(ctx, tenant, id, ctx.container.createWorker());
    const res = await ctx.request('GET', `/campaigns/${id}/progress`, { tenant });
    expect(res.statusCode).toBe(200);
    expect(parseSse(res.body).map((m) => [m.event, m.data.status])).toEqual([['done', 'SENT']]);

    const cancelled = await createCampaign(ctx, tenant, { templateVersionId: (await publishedTemplate(ctx, tenant)).baseVersionId });
    expect((await ctx.request('POST', `/campaigns/${cancelled}/cancel`, { tenant })).statusCode).toBe(200);
    expect(parseSse((await ctx.request('GET', `/campaigns/${cancelled}/progress`, { tenant })).body).map((m) => m.event)).toEqual(['done']);
  });

  it('answers 404 for another tenant’s campaign, 403 without campaigns:read, 429 past the per-tenant cap', async () => {
    const tenant = await ctx.newTenant('Cap');
    const other = await ctx.newTenant('Other');
    const id = await sendingCampaign(tenant, 1);
    const notFound = await ctx.request('GET', `/campaigns/${id}/progress`, { tenant: other });
    expect(notFound.statusCode).toBe(404);
    expect(errorBody(notFound).code).toBe('NOT_FOUND');
    expect((await ctx.request('GET', '/campaigns/not-an-id/progress', { tenant })).statusCode).toBe(404);
    const noScope = await tenant.keyWith(['contacts:read']);
    expect((await ctx.request('GET', `/campaigns/${id}/progress`, { headers: noScope.headers })).statusCode).toBe(403);

    const aborts = [new AbortController(), new AbortController()];
    const streams = await Promise.all(aborts.map((a) => open(tenant, id, a.signal)));
    expect(streams.map((s) => s.status)).toEqual([200, 200]);
    const third = await open(tenant, id);
    expect(third.status).toBe(429);
    expect(((await third.json()) as { code: string }).code).toBe('TOO_MANY_STREAMS');
    // Another tenant is not limited by this one's streams.
    const otherId = await sendingCampaign(other, 1);
    const theirs = new AbortController();
    expect((await open(other, otherId, theirs.signal)).status).toBe(200);
    theirs.abort();

    aborts[0]!.abort();
    // The slot is freed once the server sees the connection close.
    const last = new AbortController();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 20));
      const again = await open(tenant, id, last.signal);
      status = again.status;
      if (status !== 200) await again.text();
    }
    expect(status).toBe(200);
    last.abort();
    aborts[1]!.abort();
  });
});
