import { describe, expect, it } from 'vitest';
import { CreateCampaignBody } from '../../src/campaigns/campaign.schemas.js';
import { validatorCompiler } from '../../src/http/validation.js';
import { useTestApp } from '../helpers/app.js';

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  'x-required-scopes'?: string[];
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { example?: unknown; schema?: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: { $ref?: string } }> }>;
}

interface Document {
  openapi: string;
  info: { title: string; version: string };
  tags: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { required?: string[] }>; securitySchemes: Record<string, Record<string, string>> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const toOpenApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

// The document does not depend on the storage engine: one database is enough.
describe('OpenAPI document and reference page', () => {
  const ctx = useTestApp('sqlite');

  const document = async (): Promise<Document> => {
    const res = await ctx.request('GET', '/openapi.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    return JSON.parse(res.body) as Document;
  };

  const operations = (doc: Document) =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, op]) => ({ path, method, op })),
    );

  it('is public OpenAPI 3.1 JSON', async () => {
    const doc = await document();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBe('MailingCore API');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('documents every route of the route table but the hidden ones, and nothing else', async () => {
    const doc = await document();
    const visible = ctx.app.routeTable.filter((r) => !r.hidden);
    expect(visible.length).toBeGreaterThan(30);
    for (const route of visible) {
      const op = doc.paths[toOpenApiPath(route.url)]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.url}`).toBeDefined();
    }
    const documented = operations(doc).map(({ path, method }) => `${method.toUpperCase()} ${path}`).sort();
    expect(documented).toEqual(visible.map((r) => `${r.method} ${toOpenApiPath(r.url)}`).sort());
    expect(Object.keys(doc.paths).some((path) => path.startsWith('/docs'))).toBe(false);
  });

  it('names, summarises and tags every operation, with unique operationIds and declared tags', async () => {
    const doc = await document();
    const tags = new Set(doc.tags.map((t) => t.name));
    const ids = new Set<string>();
    for (const { path, method, op } of operations(doc)) {
      const label = `${method.toUpperCase()} ${path}`;
      expect(op.operationId, label).toMatch(/^[a-z][A-Za-z]+$/);
      expect(ids.has(op.operationId!), `duplicate ${op.operationId}`).toBe(false);
      ids.add(op.operationId!);
      expect(op.summary, label).toBeTruthy();
      expect(op.description, label).toBeTruthy();
      expect(op.tags?.length, label).toBe(1);
      expect(tags.has(op.tags![0]!), label).toBe(true);
      for (const [code, response] of Object.entries(op.responses)) {
        expect(response.description, `${label} ${code}`).toBeTruthy();
      }
    }
  });

  it('declares the bearer API key and the X-Tenant-Id header, and lists them on every secured operation', async () => {
    const doc = await document();
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.tenantId).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-Tenant-Id' });
    for (const route of ctx.app.routeTable.filter((r) => !r.hidden)) {
      const op = doc.paths[toOpenApiPath(route.url)]![route.method.toLowerCase()]!;
      const label = `${route.method} ${route.url}`;
      if (route.public) {
        expect(op.security, label).toEqual([]);
        continue;
      }
      expect(doc.components.securitySchemes.session).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'mc_session' });
      if (route.scope === 'session') {
        // A signed-in member's own account (/me, sign-out): the cookie only.
        expect(op.security, label).toEqual([{ session: [] }]);
        continue;
      }
      // An API key with the tenant header, or a signed-in member's session cookie.
      expect(op.security, label).toEqual([{ apiKey: [], tenantId: [] }, { session: [] }]);
      expect(op['x-required-scopes'], label).toEqual(route.scope === 'any' || !route.scope ? [] : [route.scope]);
      if (route.scope && route.scope !== 'any') expect(op.description, label).toContain(route.scope);
      // The authentication headers are the security schemes', not parameters of their own.
      expect(op.parameters?.some((p) => p.in === 'header' && /^(authorization|x-tenant-id)$/i.test(p.name)) ?? false, label).toBe(false);
    }
  });

  it('documents the error answers of secured operations with the ErrorResponse schema', async () => {
    const doc = await document();
    expect(doc.components.schemas.ErrorResponse?.required).toEqual(
      expect.arrayContaining(['statusCode', 'code', 'message', 'path', 'timestamp']),
    );
    const secured = operations(doc).filter(({ op }) => op.security?.length);
    expect(secured.length).toBeGreaterThan(30);
    for (const { path, method, op } of secured) {
      for (const code of ['400', '401', '403', '429']) {
        const schema = op.responses[code]?.content?.['application/json']?.schema;
        expect(schema, `${method} ${path} ${code}`).toEqual({ $ref: '#/components/schemas/ErrorResponse' });
      }
      expect(Object.keys(op.responses).some((code) => /^2\d\d$/.test(code)), `${method} ${path}`).toBe(true);
    }
    // Operations that may be replayed document the Idempotency-Key header.
    const send = doc.paths['/campaigns/{id}/send']!.post!;
    expect(send.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'header', name: 'Idempotency-Key' })]));
    // Non-JSON answers are described with their own media types.
    expect(Object.keys(doc.paths['/campaigns/{id}/messages/{messageId}/raw']!.get!.responses['200']!.content!)).toEqual(['message/rfc822']);
    expect(Object.keys(doc.paths['/u/{token}']!.get!.responses['200']!.content!)).toEqual(['text/html']);
    expect(Object.keys(doc.paths['/metrics']!.get!.responses['200']!.content!)).toEqual(['text/plain']);
    expect(Object.keys(doc.paths['/contacts/import']!.post!.requestBody!.content).sort()).toEqual(['application/x-ndjson', 'text/csv']);
  });

  it('shows the contract example of POST /campaigns, which the API accepts', async () => {
    const doc = await document();
    const example = doc.paths['/campaigns']!.post!.requestBody!.content['application/json']!.example as Record<string, unknown>;
    expect(example).toMatchObject({ name: 'June product update', timezone: 'Europe/Madrid' });
    const validate = validatorCompiler({ schema: CreateCampaignBody, httpPart: 'body', url: '/campaigns', method: 'POST' }) as (
      value: unknown,
    ) => boolean;
    expect(validate(structuredClone(example))).toBe(true);
  });

  it('serves the reference page at /docs with its assets from the package, nothing from elsewhere', async () => {
    const page = await ctx.request('GET', '/docs');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('swagger-ui');
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const asset of ['/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-ui.css', '/docs/static/swagger-initializer.js', '/docs/json']) {
      const res = await ctx.request('GET', asset);
      expect(res.statusCode, asset).toBe(200);
    }
    const initializer = await ctx.request('GET', '/docs/static/swagger-initializer.js');
    expect(initializer.body).toContain('validatorUrl: null');
  });
});
