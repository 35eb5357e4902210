import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';
import { csrfTokenMatches, isStateChanging, sameOrigin, SESSION_COOKIE } from './csrf.js';
import { bearerToken } from '../auth/api-key.js';
import type { ApiKeyService } from '../auth/api-key.service.js';
import type { LastUsedRecorder } from '../auth/last-used.js';
import { scopesOf, type Role } from '../auth/roles.js';

/** A valid cookie session, as the hook needs it (accounts/session.service.ts). */
export interface RequestSession {
  sessionId: string;
  userId: string;
  tenantId: string | null;
  csrfToken: string;
}

/** What the hook asks of the sessions (accounts/session.service.ts; http/ imports no feature). */
export interface SessionAuthenticator {
  authenticate(token: string): Promise<RequestSession | undefined>;
  roleIn(userId: string, tenantId: string): Promise<Role | null>;
}

/**
 * onRequest hook: runs before the body is read, so an unauthenticated client
 * cannot make the server parse its payload.
 *
 * A request authenticates with EITHER an API key (`Authorization: Bearer`,
 * `X-Tenant-Id` required) OR the `mc_session` cookie of a signed-in member
 * (docs/ACCOUNTS.md). With an Authorization header the key decides, as it
 * always did: key (401), tenant header (400), key's tenant (403), scope
 * (403). With the cookie: session (401), CSRF on state-changing requests
 * (403 CSRF_FAILED), then routes for the account itself (`session: true`:
 * /me, sign-out) are let through; others need a tenant — `X-Tenant-Id` if
 * sent, else the session's current one (400 without either) — of which the
 * user is a member (403 TENANT_MISMATCH; read per request, cached a few
 * seconds), and the route's scope among their role's (403).
 *
 * Public routes are let through; the public POSTs that sign someone in
 * (`checkOrigin`) refuse a foreign Origin (login CSRF).
 */
export function authenticate(deps: { apiKeys: ApiKeyService; lastUsed: LastUsedRecorder; sessions: SessionAuthenticator; publicUrl: string }) {
  return async function authenticateRequest(request: FastifyRequest, reply: FastifyReply) {
    const config = request.routeOptions.config;
    if (request.is404) return;
    if (config.public) {
      if (config.checkOrigin && isStateChanging(request.method) && !sameOrigin(request, deps.publicUrl)) {
        return sendError(request, reply, 403, 'CSRF_FAILED', 'This request comes from another site (Origin does not match PUBLIC_URL)');
      }
      return;
    }
    const scope = config.scope;
    if (!scope && !config.anyScope && !config.session) {
      // A route registered without a scope or `public: true` is closed, not open.
      request.log.error({ url: request.routeOptions.url }, 'route has no scope');
      return sendError(request, reply, 403, 'INSUFFICIENT_SCOPE', 'This route is not available to API keys');
    }
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (request.headers.authorization === undefined && cookie) return authenticateSession(request, reply, cookie);
    if (config.session) {
      return sendError(request, reply, 401, 'UNAUTHORIZED', 'This route is for signed-in members: sign in (POST /auth/sign-in) and send the mc_session cookie');
    }

    const token = bearerToken(request.headers.authorization);
    if (!token) {
      return sendError(request, reply, 401, 'UNAUTHORIZED', 'Missing or malformed Authorization header: expected "Bearer mc_live_…"');
    }
    const principal = await deps.apiKeys.verify(token);
    if (!principal) return sendError(request, reply, 401, 'UNAUTHORIZED', 'Invalid or revoked API key');

    const tenantId = tenantHeader(request);
    if (!tenantId) {
      return sendError(request, reply, 400, 'MISSING_TENANT', 'The X-Tenant-Id header is required');
    }
    if (tenantId !== principal.tenantId) {
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

  async function authenticateSession(request: FastifyRequest, reply: FastifyReply, cookie: string) {
    const config = request.routeOptions.config;
    const session = await deps.sessions.authenticate(cookie);
    if (!session) {
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return sendError(request, reply, 401, 'UNAUTHORIZED', 'Invalid, expired or revoked session: sign in again');
    }
    if (isStateChanging(request.method)) {
      if (!sameOrigin(request, deps.publicUrl)) {
        return sendError(request, reply, 403, 'CSRF_FAILED', 'This request comes from another site (Origin does not match PUBLIC_URL)');
      }
      if (!csrfTokenMatches(request, session.csrfToken)) {
        return sendError(request, reply, 403, 'CSRF_FAILED', 'Missing or wrong X-CSRF-Token header (GET /me gives the token)');
      }
    }
    request.account = session;
    if (config.session) return;

    const tenantId = tenantHeader(request) ?? session.tenantId;
    if (!tenantId) {
      return sendError(request, reply, 400, 'MISSING_TENANT', 'No current tenant: send X-Tenant-Id or choose one with POST /me/tenant');
    }
    const role = await deps.sessions.roleIn(session.userId, tenantId);
    if (!role) return sendError(request, reply, 403, 'TENANT_MISMATCH', 'You are not a member of this tenant');
    const scopes = scopesOf(role);
    const scope = config.scope;
    if (scope && !scopes.has(scope)) {
      return sendError(request, reply, 403, 'INSUFFICIENT_SCOPE', `Your role (${role}) lacks the ${scope} scope`, undefined, {
        requiredScope: scope,
      });
    }
    request.principal = {
      keyId: `user:${session.userId}`,
      tenantId,
      scopes,
      mode: 'live',
      member: { userId: session.userId, sessionId: session.sessionId, role },
    };
  }
}

function tenantHeader(request: FastifyRequest): string | undefined {
  const header = request.headers['x-tenant-id'];
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  return value ? value : undefined;
}
