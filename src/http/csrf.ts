import type { FastifyRequest } from 'fastify';
import { constantTimeEqual } from '../shared/constant-time.js';

/**
 * CSRF defences for cookie-authenticated requests (docs/ACCOUNTS.md): a
 * state-changing request (anything but GET, HEAD, OPTIONS) must carry
 * `X-CSRF-Token` equal to its session's token — a header another site's
 * form or image cannot set — and, when the browser sends an `Origin` (or
 * else a `Referer`), it must be PUBLIC_URL's origin. API-key requests carry
 * no ambient credential and are exempt.
 */
export const SESSION_COOKIE = 'mc_session';
export const CSRF_HEADER = 'x-csrf-token';

export const isStateChanging = (method: string) => !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** False when Origin (or, without it, Referer) names another origin than `publicUrl`'s; true when neither is sent. */
export function sameOrigin(request: FastifyRequest, publicUrl: string): boolean {
  const expected = new URL(publicUrl).origin;
  const origin = header(request, 'origin');
  if (origin !== undefined) return origin === expected;
  const referer = header(request, 'referer');
  if (referer === undefined) return true;
  try {
    return new URL(referer).origin === expected;
  } catch {
    return false;
  }
}

/** The X-CSRF-Token header equals the session's token (constant time). */
export function csrfTokenMatches(request: FastifyRequest, csrfToken: string): boolean {
  const sent = header(request, CSRF_HEADER);
  return sent !== undefined && constantTimeEqual(sent, csrfToken);
}
