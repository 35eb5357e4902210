import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type {} from '@fastify/cookie';
import type { Principal } from '../auth/api-key.service.js';
import type { RequestSession } from './authenticate.js';
import { notFound } from '../shared/errors.js';
import type { Scope } from '../auth/scopes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one must say `public: true`. */
    scope?: Scope;
    public?: boolean;
    /** Any valid key of the tenant may call it, whatever its scopes (e.g. GET /usage). */
    anyScope?: boolean;
    /** For a signed-in member about their own account (GET /me, sign-out): the mc_session cookie, no tenant, no scope; API keys are refused. */
    session?: boolean;
    /** A public POST that signs someone in (sign-in, setup, invitation): a foreign Origin is refused (login CSRF). */
    checkOrigin?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
    /** The cookie session of a signed-in member, when the request came with one. */
    account: RequestSession | undefined;
  }
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** The signed-in member's session; only called on routes that need one (`session: true`). */
export function accountOf(request: { account: RequestSession | undefined }): RequestSession {
  if (!request.account) throw new Error('accountOf called without a session');
  return request.account;
}

/**
 * For `/tenants/{id}/…` routes: `{id}` must be the tenant the request is
 * authenticated for; another tenant's answers 404, like one that does not exist.
 */
export function tenantInPath(request: { principal: Principal | undefined }, id: string): string {
  const tenantId = tenantOf(request);
  if (id !== tenantId) throw notFound('Tenant');
  return tenantId;
}

/** The authenticated tenant of a request; only called on routes that require a scope. */
export function tenantOf(request: { principal: Principal | undefined }): string {
  if (!request.principal) throw new Error('tenantOf called on an unauthenticated route');
  return request.principal.tenantId;
}
