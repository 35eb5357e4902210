import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { expect } from 'vitest';
import type { Scope } from '../../src/auth/scopes.js';
import { createContainer } from '../../src/container.js';
import { openDatabase } from '../../src/db/database.js';
import { buildApp } from '../../src/app.js';
import type { RouteInfo } from '../../src/routes.js';
import { EVENT_TYPES } from '../../src/events/event-types.js';
import { newId } from '../../src/shared/ids.js';
import { createUnsubscribeToken } from '../../src/unsubscribe/token.js';
import { TEST_SECRET, type TestContext, type TestTenant } from './app.js';
import { deliverAll, waitForFanOut } from './flow.js';

/**
 * Route-table driven requests for the security suites (test/security/):
 * for any route of `app.routeTable`, a plausible request — path parameters
 * filled with the ids of a tenant's real objects (a fixture), a minimal
 * valid body where one is needed — so that a new route is covered by the
 * isolation, scope and fuzz matrices without anyone listing it there.
 *
 * A new path parameter name, or a new route that needs a body, makes the
 * "owner control" test of test/security/tenant-isolation.test.ts fail with a
 * message pointing here.
 */

// ---------------------------------------------------------------- route table

/**
 * The route table, read from an app built over an in-memory SQLite database,
 * so that test files can generate one `it` per route at collection time.
 */
export async function loadRouteTable(): Promise<RouteInfo[]> {
  const database = openDatabase({ dialect: 'sqlite', file: ':memory:' });
  const container = createContainer(database, { secret: TEST_SECRET });
  try {
    const app = await buildApp(container);
    const routes = app.routeTable.map((route) => ({ ...route }));
    await app.close();
    return routes;
  } finally {
    await container.close();
  }
}

export const routeLabel = (route: RouteInfo) => `${route.method} ${route.url}`;
/** Path parameter names, `*` standing for a wildcard tail (a static file route). */
export const pathParams = (route: RouteInfo): string[] => [...route.url.matchAll(/:(\w+)|\*/g)].map((m) => m[1] ?? '*');
export const hasPathParams = (route: RouteInfo) => pathParams(route).length > 0;

// ------------------------------------------------------------------- fixtures

/** The ids a plausible request may need. */
export interface RouteIds {
  /** A DRAFT campaign on a published template version, reaching the fixture contacts (no SMTP project: captured). */
  campaignId: string;
  /** A SENT campaign whose messages were delivered to the capture outbox. */
  sentCampaignId: string;
  /** A SENDING campaign (fanned out, nothing delivered), on a template of its own so the first one stays free to unpublish or delete. */
  sendingCampaignId: string;
  /** A PAUSED campaign, on that same second template. */
  pausedCampaignId: string;
  /** A message of `sentCampaignId` (captured, so …/raw answers). */
  messageId: number;
  contactId: string;
  contactEmail: string;
  contactExternalId: string;
  templateId: string;
  /** The template's published base version (en). */
  versionId: string;
  /** A DRAFT variant (es) of the same template, in the base version's locale group. */
  draftVersionId: string;
  /** An SMTP project with a password, pointing at a closed local port. */
  projectId: string;
  suppressionEmail: string;
  /** A valid unsubscribe token for the contact and the sent campaign. */
  unsubscribeToken: string;
  /** A webhook endpoint (plain http to a closed local port) subscribed to every event type. */
  webhookEndpointId: string;
  /** A pending delivery of that endpoint (the fixture's suppression's contact.unsubscribed). */
  webhookDeliveryId: string;
  /** A sending domain (`<marker>.test`, never verified: no campaign of the fixture sends From it). */
  domainId: string;
  /** A Postmark bounce-provider integration (its public receiver answers 401 without its credentials). */
  bounceProviderId: string;
  /** A transactional email to the contact, sent and captured (so …/raw answers). */
  emailId: string;
  /** A transactional email scheduled a day ahead (cancellable). */
  scheduledEmailId: string;
  /** The tenant itself (`/tenants/{id}/…`). */
  tenantId: string;
  /** A member of the tenant (an editor). */
  memberUserId: string;
  /** A further API key of the tenant (contacts:read), to revoke. */
  apiKeyId: string;
  /** A pending invitation to the tenant (a viewer), to resend or cancel. */
  invitationId: string;
}

