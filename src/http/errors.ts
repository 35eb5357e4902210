import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorDetail } from '../shared/errors.js';
import { validationDetails } from './validation.js';
import type { WebApp } from './web.js';

/** Every error answer has this one shape, documented in the README. */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  statusCode: number,
  code: string,
  message: string,
  details?: ErrorDetail[],
  extra?: Record<string, unknown>,
) {
  return reply.status(statusCode).send({
    ...extra,
    statusCode,
    code,
    message,
    path: request.url.split('?')[0],
    timestamp: new Date().toISOString(),
    ...(details && details.length > 0 ? { details } : {}),
  });
}

const FRAMEWORK_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
};

/**
 * Errors Fastify raises before routing, which bypass the error handler: a
 * path that is not valid percent-encoding (`/campaigns/%ZZ`) or a path
 * parameter over `maxParamLength`. Passed as the `frameworkErrors` option so
 * they answer in the one documented shape too.
 */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return sendError(request, reply, status, 'BAD_REQUEST', error.message);
  request.log.error({ err: error }, 'unhandled framework error');
  return sendError(request, reply, 500, 'INTERNAL_ERROR', 'Internal server error');
}

export function registerErrorHandlers(app: FastifyInstance, web?: WebApp): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      return sendError(request, reply, error.statusCode, error.code, error.message, error.details, error.extra);
    }
    if (error.validation) {
      const details = validationDetails(error.validation as never, error.validationContext);
      const where = error.validationContext === 'body' ? 'body' : (error.validationContext ?? 'request');
      return sendError(request, reply, 400, 'VALIDATION_ERROR', `Invalid request ${where}`, details);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code =
        FRAMEWORK_CODES[error.code] ?? (error instanceof SyntaxError ? 'INVALID_JSON' : 'BAD_REQUEST');
      return sendError(request, reply, status, code, error.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(request, reply, 500, 'INTERNAL_ERROR', 'Internal server error');
  });

  // The dashboard's pages and assets (http/web.ts) are served from here, so that no API route is ever shadowed.
  app.setNotFoundHandler((request, reply) => {
    if (web?.serve(request, reply)) return reply;
    return sendError(request, reply, 404, 'ROUTE_NOT_FOUND', `Route ${request.method} ${request.url.split('?')[0]} not found`);
  });
}
