import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type, type TSchema } from '@sinclair/typebox';
import type { RouteOptions } from 'fastify';
import { ErrorResponse } from '../shared/schema.js';
import type { App } from './types.js';

/**
 * The OpenAPI 3.1 document is generated from the routes themselves: their
 * TypeBox schemas (params, query, body, responses), `tags`, `operationId`,
 * `summary` and `description`, and their `config` (scope → security
 * requirement, `idempotent` → the Idempotency-Key header). Nothing here
 * lists the API: what is added is cross-cutting (the error answers every
 * authenticated route may give, security) and is added to the document
 * only — `transform` never touches the schemas Fastify validates and
 * serializes with.
 */

declare module 'fastify' {
  interface FastifySchema {
    /**
     * Responses for the document only, never used to serialize (non-JSON
     * bodies: HTML pages, raw emails, metrics text), in @fastify/swagger's
     * response format: `{ description, content: { 'text/html': { schema } } }`
     * or a JSON schema.
     */
    docsResponses?: Record<string, unknown>;
    /** A request body for the document only (streamed, non-JSON bodies), as `{ content: { 'text/csv': { schema } } }`. */
    docsBody?: unknown;
  }
}

/** The reference page (@fastify/swagger-ui) and its assets: public, and left out of the document. */
export const DOCS_PREFIX = '/docs';