/** Transactional emails a route fixture accepts (each counts toward the quota usage). */
export const FIXTURE_EMAILS = 2;

export interface RouteFixture extends RouteIds {
  tenant: TestTenant;
  /** A unique word in every name, subject and address of the fixture: finding it in another tenant's answer is a leak. */
  marker: string;
  /** Every string of the fixture that must never appear in another tenant's answers. */
  secrets: string[];
}

const uniqueWord = (prefix: string) => `${prefix}${randomBytes(6).toString('hex')}`;

/** A TCP port on 127.0.0.1 that nothing listens on (an SMTP "server" that refuses at once, no DNS, no network). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A tenant with a chosen monthly quota (newTenant has the default one). */
export async function tenantWithQuota(ctx: TestContext, name: string, monthlyQuota: number): Promise<TestTenant> {
  const { tenant, apiKey } = await ctx.container.tenants.create({ name, monthlyQuota });
  const headersFor = (key: string) => ({ authorization: `Bearer ${key}`, 'x-tenant-id': tenant.id });
  return {
    tenantId: tenant.id,
    apiKey,
    headers: headersFor(apiKey),
    keyWith: async (scopes: Scope[], mode: 'live' | 'test' = 'live') => {
      const key = await ctx.container.apiKeys.create({ tenantId: tenant.id, scopes, mode });
      return { apiKey: key.apiKey, id: key.id, headers: headersFor(key.apiKey) };
    },
  };
}

async function ok(ctx: TestContext, tenant: TestTenant, method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown) {
  const res = await ctx.request(method, url, { tenant, ...(body === undefined ? {} : { body }) });
  expect(res.statusCode, `fixture: ${method} ${url} → ${res.body}`).toBeLessThan(300);
  return res.json() as Record<string, any>;
}

/**
 * One of every kind of object for `tenant`, made through the API: contacts
 * (`contacts` of them, the first one is `contactId`), a suppression, a
 * template with a published base version and a draft variant, an SMTP
 * project, a campaign sent and delivered to the capture outbox (so the
 * tenant's usage is `contacts`), and a draft campaign ready to send.
 */
