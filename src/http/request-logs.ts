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
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
    const ms = Math.round(reply.elapsedTime * 10) / 10;
    reply.log[this.summaryLevel](
      { method: request.method, url: request.url, statusCode: reply.statusCode, ms },
      `${request.method} ${request.url} ${reply.statusCode} ${ms}ms`,
    );
  }
}