export const isDocsRoute = (url: string) => url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`);

const ERROR_SCHEMA_ID = 'ErrorResponse';

const TAGS = [
  { name: 'campaigns', description: 'Campaigns: create, schedule, send, test, cancel, follow delivery' },
  { name: 'emails', description: 'Transactional email: send one or a batch, logs, scheduled sends (a priority lane ahead of campaigns)' },
  { name: 'contacts', description: 'Contacts: upsert, bulk, streaming import, search, message history, GDPR erasure' },
  { name: 'audience', description: 'Audience filters: the live count of contacts a campaign would reach' },
  { name: 'suppressions', description: 'Addresses that must never be mailed' },
  { name: 'templates', description: 'Templates, versions, locale variants, publish and preview' },
  { name: 'projects', description: 'SMTP projects (sender identity and server)' },
  { name: 'usage', description: 'Monthly quota usage' },
  { name: 'events', description: 'The event log: what happened to messages, contacts and campaigns' },
  { name: 'webhooks', description: 'Signed outbound webhooks: endpoints, deliveries, test and retry' },
  { name: 'domains', description: 'Sending domains: DKIM keys, the DNS records to publish, verification and key rotation' },
  { name: 'unsubscribe', description: 'Public unsubscribe pages behind List-Unsubscribe (RFC 8058)' },
  { name: 'tracking', description: 'Public open pixel and tracked links (docs/TRACKING.md)' },
  { name: 'accounts', description: 'Dashboard accounts: sign-in, cookie sessions, the signed-in user, first-run setup, invitations (docs/ACCOUNTS.md)' },
  { name: 'members', description: "A tenant's members, their roles and invitations" },
  { name: 'api-keys', description: "A tenant's API keys: list, create (the secret shown once), revoke" },
  { name: 'operations', description: 'Liveness, readiness, metrics and this document (public)' },
];

const SUCCESS_DESCRIPTIONS: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted: the work goes on in the background',
  204: 'No content',
};

const ERROR_DESCRIPTIONS: Record<string, string> = {
  400: 'VALIDATION_ERROR (one detail per bad field), INVALID_JSON or MISSING_TENANT (no X-Tenant-Id)',
  401: 'UNAUTHORIZED: missing, malformed, unknown or revoked API key, or an invalid, expired or revoked session',
  403: 'TENANT_MISMATCH (the key belongs to another tenant, or the member is not one of it), CSRF_FAILED (a cookie session without the right X-CSRF-Token, or from another Origin), INSUFFICIENT_SCOPE (requiredScope names the scope; preview with contactId also needs contacts:read) or TEST_KEY_LIVE_CAMPAIGN (an mc_test_ key on a campaign started live)',
  404: 'NOT_FOUND: no such object for this tenant',
  409: 'INVALID_STATE (with currentStatus), CONFLICT, VERSION_FROZEN (a version ever published is not edited: start a new one with fromVersionId), or IDEMPOTENCY_KEY_REUSED / IDEMPOTENCY_KEY_IN_PROGRESS',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'The request is well-formed but cannot be carried out (e.g. TEMPLATE_REQUIRED, TEMPLATE_NOT_PUBLISHED, TEMPLATE_SYNTAX, HOST_NOT_ALLOWED)',
  429: 'RATE_LIMITED or TEST_SEND_LIMIT (see Retry-After), or QUOTA_EXCEEDED (with quota)',
  503: 'Not ready',
};

const IdempotencyHeaders = Type.Object({
  'Idempotency-Key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description:
        'Makes a retry safe: within 24 h the first answer is replayed (Idempotent-Replayed: true); the same key with another request is 409 IDEMPOTENCY_KEY_REUSED',
    }),
  ),
});

export interface OpenApiOptions {
  /** The server the document names (PUBLIC_URL). */
  serverUrl: string;
  version: string;
}

/** Registers @fastify/swagger; must come before any route, since it learns them as they are added. */
export async function registerOpenApi(app: App, { serverUrl, version }: OpenApiOptions): Promise<void> {
  app.addSchema({ ...ErrorResponse, $id: ERROR_SCHEMA_ID, description: 'The one shape of every error answer' });
  const options: FastifyDynamicSwaggerOptions = {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'MailingCore API',
        version,
        description:
          'Multi-tenant newsletter platform: contacts, templates with locale variants, campaigns fanned out in the database and delivered over SMTP.\n\n' +
          'Every route but the public ones (operations, unsubscribe pages) needs `Authorization: Bearer mc_live_…` **and** `X-Tenant-Id: <tenant id>`; ' +
          'each operation names the scope its key must hold. Errors all have the `ErrorResponse` shape. ' +
          'Authenticated answers carry `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset`, `X-Quota-Limit`, `X-Quota-Used` and `X-Quota-Percentage`; ' +
          'every answer carries `X-Request-Id` (an incoming well-formed one is kept).',
        license: { name: 'MIT', identifier: 'MIT' },
        contact: { name: 'MailingCore' },
      },
      servers: [{ url: serverUrl, description: 'This server (PUBLIC_URL)' }],
      tags: TAGS,
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'mc_live_… or mc_test_… API key',
            description: 'An API key of the tenant, `Authorization: Bearer mc_live_…`; the operation names the scope it needs.',
          },
          tenantId: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Tenant-Id',
            description: 'The id of the tenant the API key belongs to.',
          },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: 'mc_session',
            description:
              "A signed-in member's session (POST /auth/sign-in). POST, PUT, PATCH and DELETE also need `X-CSRF-Token` (from sign-in or GET /me). " +
              "The tenant is `X-Tenant-Id` if sent (the member's), else the session's current one; the member's role gives the scopes (docs/ACCOUNTS.md).",
          },
        },
      },
      security: [{ apiKey: [], tenantId: [] }],
    },
    transform: ({ schema, url, route }) => ({ schema: documentRoute(schema as RouteSchema | undefined, route as RouteOptions), url }),
    refResolver: {
      // Shared schemas keep their $id as their component name (#/components/schemas/ErrorResponse).
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  };
  await app.register(swagger, options);
}

/** GET /openapi.json, and the reference page at /docs (assets served from npm, nothing from a CDN). */
export function docsRoutes(app: App): void {
  app.get(
    '/openapi.json',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        operationId: 'getOpenApiDocument',
        summary: 'This OpenAPI document',
        description: 'The OpenAPI 3.1 description of this API, generated from the route schemas. `/docs` renders it.',
        docsResponses: {
          200: { description: 'The OpenAPI document', content: { 'application/json': { schema: { type: 'object' } } } },
        },
      },
    },
    async (_request, reply) => reply.header('Cache-Control', 'no-cache').send(app.swagger()),
  );
  app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { deepLinking: true, displayOperationId: true, defaultModelsExpandDepth: 0 },
    theme: { title: 'MailingCore API reference' },
  });
}

type RouteSchema = Record<string, unknown> & {
  response?: Record<string, unknown>;
  docsResponses?: Record<string, unknown>;
  docsBody?: unknown;
  description?: string;
  operationId?: string;
};

/** The route's schema as the document shows it; a copy, so validation and serialization are untouched. */
function documentRoute(schema: RouteSchema | undefined, route: RouteOptions): RouteSchema {
  const config = (route.config ?? {}) as { public?: boolean; scope?: string; anyScope?: boolean; idempotent?: boolean; session?: boolean };
  const method = Array.isArray(route.method) ? route.method[0]! : route.method;
  const { docsResponses, docsBody, response: declared, ...rest } = schema ?? {};
  const doc: RouteSchema = { ...rest, ...(docsBody ? { body: docsBody } : {}) };
  doc.operationId ??= defaultOperationId(method, route.url);

  const secured = config.public !== true;
  const responses: Record<string, unknown> = {};
  const inputs = Boolean(rest.body || rest.querystring || rest.params);
  if (secured) responses[400] = ErrorResponse;
  else if (inputs) responses[400] = { ...ErrorResponse, description: 'VALIDATION_ERROR: a parameter is malformed' };
  if (secured) Object.assign(responses, { 401: ErrorResponse, 403: ErrorResponse, 429: ErrorResponse });
  if (doc.body) responses[413] = ErrorResponse;
  Object.assign(responses, declared, docsResponses);
  doc.response = Object.fromEntries(
    Object.entries(responses)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, value]) => [code, documentResponse(code, value)]),
  );

  if (!secured) {
    doc.security = [];
  } else if (config.session) {
    doc.security = [{ session: [] }];
  } else {
    // The scope goes in an extension and the description rather than in the requirement's array: OpenAPI 3.1
    // allows role names there for any scheme, but linters and client generators expect them only for OAuth.
    doc.security = [{ apiKey: [], tenantId: [] }, { session: [] }];
    doc['x-required-scopes'] = config.scope ? [config.scope] : [];
    const access = config.scope
      ? `Requires an API key with the \`${config.scope}\` scope, or a signed-in member whose role grants it.`
      : 'Any API key of the tenant, or any signed-in member.';
    doc.description = doc.description ? `${doc.description}\n\n${access}` : access;
  }
  if (config.idempotent) doc.headers = IdempotencyHeaders;
  return doc;
}