export async function createRouteFixture(
  ctx: TestContext,
  tenant: TestTenant,
  options: { contacts?: number; smtpPort?: number; smtpPass?: string } = {},
): Promise<RouteFixture> {
  const marker = uniqueWord('mk');
  const domain = `${marker}.test`;
  const contactIds: string[] = [];
  for (let i = 0; i < (options.contacts ?? 1); i++) {
    const contact = await ok(ctx, tenant, 'PUT', '/contacts', {
      email: `contact${i}@${domain}`,
      externalId: `ext${i}-${marker}`,
      locale: 'en',
      optIn: true,
      attributes: { first_name: `First ${marker}`, plan: 'pro' },
      source: `source-${marker}`,
    });
    contactIds.push(contact.id);
  }
  // Registered first: every event of the fixture below queues a delivery for it.
  const webhookSecret = `whsec-${marker}-0123456789abcdef0123456789`;
  const endpoint = await ok(ctx, tenant, 'POST', '/webhooks/endpoints', {
    url: `http://127.0.0.1:${await closedPort()}/hooks/${marker}`,
    events: [...EVENT_TYPES],
    secret: webhookSecret,
  });
  const suppressionEmail = `suppressed@${domain}`;
  await ok(ctx, tenant, 'POST', '/suppressions', { email: suppressionEmail, reason: 'manual' });
  const deliveries = await ok(ctx, tenant, 'GET', `/webhooks/endpoints/${endpoint.id}/deliveries?status=pending`);

  const template = await ok(ctx, tenant, 'POST', '/templates', {
    name: `Template ${marker}`,
    locale: 'en',
    subject: `Hello {{ first_name }} ${marker}`,
    htmlBody: `<p>Hi {{ first_name }} ${marker}</p><a href="{{ unsubscribeUrl }}">Unsubscribe</a>`,
  });
  const templateId = template.id as string;
  const versionId = template.versions[0].id as string;
  await ok(ctx, tenant, 'POST', `/templates/${templateId}/versions/${versionId}/publish`);
  const draft = await ok(ctx, tenant, 'POST', `/templates/${templateId}/versions`, {
    locale: 'es',
    localeGroupId: versionId,
    subject: `Hola {{ first_name }} ${marker}`,
    htmlBody: `<p>Hola {{ first_name }} ${marker}</p><a href="{{ unsubscribeUrl }}">Baja</a>`,
  });

  const smtpPass = options.smtpPass ?? `pass-${marker}`;
  const project = await ok(ctx, tenant, 'POST', '/projects', {
    name: `Project ${marker}`,
    smtp: { host: '127.0.0.1', port: options.smtpPort ?? (await closedPort()), secure: false, user: `user-${marker}`, pass: smtpPass },
    fromEmail: `news@${domain}`,
    fromName: `News ${marker}`,
  });

  const sendingDomain = await ok(ctx, tenant, 'POST', '/domains', { name: domain });
  const bounceProvider = await ok(ctx, tenant, 'POST', '/bounce-providers', { provider: 'postmark' });

  // Queued before the campaign is delivered: the worker rounds below send (capture) it first.
  const email = await ok(ctx, tenant, 'POST', '/emails/send', {
    to: `contact0@${domain}`,
    subject: `Transactional ${marker}`,
    htmlBody: `<p>Receipt ${marker}</p>`,
    tags: [marker],
  });
  const scheduledEmail = await ok(ctx, tenant, 'POST', '/emails/send', {
    to: `contact0@${domain}`,
    subject: `Scheduled ${marker}`,
    htmlBody: `<p>Later ${marker}</p>`,
    scheduledAt: new Date(ctx.clock.now.getTime() + 86_400_000).toISOString(),
  });

  const sent = await ok(ctx, tenant, 'POST', '/campaigns', { name: `Sent ${marker}`, templateVersionId: versionId });
  const sendRes = await ctx.request('POST', `/campaigns/${sent.id}/send`, { tenant });
  expect(sendRes.statusCode, `fixture: send → ${sendRes.body}`).toBe(202);
  await waitForFanOut(ctx, tenant, sent.id);
  await deliverAll(ctx, tenant, sent.id, ctx.container.createWorker());
  const messages = await ok(ctx, tenant, 'GET', `/campaigns/${sent.id}/messages`);
  const messageId = messages.data[0].id as number;

  const campaign = await ok(ctx, tenant, 'POST', '/campaigns', {
    name: `Draft ${marker}`,
    templateVersionId: versionId,
    subject: `Subject ${marker}`,
    audienceFilter: { optIn: true },
  });

  // SENDING and PAUSED campaigns (for pause and resume) on a second template: a campaign
  // still sending keeps its template version in use.
  const busyTemplate = await ok(ctx, tenant, 'POST', '/templates', {
    name: `Busy template ${marker}`,
    locale: 'en',
    subject: `Busy ${marker}`,
    htmlBody: `<p>Busy ${marker}</p><a href="{{ unsubscribeUrl }}">Unsubscribe</a>`,
  });
  const busyVersionId = busyTemplate.versions[0].id as string;
  await ok(ctx, tenant, 'POST', `/templates/${busyTemplate.id}/versions/${busyVersionId}/publish`);
  const startSending = async (name: string) => {
    const created = await ok(ctx, tenant, 'POST', '/campaigns', { name: `${name} ${marker}`, templateVersionId: busyVersionId });
    const res = await ctx.request('POST', `/campaigns/${created.id}/send`, { tenant });
    expect(res.statusCode, `fixture: send → ${res.body}`).toBe(202);
    await waitForFanOut(ctx, tenant, created.id);
    return created;
  };
  const sending = await startSending('Sending');
  const paused = await startSending('Paused');
  await ok(ctx, tenant, 'POST', `/campaigns/${paused.id}/pause`);

  const member = await ctx.container.accounts.createUser({
    email: `member-${marker}@${domain}`,
    password: `password-${marker}`,
    tenantId: tenant.tenantId,
    role: 'editor',
  });
  const extraKey = await tenant.keyWith(['contacts:read']);
  const invitation = await ok(ctx, tenant, 'POST', `/tenants/${tenant.tenantId}/members`, { email: `invitee-${marker}@${domain}`, role: 'viewer' });

  const ids: RouteIds = {
    tenantId: tenant.tenantId,
    memberUserId: member.user.id,
    apiKeyId: extraKey.id,
    invitationId: invitation.id,
    campaignId: campaign.id,
    sentCampaignId: sent.id,
    sendingCampaignId: sending.id,
    pausedCampaignId: paused.id,
    messageId,
    contactId: contactIds[0]!,
    contactEmail: `contact0@${domain}`,
    contactExternalId: `ext0-${marker}`,
    templateId,
    versionId,
    draftVersionId: draft.id,
    projectId: project.id,
    suppressionEmail,
    unsubscribeToken: createUnsubscribeToken(TEST_SECRET, { tenantId: tenant.tenantId, contactId: contactIds[0]!, campaignId: sent.id }),
    webhookEndpointId: endpoint.id,
    webhookDeliveryId: deliveries.data.at(-1).id,
    domainId: sendingDomain.id,
    bounceProviderId: bounceProvider.id,
    emailId: email.id,
    scheduledEmailId: scheduledEmail.id,
  };
  const secrets = [
    marker,
    smtpPass,
    webhookSecret,
    ...contactIds,
    ...Object.values(ids).filter((v): v is string => typeof v === 'string'),
  ];
  return { ...ids, tenant, marker, secrets: [...new Set(secrets)] };
}

