import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * One line per request at `info` — `GET /campaigns 200 3.1ms`, with method,
 * url, statusCode and ms as fields — and Fastify's own two lines ("incoming
 * request", "request completed") at `debug`. Errors stay at `error`.
 * `summaryLevel: 'debug'` for the worker's probe/metrics port.
 */
export class RequestLogs extends LogController {
  constructor(private readonly summaryLevel: 'info' | 'debug' = 'info') {
    super();
  }

  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    const req = { method: request.method, url: loggedUrl(request.url), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort };
    request.log.debug({ req }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
    const ms = Math.round(reply.elapsedTime * 10) / 10;
    const url = loggedUrl(request.url);
    reply.log[this.summaryLevel]({ method: request.method, url, statusCode: reply.statusCode, ms }, `${request.method} ${url} ${reply.statusCode} ${ms}ms`);
  }
}

/** The URL as logged: a `token` query parameter (the setup and invitation links' one-time secrets) is censored. */
export function loggedUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}