function documentResponse(code: string, value: unknown): unknown {
  const schema = value as TSchema & { description?: string };
  if (isErrorSchema(schema)) {
    return {
      $ref: `${ERROR_SCHEMA_ID}#`,
      description: schema !== ErrorResponse && schema.description ? schema.description : (ERROR_DESCRIPTIONS[code] ?? 'Error'),
      ...(code === '429'
        ? { headers: { 'Retry-After': { type: 'integer', description: 'Seconds to wait before trying again' } } }
        : {}),
    };
  }
  if (schema && typeof schema === 'object' && !schema.description) {
    return { ...schema, description: SUCCESS_DESCRIPTIONS[code] ?? 'Answer' };
  }
  return schema;
}

/** ErrorResponse itself, or a copy of it with a description of its own. */
const isErrorSchema = (schema: unknown): boolean =>
  schema === ErrorResponse || (typeof schema === 'object' && schema !== null && (schema as TSchema).properties === ErrorResponse.properties);

/** A stable fallback (`GET /campaigns/:id/messages` → getCampaignsIdMessages); routes should name their own. */
function defaultOperationId(method: string, url: string): string {
  const words = url
    .split('/')
    .filter(Boolean)
    .map((part) => part.replace(/^:/, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : '')))
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1));
  return method.toLowerCase() + words.join('');
}