/** Ids of the same kinds that exist nowhere: what "another tenant's id answers like a missing one" is compared with. */
export function ghostIds(): RouteIds {
  const word = uniqueWord('ghost');
  return {
    campaignId: newId(),
    sentCampaignId: newId(),
    sendingCampaignId: newId(),
    pausedCampaignId: newId(),
    messageId: 987_654_321,
    contactId: newId(),
    contactEmail: `contact@${word}.test`,
    contactExternalId: `ext-${word}`,
    templateId: newId(),
    versionId: newId(),
    draftVersionId: newId(),
    projectId: newId(),
    suppressionEmail: `suppressed@${word}.test`,
    unsubscribeToken: createUnsubscribeToken(TEST_SECRET, { tenantId: newId(), contactId: newId(), campaignId: newId() }),
    webhookEndpointId: newId(),
    webhookDeliveryId: newId(),
    domainId: newId(),
    bounceProviderId: newId(),
    emailId: newId(),
    scheduledEmailId: newId(),
    tenantId: newId(),
    memberUserId: newId(),
    apiKeyId: newId(),
    invitationId: newId(),
  };
}

// ---------------------------------------------------------- planned requests

export interface PlannedRequest {
  method: string;
  /** Path (percent-encoded) and query string. */
  url: string;
  /** The raw body, if any. */
  payload?: string;
  /** The body as JSON, when it is JSON (for mutation by the fuzzer). */
  body?: unknown;
  headers: Record<string, string>;
}

/**
 * The object a path parameter names. `:id` is read from the first path
 * segment; routes about a campaign's messages, and its progress stream
 * (which ends at once for a finished campaign), use the sent campaign; a
 * version to edit or publish is the draft one.
 */
export function paramValue(route: RouteInfo, name: string, ids: RouteIds): string {
  const resource = route.url.split('/')[1];
  switch (name) {
    case 'id':
      switch (resource) {
        case 'campaigns':
          if (route.url.endsWith('/pause')) return ids.sendingCampaignId;
          if (route.url.endsWith('/resume')) return ids.pausedCampaignId;
          return /\/(messages|retry-failed|progress)/.test(route.url) ? ids.sentCampaignId : ids.campaignId;
        case 'contacts':
          return ids.contactId;
        case 'templates':
          return ids.templateId;
        case 'projects':
          return ids.projectId;
        case 'webhooks':
          return ids.webhookEndpointId;
        case 'domains':
          return ids.domainId;
        case 'bounce-providers':
          return ids.bounceProviderId;
        case 'emails':
          return ids.emailId;
        case 'scheduled-emails':
          return ids.scheduledEmailId;
        case 'tenants':
          return ids.tenantId;
      }
      break;
    case 'userId':
      return ids.memberUserId;
    case 'keyId':
      return ids.apiKeyId;
    case 'invitationId':
      return ids.invitationId;
    case 'deliveryId':
      return ids.webhookDeliveryId;
    case 'provider':
      return 'postmark';
    case 'integrationId':
      return ids.bounceProviderId;
    case 'versionId':
      return route.method === 'PATCH' || route.url.endsWith('/publish') ? ids.draftVersionId : ids.versionId;
    case 'messageId':
      return String(ids.messageId);
    case 'email':
      return ids.suppressionEmail;
    case 'token':
      return ids.unsubscribeToken;
    case '*':
      return ''; // a wildcard tail (static files): nothing in particular
  }
  throw new Error(
    `test/helpers/routes.ts does not know what :${name} of ${routeLabel(route)} names: teach paramValue() (and the fixture) about it`,
  );
}

