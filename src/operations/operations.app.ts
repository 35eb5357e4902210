import Fastify, { type FastifyBaseLogger } from 'fastify';
import { RequestLogs } from '../http/request-logs.js';
import { registerErrorHandlers } from '../http/errors.js';
import { REQUEST_ID_HEADER, requestIdOf } from '../http/request-id.js';
import type { App } from '../http/types.js';
import type { Metrics } from './metrics.js';
import { operationsRoutes } from './operations.routes.js';
import type { Readiness } from './readiness.js';

/**
 * The HTTP face of a `worker` process (METRICS_PORT): /healthz, /readyz and
 * /metrics only, so that Prometheus can scrape the delivery counters and
 * latencies, which live in the worker processes. No API, no API keys.
 */
export async function buildOperationsApp(
  container: { metrics: Metrics; readiness: Readiness },
  options: { logger?: FastifyBaseLogger; metricsToken?: string | undefined } = {},
): Promise<App> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    requestIdHeader: false,
    genReqId: requestIdOf,
    // Probes and scrapes every few seconds: their request lines only at debug.
    logController: new RequestLogs('debug'),
  }).withTypeProvider() as unknown as App;
  registerErrorHandlers(app);
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  operationsRoutes(app, { metrics: container.metrics, readiness: container.readiness, metricsToken: options.metricsToken });
  await app.ready();
  return app;
}
