import { describe, expect, it } from 'vitest';
import { errorBody, useTestApp, type TestTenant } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { addContacts, createCampaign, deliverAll } from '../helpers/flow.js';

/**
 * A tenant's templates must not stall or exhaust the shared process (issue
 * 12, item 1): every piece of template work runs in the render threads, so
 * /healthz keeps answering while hostile previews and a hostile campaign
 * render, the previews answer 422, and the campaign's messages fail cleanly.
 * Through real HTTP (a listening server and fetch): a blocked event loop
 * delays both. On the code before the render pool each of these failed: the
 * loop and the CSS held the event loop for seconds (minutes for the CSS), and
 * append doubling answered 200 with ~50 MB and sent the messages.
 */

/** Runs until LiquidJS's render limit (or the thread's clock) stops it. */
const LOOP = '<p>{% for i in (1..3000000) %}{% assign x = i | plus: 1 %}{% endfor %}done</p>';
/** ~170 bytes that double a string to 8 Mi characters and print it five times: ~42 MB per part, within LiquidJS's former 64 Mi memory limit. */
const APPEND = '{% assign s = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" %}{% for i in (1..18) %}{% assign s = s | append: s %}{% endfor %}<p>{{ s }}{{ s }}{{ s }}{{ s }}{{ s }}</p>';
/** A few thousand rules over ~12,000 elements: minutes of CSS inlining on one core. */
function hostileCss(): string {
  const rules = Array.from({ length: 3000 }, (_, i) => `div p span.c${i % 50}, .k${i} td { color: #${(i % 4096).toString(16).padStart(3, '0')} }`).join('\n');
  return `<style>${rules}</style>${'<div><p><span class="c1">x</span></p></div>'.repeat(4000)}`;
}

