import { expect } from 'vitest';
import type { DeliveryWorker } from '../../src/delivery/worker.js';
import type { TestContext, TestTenant } from './app.js';

/** Small factories that drive the public API the way a client would. */

export async function addContacts(
  ctx: TestContext,
  tenant: TestTenant,
  contacts: { email: string; locale?: string | null; optIn?: boolean; attributes?: Record<string, unknown>; externalId?: string }[],
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < contacts.length; i += 1000) {
    const res = await ctx.request('POST', '/contacts/bulk', {
      tenant,
      body: { contacts: contacts.slice(i, i + 1000).map((c) => ({ optIn: true, ...c })) },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { failed: number; results: { id?: string }[] };
    expect(body.failed, res.body).toBe(0);
    ids.push(...body.results.map((r) => r.id!));
  }
  return ids;
}

/** A template with a published base version (en) and published variants; returns the base version id. */
export async function publishedTemplate(
  ctx: TestContext,
  tenant: TestTenant,
  variants: Record<string, { subject: string; html: string }> = {
    en: { subject: 'Hello {{ first_name }}', html: '<p>Hi {{ first_name }}! <a href="{{ unsubscribeUrl }}">Unsubscribe</a></p>' },
  },
): Promise<{ baseVersionId: string; versionIds: Record<string, string> }> {
  const [baseLocale, ...others] = Object.keys(variants);
  const base = variants[baseLocale!]!;
  const created = await ctx.request('POST', '/templates', {
    tenant,
    body: { name: 'Newsletter', subject: base.subject, htmlBody: base.html, locale: baseLocale },
  });
  expect(created.statusCode, created.body).toBe(201);
  const template = created.json() as { id: string; versions: { id: string }[] };
  const baseVersionId = template.versions[0]!.id;
  const versionIds: Record<string, string> = { [baseLocale!]: baseVersionId };
  for (const locale of others) {
    const v = variants[locale]!;
    const res = await ctx.request('POST', `/templates/${template.id}/versions`, {
      tenant,
      body: { subject: v.subject, htmlBody: v.html, locale, localeGroupId: baseVersionId },
    });
    expect(res.statusCode, res.body).toBe(201);
    versionIds[locale] = (res.json() as { id: string }).id;
  }
  for (const versionId of Object.values(versionIds)) {
    const res = await ctx.request('POST', `/templates/${template.id}/versions/${versionId}/publish`, { tenant });
    expect(res.statusCode, res.body).toBe(200);
  }
  return { baseVersionId, versionIds };
}

export async function smtpProject(ctx: TestContext, tenant: TestTenant, port: number, extra: Record<string, unknown> = {}) {
  const res = await ctx.request('POST', '/projects', {
    tenant,
    body: {
      name: 'Sink',
      smtp: { host: '127.0.0.1', port, secure: false },
      fromEmail: 'news@acme.test',
      fromName: 'Acme News',
      replyTo: 'support@acme.test',
      ...extra,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { id: string }).id;
}

export async function createCampaign(ctx: TestContext, tenant: TestTenant, body: Record<string, unknown>) {
  const res = await ctx.request('POST', '/campaigns', { tenant, body: { name: 'Campaign', ...body } });
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { id: string }).id;
}

export interface CampaignView {
  id: string;
  status: string;
  counters: { total: number; queued: number; sent: number; failed: number; cancelled: number; skipped: { quota: number; suppressed: number } };
  startedAt: string | null;
  completedAt: string | null;
}

export async function getCampaign(ctx: TestContext, tenant: TestTenant, id: string): Promise<CampaignView> {
  const res = await ctx.request('GET', `/campaigns/${id}`, { tenant });
  expect(res.statusCode).toBe(200);
  return res.json() as CampaignView;
}

/** Waits for the background fan-out of a campaign sent with POST /send. */
export async function waitForFanOut(ctx: TestContext, tenant: TestTenant, id: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await ctx.container.database.db.selectFrom('campaigns').select(['fanout_completed_at', 'status']).where('id', '=', id).executeTakeFirstOrThrow();
    if (row.fanout_completed_at || row.status !== 'SENDING') return getCampaign(ctx, tenant, id);
    if (Date.now() > deadline) throw new Error(`fan-out of ${id} did not finish`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs worker rounds until the campaign settles (SENT or CANCELLED). */
export async function deliverAll(
  ctx: TestContext,
  tenant: TestTenant,
  id: string,
  worker: DeliveryWorker,
  options: { timeoutMs?: number; advanceMs?: number } = {},
): Promise<CampaignView> {
  await waitForFanOut(ctx, tenant, id);
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const handled = await worker.runOnce();
    const campaign = await getCampaign(ctx, tenant, id);
    if (campaign.status === 'SENT' || campaign.status === 'CANCELLED') return campaign;
    if (Date.now() > deadline) throw new Error(`campaign ${id} did not settle: ${JSON.stringify(campaign)}`);
    // Nothing due now: move the test clock past any retry backoff.
    if (handled === 0) ctx.clock.advance(options.advanceMs ?? 60 * 60_000);
  }
}
