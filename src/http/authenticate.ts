import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';
import { bearerToken } from '../auth/api-key.js';
import type { ApiKeyService } from '../auth/api-key.service.js';
import type { LastUsedRecorder } from '../auth/last-used.js';

/**
 * onRequest hook: runs before the body is read, so an unauthenticated client
 * cannot make the server parse its payload. Order of checks: key (401),
 * tenant header (400), key's tenant (403), scope (403).
 */
export function authenticate(deps: { apiKeys: ApiKeyService; lastUsed: LastUsedRecorder }) {
  return async function authenticateRequest(request: FastifyRequest, reply: FastifyReply) {
    const config = request.routeOptions.config;
    if (config.public || request.is404) return;
    const scope = config.scope;
    if (!scope && !config.anyScope) {
      // A route registered without a scope or `public: true` is closed, not open.
      request.log.error({ url: request.routeOptions.url }, 'route has no scope');
      return sendError(request, reply, 403, 'INSUFFICIENT_SCOPE', 'This route is not available to API keys');
    }
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      return sendError(request, reply, 401, 'UNAUTHORIZED', 'Missing or malformed Authorization header: expected "Bearer mc_live_…"');
    }
    const principal = await deps.apiKeys.verify(token);
    if (!principal) return sendError(request, reply, 401, 'UNAUTHORIZED', 'Invalid or revoked API key');

    const tenantHeader = request.headers['x-tenant-id'];
    const tenantId = Array.isArray(tenantHeader) ? tenantHeader[0] : tenantHeader;
    if (!tenantId || tenantId.trim() === '') {
      return sendError(request, reply, 400, 'MISSING_TENANT', 'The X-Tenant-Id header is required');
    }
    if (tenantId.trim() !== principal.tenantId) {
      return sendError(request, reply, 403, 'TENANT_MISMATCH', 'This API key does not belong to the tenant in X-Tenant-Id');
    }
    deps.lastUsed.record(principal.keyId, new Date().toISOString());
    if (scope && !principal.scopes.has(scope)) {
      return sendError(request, reply, 403, 'INSUFFICIENT_SCOPE', `This API key lacks the ${scope} scope`, undefined, {
        requiredScope: scope,
      });
    }
    request.principal = principal;
  };
}
