import { Type } from '@sinclair/typebox';
import { tenantInPath, type App } from '../http/types.js';
import { ErrorResponse, StringEnum } from '../shared/schema.js';
import type { ApiKeyService } from './api-key.service.js';
import { SCOPES } from './scopes.js';


const tags = ['api-keys'];
const manage = { scope: 'keys:manage' } as const;
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };

const ScopeSchema = StringEnum(SCOPES);
const KeyMode = StringEnum(['live', 'test'] as const);

const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it (the secret is never stored)' }),
  scopes: Type.Array(ScopeSchema),
  mode: KeyMode,
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const CreatedApiKey = Type.Object({
  ...ApiKey.properties,
  apiKey: Type.String({ description: 'The secret, shown this once' }),
});

const ApiKeyList = Type.Object({ data: Type.Array(ApiKey) });

const CreateApiKeyBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: SCOPES.length, uniqueItems: true }),
    mode: Type.Optional(KeyMode),
  },
  { additionalProperties: false },
);

const TenantParams = Type.Object({ id: Type.String({ maxLength: 200 }) });
const KeyParams = Type.Object({ id: Type.String({ maxLength: 200 }), keyId: Type.String({ maxLength: 200 }) });

const view = <T extends { tenantId: string }>(key: T): Omit<T, 'tenantId'> => {
  const { tenantId: _tenantId, ...rest } = key;
  return rest;
};

/** API keys over HTTP (the MailingCore docs' paths), for the dashboard and automation. */
export function apiKeyRoutes(app: App, { apiKeys }: { apiKeys: ApiKeyService }): void {
  app.get(
    '/tenants/:id/api-keys',
    {
      config: manage,
      schema: {
        operationId: 'listApiKeys',
        summary: "List the tenant's API keys",
        description: 'Prefixes, scopes and last use; never a secret. `{id}` is the tenant the request is for (another answers 404).',
        tags,
        params: TenantParams,
        response: { 200: ApiKeyList, ...errors },
      },
    },
    async (request) => ({ data: (await apiKeys.list(tenantInPath(request, request.params.id))).map(view) }),
  );

  app.post(
    '/tenants/:id/api-keys',
    {
      config: manage,
      schema: {
        operationId: 'createApiKey',
        summary: 'Create an API key',
        description:
          'The secret is in this answer only. A caller never grants a scope it does not hold itself (403 `SCOPE_ESCALATION`, `scopes` names them); ' +
          'a test-mode key creates only test-mode keys. `mode` defaults to the caller\'s (a member\'s: live).',
        tags,
        params: TenantParams,
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKey, ...errors },
      },
    },
    async (request, reply) => {
      tenantInPath(request, request.params.id);
      return reply.status(201).send(view(await apiKeys.issue(request.principal!, request.body)));
    },
  );

  app.delete(
    '/tenants/:id/api-keys/:keyId',
    {
      config: manage,
      schema: {
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key',
        description: 'Requests with it are refused from then on (other API processes: within API_KEY_CACHE_MS). Revoking a revoked key changes nothing.',
        tags,
        params: KeyParams,
        response: { 200: ApiKey, ...errors },
      },
    },
    async (request) => view(await apiKeys.revokeInTenant(tenantInPath(request, request.params.id), request.params.keyId)),
  );
}