/** Other spellings of the same object a route accepts (GET /contacts/{idOrExternalId}). */
function paramAlternatives(route: RouteInfo, ids: RouteIds): Record<string, string>[] {
  if (route.url.startsWith('/contacts/:id')) return [{ id: ids.contactExternalId }];
  return [];
}

export const fillPath = (route: RouteInfo, values: Record<string, string>, encode = true) =>
  route.url.replace(/:(\w+)|\*/g, (_m, param: string | undefined) => {
    const name = param ?? '*';
    const value = values[name];
    if (value === undefined) throw new Error(`no value for :${name} of ${routeLabel(route)}`);
    return encode ? encodeURIComponent(value) : value;
  });

type BodyPlan = { body: unknown } | { payload: string; contentType: string };

/**
 * Minimal valid bodies, by route; what is not listed is sent without a body.
 * Bodies name the fixture's objects wherever the route lets them (so another
 * tenant's request refers to the owner's objects).
 */
const BODIES: Record<string, (ids: RouteIds) => BodyPlan> = {
  'POST /campaigns': (ids) => ({
    body: { name: 'Planned', templateVersionId: ids.versionId, projectId: ids.projectId, audienceFilter: { projectId: ids.projectId } },
  }),
  'PATCH /campaigns/:id': (ids) => ({ body: { name: 'Renamed', templateVersionId: ids.versionId } }),
  'POST /campaigns/:id/schedule': () => ({ body: { scheduledAt: '2099-06-01T09:00:00', timezone: 'Europe/Madrid' } }),
  'POST /campaigns/:id/test': (ids) => ({ body: { emails: [ids.contactEmail] } }),
  'POST /projects': () => ({
    body: { name: 'Planned', smtp: { host: '127.0.0.1', port: 2525, secure: false, user: 'u', pass: 'planned-pass' }, fromEmail: 'a@planned.test' },
  }),
  'PATCH /projects/:id': () => ({ body: { name: 'Renamed', smtp: { pass: 'new-pass' } } }),
  'PUT /contacts': (ids) => ({ body: { email: ids.contactEmail, externalId: ids.contactExternalId, projectId: ids.projectId, optIn: true } }),
  'POST /contacts/bulk': (ids) => ({
    body: { contacts: [{ email: ids.contactEmail, externalId: ids.contactExternalId, projectId: ids.projectId }] },
  }),
  'PATCH /contacts/:id': () => ({ body: { attributes: { first_name: 'Changed' } } }),
  'POST /contacts/import': (ids) => ({
    payload: `${JSON.stringify({ email: ids.contactEmail, externalId: ids.contactExternalId, projectId: ids.projectId })}\n`,
    contentType: 'application/x-ndjson',
  }),
  'POST /audience/count': (ids) => ({ body: { filter: { projectId: ids.projectId, attributes: { plan: 'pro' } } } }),
  'POST /suppressions': (ids) => ({ body: { email: ids.suppressionEmail, reason: 'manual' } }),
  'POST /webhooks/endpoints': () => ({ body: { url: 'http://127.0.0.1:9/planned', events: ['email.sent'] } }),
  'PATCH /webhooks/endpoints/:id': () => ({ body: { events: ['email.sent', 'email.failed'] } }),
  // One name per fixture: a second POST of the same name is a 409 whoever asks.
  'POST /domains': (ids) => ({ body: { name: `planned-${ids.domainId.replace(/-/g, '').slice(-12)}.test` } }),
  'POST /bounce-providers': () => ({ body: { provider: 'postmark' } }),
  'POST /inbound/providers/:provider/:integrationId': () => ({ body: { RecordType: 'Delivery' } }),
  'POST /emails/send': (ids) => ({ body: { to: ids.contactEmail, subject: 'Planned', htmlBody: '<p>Planned</p>', projectId: ids.projectId } }),
  'POST /emails/batch': (ids) => ({ body: { emails: [{ to: ids.contactEmail, subject: 'Planned', htmlBody: '<p>Planned</p>', projectId: ids.projectId }] } }),
  'POST /templates': () => ({ body: { name: 'Planned', subject: 'Hi {{ first_name }}', htmlBody: '<p>Hi</p>' } }),
  'POST /templates/:id/versions': (ids) => ({
    body: { locale: 'fr', localeGroupId: ids.versionId, subject: 'Salut', htmlBody: '<p>Salut</p>' },
  }),
  'PATCH /templates/:id/versions/:versionId': () => ({ body: { subject: 'Changed {{ first_name }}' } }),
  'POST /tenants/:id/members': () => ({ body: { email: 'invitee@planned.test', role: 'viewer' } }),
  'PATCH /tenants/:id/members/:userId': () => ({ body: { role: 'viewer' } }),
  // keys:manage alone may grant keys:manage (never a scope the caller lacks).
  'POST /tenants/:id/api-keys': () => ({ body: { name: 'Planned', scopes: ['keys:manage'] } }),
  'POST /me/tenant': (ids) => ({ body: { tenantId: ids.tenantId } }),
  'POST /auth/sign-in': () => ({ body: { email: 'nobody@planned.test', password: 'not-the-password' } }),
  'POST /setup': () => ({ body: { token: `mcu_${'x'.repeat(43)}`, email: 'first@planned.test', password: 'planned-password', tenantName: 'Planned' } }),
  'POST /invitations/accept': () => ({ body: { token: `mci_${'x'.repeat(43)}`, password: 'planned-password' } }),
  // Without contactId: with it the key needs contacts:read as well (test/api/hostile-tenant-small.test.ts).
  'POST /templates/:id/versions/:versionId/preview': () => ({ body: { data: { extra: 1 } } }),
};

