import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../http/errors.js';
import type { RateLimitStore } from './stores.js';
import { verdict, windowOf } from './window.js';

export interface RateLimitSettings {
  max: number;
  windowMs: number;
}

/**
 * Runs after authentication: counts the request against its API key and
 * answers 429 RATE_LIMITED (with Retry-After) past the limit. Every
 * authenticated answer carries X-RateLimit-Limit, -Remaining and -Reset
 * (unix seconds). If the store fails the request goes through: an outage of
 * the counter must not become an outage of the API.
 */
export function rateLimit(store: RateLimitStore, settings: RateLimitSettings, onError: (error: unknown) => void) {
  return async function limitRequest(request: FastifyRequest, reply: FastifyReply) {
    if (!request.principal) return;
    const now = Date.now();
    const state = windowOf(now, settings.windowMs);
    let count: number;
    try {
      count = await store.hit(request.principal.keyId, state.windowStart, settings.windowMs, settings.max);
    } catch (error) {
      onError(error);
      return;
    }
    const result = verdict(count, settings.max, now, state);
    reply.header('X-RateLimit-Limit', String(settings.max));
    reply.header('X-RateLimit-Remaining', String(result.remaining));
    reply.header('X-RateLimit-Reset', String(state.resetAt));
    if (!result.allowed) {
      reply.header('Retry-After', String(result.retryAfter));
      return sendError(
        request,
        reply,
        429,
        'RATE_LIMITED',
        `Rate limit of ${settings.max} requests per ${settings.windowMs / 1000} s exceeded for this API key; retry in ${result.retryAfter} s`,
      );
    }
  };
}
