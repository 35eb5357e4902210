import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/** What an incoming X-Request-Id may be to be kept: short, printable, no spaces (it goes into logs and headers). */
const WELL_FORMED = /^[A-Za-z0-9._:@\/+=-]{1,128}$/;

/**
 * Fastify's `genReqId`: the caller's (or the load balancer's) X-Request-Id
 * when it is well-formed, so one id follows a request across services;
 * a fresh UUID otherwise. Every log line of the request carries it as
 * `reqId`, and the answer echoes it in X-Request-Id.
 */
export function requestIdOf(request: IncomingMessage): string {
  const header = request.headers[REQUEST_ID_HEADER];
  const incoming = Array.isArray(header) ? header[0] : header;
  return incoming !== undefined && WELL_FORMED.test(incoming) ? incoming : randomUUID();
}