/** Query strings that name the fixture's objects, for list routes that filter by them. */
const QUERIES: Record<string, (ids: RouteIds) => string> = {
  'GET /contacts': (ids) => `projectId=${encodeURIComponent(ids.projectId)}&locale=en&q=${encodeURIComponent(ids.contactEmail.slice(0, 8))}`,
};

export function bodyPlan(route: RouteInfo, ids: RouteIds): BodyPlan | undefined {
  return BODIES[routeLabel(route)]?.(ids);
}

/** The plausible request for `route` at the objects of `ids` (`params` overrides path values, raw). */
export function planRequest(route: RouteInfo, ids: RouteIds, params?: Record<string, string>): PlannedRequest {
  const values = Object.fromEntries(pathParams(route).map((name) => [name, paramValue(route, name, ids)]));
  const query = QUERIES[routeLabel(route)]?.(ids);
  const url = fillPath(route, { ...values, ...params }) + (query ? `?${query}` : '');
  const plan = bodyPlan(route, ids);
  if (!plan) return { method: route.method, url, headers: {} };
  if ('payload' in plan) return { method: route.method, url, payload: plan.payload, headers: { 'content-type': plan.contentType } };
  return { method: route.method, url, body: plan.body, payload: JSON.stringify(plan.body), headers: { 'content-type': 'application/json' } };
}

/** The plausible request and its variants with other spellings of the same objects. */
export function planRequests(route: RouteInfo, ids: RouteIds): PlannedRequest[] {
  return [planRequest(route, ids), ...paramAlternatives(route, ids).map((params) => planRequest(route, ids, params))];
}

export function send(ctx: TestContext, planned: PlannedRequest, headers: Record<string, string | string[]> = {}): Promise<LightMyRequestResponse> {
  return ctx.app.inject({
    method: planned.method as 'GET',
    url: planned.url,
    headers: { ...planned.headers, ...headers },
    ...(planned.payload !== undefined ? { payload: planned.payload } : {}),
  });
}

// ------------------------------------------------------------ database state

/**
 * Tables that record requests rather than data (a rate-limit counter, the
 * replay store for Idempotency-Key): written by design for any request,
 * refused ones included, so "nothing was written" does not look at them.
 */