/** Polls GET /healthz until `until` settles; returns the slowest answer in ms. */
async function watchHealth(base: string, until: Promise<unknown>): Promise<{ slowest: number; polls: number }> {
  let done = false;
  void until.finally(() => (done = true)).catch(() => {});
  let slowest = 0;
  let polls = 0;
  while (!done) {
    const started = performance.now();
    const res = await fetch(`${base}/healthz`);
    await res.text();
    expect(res.status).toBe(200);
    slowest = Math.max(slowest, performance.now() - started);
    polls++;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { slowest, polls };
}

describe.each(DIALECTS)('hostile templates (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  let base: string;

  const http = async (tenant: TestTenant, method: 'POST' | 'GET', url: string, body?: unknown) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { ...tenant.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };

  async function draft(tenant: TestTenant, htmlBody: string, subject = 'Hello') {
    const res = await http(tenant, 'POST', '/templates', { name: 'Hostile', subject, htmlBody });
    expect(res.status, res.text.slice(0, 300)).toBe(201);
    const template = res.json() as { id: string; versions: { id: string }[] };
    return { templateId: template.id, versionId: template.versions[0]!.id };
  }

  it('listens', async () => {
    base = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  });

  it('/healthz answers within 1 s while ten hostile previews run, and each preview answers 422 TEMPLATE_RENDER', async () => {
    const tenant = await ctx.newTenant('Hostile previews');
    const drafts = [
      ...(await Promise.all([1, 2, 3, 4].map(() => draft(tenant, LOOP)))),
      ...(await Promise.all([1, 2, 3].map(() => draft(tenant, hostileCss())))),
      ...(await Promise.all([1, 2, 3].map(() => draft(tenant, APPEND)))),
    ];
    const previews = Promise.all(
      drafts.map(({ templateId, versionId }) => http(tenant, 'POST', `/templates/${templateId}/versions/${versionId}/preview`, {})),
    );
    const health = await watchHealth(base, previews);
    const answers = await previews;
    for (const answer of answers) {
      expect(answer.status, answer.text.slice(0, 300)).toBe(422);
      const body = answer.json();
      expect(body).toMatchObject({ statusCode: 422, code: 'TEMPLATE_RENDER', path: expect.any(String), timestamp: expect.any(String) });
      expect(body.message).toEqual(expect.any(String));
      expect((body.details as { field: string }[])[0]!.field).toMatch(/^(subject|htmlBody|textBody)$/);
    }
    expect(health.polls).toBeGreaterThan(0);
    expect(health.slowest, `slowest /healthz: ${health.slowest.toFixed(0)} ms over ${health.polls} polls`).toBeLessThan(1000);
    // The pool recovered: a normal preview renders.
    const fine = await draft(tenant, '<style>p { color: red }</style><p>Hi {{ first_name }}</p>');
    const ok = await http(tenant, 'POST', `/templates/${fine.templateId}/versions/${fine.versionId}/preview`, { data: { first_name: 'Ana' } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json().html).toBe('<p style="color: red;">Hi Ana</p>');
  }, 120_000);

  it('publishing a draft whose CSS inlining runs away answers 422 and leaves it a draft', async () => {
    const tenant = await ctx.newTenant('Hostile publish');
    const { templateId, versionId } = await draft(tenant, hostileCss());
    const publish = http(tenant, 'POST', `/templates/${templateId}/versions/${versionId}/publish`);
    const health = await watchHealth(base, publish);
    const res = await publish;
    expect(res.status, res.text.slice(0, 300)).toBe(422);
    expect(res.json()).toMatchObject({ code: 'TEMPLATE_RENDER', details: [{ field: 'htmlBody' }] });
    expect(health.slowest).toBeLessThan(1000);
    expect((await http(tenant, 'GET', `/templates/${templateId}/versions/${versionId}`)).json().status).toBe('DRAFT');
  }, 60_000);

  it('a campaign of an append-doubling template fails its messages cleanly while /healthz stays responsive', async () => {
    const tenant = await ctx.newTenant('Hostile campaign');
    const { templateId, versionId } = await draft(tenant, APPEND);
    const published = await http(tenant, 'POST', `/templates/${templateId}/versions/${versionId}/publish`);
    expect(published.status, published.text).toBe(200);
    await addContacts(ctx, tenant, [1, 2, 3].map((i) => ({ email: `hostile${i}@example.com` })));
    const id = await createCampaign(ctx, tenant, { templateVersionId: versionId });
    // The hostile body has no unsubscribe link: force past the pre-send check, the render is what is under test.
    const send = await http(tenant, 'POST', `/campaigns/${id}/send?force=true`);
    expect(send.status, send.text).toBe(202);
    const rssBefore = process.memoryUsage().rss;
    const delivery = deliverAll(ctx, tenant, id, ctx.container.createWorker());
    const health = await watchHealth(base, delivery);
    const campaign = await delivery;
    expect(campaign.status).toBe('SENT');
    expect(campaign.counters).toMatchObject({ total: 3, sent: 0, failed: 3 });
    const messages = (await http(tenant, 'GET', `/campaigns/${id}/messages`)).json() as { data: { status: string; lastError: string | null }[] };
    expect(messages.data).toHaveLength(3);
    for (const message of messages.data) {
      expect(message.status).toBe('FAILED');
      expect(message.lastError).toMatch(/could not prepare the email: .*(limit exceeded|exceeds \d+ bytes|memory)/);
    }
    expect(health.slowest).toBeLessThan(1000);
    // Nothing of the ~50 MB per message reached this process.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
  }, 60_000);

  it('a preview whose output passes the cap answers 422 with the documented shape', async () => {
    const tenant = await ctx.newTenant('Big output');
    const { templateId, versionId } = await draft(tenant, '{% for i in (1..200000) %}0123456789{% endfor %}');
    const res = await ctx.request('POST', `/templates/${templateId}/versions/${versionId}/preview`, { tenant, body: {} });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(422);
    expect(errorBody(res)).toMatchObject({ code: 'TEMPLATE_RENDER', details: [{ field: 'htmlBody', message: expect.stringMatching(/exceeds 1048576 bytes/) }] });
  });
});
