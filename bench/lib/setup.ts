/**
 * Application-level fixtures, made through the public API the way a client
 * would (buildApp + inject): a tenant and its key, a template with a base
 * version and two locale variants, an SMTP project, campaigns.
 */
import type { SendingPolicy } from '../../src/config.js';
import type { Container } from '../../src/container.js';
import { createContainer } from '../../src/container.js';
import type { Database } from '../../src/db/database.js';
import { buildApp } from '../../src/app.js';
import type { App } from '../../src/http/types.js';
import { BENCH_OUTBOUND, BENCH_SECRET } from './common.js';

export const BENCH_RATE_LIMIT = { max: 1_000_000_000, windowMs: 60_000 };

export interface Tenant {
  tenantId: string;
  apiKey: string;
  headers: Record<string, string>;
}

export interface Fixture {
  container: Container;
  app: App;
  close(): Promise<void>;
}

export async function openApp(database: Database, delivery: { publicUrl?: string } = {}, sending?: Partial<SendingPolicy>): Promise<Fixture> {
  const container = createContainer(database, {
    ...(sending ? { sending } : {}),
    secret: BENCH_SECRET,
    outbound: BENCH_OUTBOUND,
    delivery: { publicUrl: delivery.publicUrl ?? 'http://127.0.0.1:3000' },
    // Counted as in production (one store hit per request), but never reached: a load test is one key.
    rateLimit: BENCH_RATE_LIMIT,
  });
  const app = await buildApp(container);
  return {
    container,
    app,
    close: async () => {
      await app.close();
      await container.close();
    },
  };
}

export const headersFor = (tenantId: string, apiKey: string) => ({ authorization: `Bearer ${apiKey}`, 'x-tenant-id': tenantId });

export async function createTenant(container: Container, monthlyQuota: number): Promise<Tenant> {
  const { tenant, apiKey } = await container.tenants.create({ name: 'Bench tenant', monthlyQuota });
  return { tenantId: tenant.id, apiKey, headers: headersFor(tenant.id, apiKey) };
}

export async function call<T = Record<string, unknown>>(
  app: App,
  tenant: Tenant,
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  body?: unknown,
  expected = [200, 201, 202],
): Promise<T> {
  const res = await app.inject({ method, url, headers: tenant.headers, ...(body !== undefined ? { payload: body as object } : {}) });
  if (!expected.includes(res.statusCode)) throw new Error(`${method} ${url} → ${res.statusCode}: ${res.body}`);
  return res.json() as T;
}

/** A newsletter of realistic size (~3 KB of HTML once the CSS is inlined). */
function newsletter(greeting: string, unsubscribe: string): string {
  const paragraphs = Array.from(
    { length: 8 },
    (_, i) =>
      `<p class="copy">Paragraph ${i + 1}: this month we shipped faster imports, locale variants and a new delivery pipeline. ` +
      `Read more on <a href="https://example.com/news/${i + 1}?utm_source=newsletter">our blog</a>.</p>`,
  ).join('\n');
  return `<html><head><style>.copy { font-family: Helvetica, Arial, sans-serif; color: #333; line-height: 1.5 } h1 { color: #0a5 }</style></head>
<body><h1>${greeting} {{ first_name }} {{ last_name }}!</h1>
<p>Your plan: {{ plan }}, score {{ score }}.</p>
${paragraphs}
<p><a href="{{ unsubscribeUrl }}">${unsubscribe}</a></p></body></html>`;
}

/** A template whose base version is English with Spanish and French variants, all published; the base version id. */
export async function publishedTemplate(app: App, tenant: Tenant): Promise<string> {
  const variants: Record<string, { subject: string; html: string }> = {
    en: { subject: 'News for {{ first_name }}', html: newsletter('Hello', 'Unsubscribe') },
    es: { subject: 'Noticias para {{ first_name }}', html: newsletter('¡Hola', 'Darse de baja') },
    fr: { subject: 'Nouvelles pour {{ first_name }}', html: newsletter('Bonjour', 'Se désabonner') },
  };
  const en = variants.en!;
  const template = await call<{ id: string; versions: { id: string }[] }>(app, tenant, 'POST', '/templates', {
    name: 'Newsletter',
    locale: 'en',
    subject: en.subject,
    htmlBody: en.html,
  });
  const base = template.versions[0]!.id;
  const ids = [base];
  for (const locale of ['es', 'fr']) {
    const v = variants[locale]!;
    const created = await call<{ id: string }>(app, tenant, 'POST', `/templates/${template.id}/versions`, {
      locale,
      localeGroupId: base,
      subject: v.subject,
      htmlBody: v.html,
    });
    ids.push(created.id);
  }
  for (const id of ids) await call(app, tenant, 'POST', `/templates/${template.id}/versions/${id}/publish`);
  return base;
}

export async function smtpProject(app: App, tenant: Tenant, port: number): Promise<string> {
  const project = await call<{ id: string }>(app, tenant, 'POST', '/projects', {
    name: 'Sink',
    smtp: { host: '127.0.0.1', port, secure: false },
    fromEmail: 'news@acme.example',
    fromName: 'Acme News',
  });
  return project.id;
}

/**
 * The project's From domain (acme.example) as a VERIFIED sending domain of the
 * tenant, made through the API (a real DKIM key) and marked verified in SQL
 * (no DNS here): its mail is DKIM-signed, as a production sender's is.
 */
export async function verifiedDomain(fixture: Fixture, tenant: Tenant, name = 'acme.example'): Promise<void> {
  const domain = await call<{ id: string }>(fixture.app, tenant, 'POST', '/domains', { name });
  await fixture.container.database.db.updateTable('sending_domains').set({ status: 'VERIFIED' }).where('id', '=', domain.id).execute();
}

export async function createCampaign(app: App, tenant: Tenant, body: Record<string, unknown>): Promise<string> {
  const campaign = await call<{ id: string }>(app, tenant, 'POST', '/campaigns', { name: 'Bench campaign', audienceFilter: { optIn: true }, ...body });
  return campaign.id;
}

export interface CampaignView {
  id: string;
  status: string;
  counters: { total: number; queued: number; sent: number; failed: number; cancelled: number; skipped: { quota: number; suppressed: number } };
}

/** Creates a campaign, sends it through the API and waits for its fan-out: exactly `expected` messages queued. Its id. */
export async function queueCampaign(fixture: Fixture, tenant: Tenant, body: Record<string, unknown>, expected: number): Promise<string> {
  const campaignId = await createCampaign(fixture.app, tenant, body);
  await call(fixture.app, tenant, 'POST', `/campaigns/${campaignId}/send`, undefined, [202]);
  await fannedOut(fixture.container.database, campaignId);
  const view = await call<CampaignView>(fixture.app, tenant, 'GET', `/campaigns/${campaignId}`);
  if (view.counters.queued !== expected) throw new Error(`expected ${expected} queued, got ${JSON.stringify(view.counters)}`);
  return campaignId;
}

/** Waits until the campaign's fan-out (streamed in chunks) has finished. */
export async function fannedOut(database: Database, campaignId: string): Promise<void> {
  for (;;) {
    const row = await database.db.selectFrom('campaigns').select(['fanout_completed_at', 'status']).where('id', '=', campaignId).executeTakeFirstOrThrow();
    if (row.fanout_completed_at !== null) return;
    if (row.status !== 'SENDING') throw new Error(`campaign ${campaignId} is ${row.status} before its fan-out finished`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