export const BOOKKEEPING_TABLES = new Set(['rate_limit_hits', 'idempotency_keys']);

interface TableInfo {
  name: string;
  columns: string[];
}

const tableCache = new WeakMap<object, Promise<TableInfo[]>>();

/** Every application table of the database (migrations' own tables excepted), found by introspection so new tables are covered. */
export function tables(ctx: TestContext): Promise<TableInfo[]> {
  const db = ctx.container.database.db;
  let cached = tableCache.get(db);
  if (!cached) {
    cached = db.introspection.getTables().then((list) =>
      list
        .filter((t) => !t.isView && !t.name.startsWith('kysely_'))
        .map((t) => ({ name: t.name, columns: t.columns.map((c) => c.name) }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    );
    tableCache.set(db, cached);
  }
  return cached;
}

/**
 * Row counts of every data table, for "nothing was written" assertions (what
 * ctx.count does table by table, in one statement: the fuzzer calls it after
 * every refused request).
 */
export async function rowCounts(ctx: TestContext): Promise<Record<string, number>> {
  const names = (await tables(ctx)).map((t) => t.name).filter((name) => !BOOKKEEPING_TABLES.has(name));
  const columns = sql.join(names.map((name) => sql`(select count(*) from ${sql.table(name)}) as ${sql.ref(name)}`));
  const { rows } = await sql<Record<string, number | string>>`select ${columns}`.execute(ctx.container.database.db);
  return Object.fromEntries(names.map((name) => [name, Number(rows[0]![name])]));
}

/** The column tying a table's rows to a tenant, if any. */
const tenantColumn = (table: TableInfo) =>
  table.name === 'tenants' ? 'id' : table.columns.includes('tenant_id') ? 'tenant_id' : undefined;

/** Row counts of every data table leaving out one tenant's rows: what that tenant's own writes cannot change. */
export async function rowCountsExcept(ctx: TestContext, tenantId: string): Promise<Record<string, number>> {
  const db = ctx.container.database.db;
  const counts: Record<string, number> = {};
  for (const table of await tables(ctx)) {
    if (BOOKKEEPING_TABLES.has(table.name)) continue;
    const column = tenantColumn(table);
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table.name)} ${
      column ? sql`where ${sql.ref(column)} <> ${tenantId}` : sql``
    }`.execute(db);
    counts[table.name] = Number(rows[0]!.n);
  }
  return counts;
}

/** Columns that change without anyone writing the tenant's data (a key's last use). */
const VOLATILE_COLUMNS = new Set(['last_used_at']);

/** Every row belonging to a tenant, table by table, in a stable order: compare two snapshots to prove nothing of it changed. */
export async function tenantSnapshot(ctx: TestContext, tenantId: string): Promise<Record<string, string[]>> {
  const db = ctx.container.database.db;
  const snapshot: Record<string, string[]> = {};
  for (const table of await tables(ctx)) {
    const column = tenantColumn(table);
    if (!column || BOOKKEEPING_TABLES.has(table.name)) continue;
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table.name)} where ${sql.ref(column)} = ${tenantId}`.execute(db);
    snapshot[table.name] = rows
      .map((row) => JSON.stringify(Object.fromEntries(Object.entries(row).filter(([key]) => !VOLATILE_COLUMNS.has(key)).sort(([a], [b]) => a.localeCompare(b)))))
      .sort();
  }
  return snapshot;
}

/** Waits until no campaign is fanning out (a 202 send starts one in the background). */
export async function settle(ctx: TestContext, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy = await ctx.container.database.db
      .selectFrom('campaigns')
      .select('id')
      .where('status', '=', 'SENDING')
      .where('fanout_completed_at', 'is', null)
      .execute();
    if (busy.length === 0) return;
    if (Date.now() > deadline) throw new Error(`fan-out of ${busy.map((b) => b.id).join(', ')} did not finish`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The strings of `secrets` found in `text`, leaving out those the request itself carried (an echo is not a leak). */
export function leakedSecrets(text: string, secrets: string[], request?: PlannedRequest): string[] {
  const sent = request ? `${request.url}\n${request.payload ?? ''}` : '';
  return secrets.filter((secret) => text.includes(secret) && !sent.includes(secret));
}
