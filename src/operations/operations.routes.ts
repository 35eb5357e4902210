import { createHash, timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { bearerToken } from '../auth/api-key.js';
import { sendError } from '../http/errors.js';
import type { App } from '../http/types.js';
import { ErrorResponse } from '../shared/schema.js';
import type { Metrics } from './metrics.js';
import type { Readiness } from './readiness.js';

const tags = ['operations'];

export interface OperationsDeps {
  metrics: Metrics;
  readiness: Readiness;
  /** When set, `GET /metrics` wants `Authorization: Bearer <token>` (METRICS_TOKEN). */
  metricsToken?: string | undefined;
}

/**
 * Liveness, readiness and metrics: public (no API key, no tenant), for load
 * balancers, orchestrators and Prometheus. Served by API processes and, on
 * METRICS_PORT, by worker processes.
 */
export function operationsRoutes(app: App, { metrics, readiness, metricsToken }: OperationsDeps): void {
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'getHealth',
        summary: 'Liveness',
        description: 'The process is up and serving HTTP. It does not touch the database: use `/readyz` for that.',
        response: { 200: Type.Object({ status: Type.Literal('ok') }, { description: 'The process is alive' }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'getReadiness',
        summary: 'Readiness',
        description:
          'The database answers and its schema is current: route traffic here. 503 (`DATABASE_UNAVAILABLE` or `SCHEMA_NOT_CURRENT`) otherwise.',
        response: {
          200: Type.Object({ status: Type.Literal('ready') }, { description: 'Ready to serve' }),
          503: { ...ErrorResponse, description: 'Not ready: the database does not answer, or its schema is not current' },
        },
      },
    },
    async (request, reply) => {
      const result = await readiness.check();
      if (result.ready) return { status: 'ready' as const };
      if (result.error) request.log.warn({ err: result.error }, 'readiness check failed');
      return sendError(request, reply, 503, result.code, result.message);
    },
  );

  const expected = metricsToken ? digest(metricsToken) : undefined;
  app.get(
    '/metrics',
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        description:
          'Prometheus text exposition format: HTTP request durations by route, delivery outcomes, SMTP send latency, ' +
          'fan-out durations and queue depth. When the server has METRICS_TOKEN set, send it as `Authorization: Bearer <token>`.',
        docsResponses: {
          200: {
            description: 'The metrics of this process',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          401: { ...ErrorResponse, description: 'METRICS_TOKEN is set and the request does not carry it' },
        },
      },
    },
    async (request, reply) => {
      if (expected) {
        const token = bearerToken(request.headers.authorization);
        if (!token || !timingSafeEqual(digest(token), expected)) {
          return sendError(request, reply, 401, 'UNAUTHORIZED', 'Missing or wrong metrics token');
        }
      }
      const { contentType, body } = await metrics.exposition();
      return reply.type(contentType).header('Cache-Control', 'no-store').send(body);
    },
  );
}

const digest = (value: string) => createHash('sha256').update(value).digest();

