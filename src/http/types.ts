import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Principal } from '../auth/api-key.service.js';
import type { Scope } from '../auth/scopes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one must say `public: true`. */
    scope?: Scope;
    public?: boolean;
    /** Any valid key of the tenant may call it, whatever its scopes (e.g. GET /usage). */
    anyScope?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** The authenticated tenant of a request; only called on routes that require a scope. */
export function tenantOf(request: { principal: Principal | undefined }): string {
  if (!request.principal) throw new Error('tenantOf called on an unauthenticated route');
  return request.principal.tenantId;
}
