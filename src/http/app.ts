import Fastify, { type FastifyBaseLogger } from 'fastify';
import secureJson from 'secure-json-parse';
import { authenticate } from '../auth/authenticate.js';
import { rateLimit } from '../ratelimit/rate-limit.hook.js';
import type { Container } from '../container.js';
import { frameworkError, registerErrorHandlers } from './errors.js';
import { registerRoutes, type RouteInfo } from './routes.js';
import type { App } from './types.js';
import { validatorCompiler } from './validation.js';

export const BODY_LIMIT = 1024 * 1024;

export interface AppOptions {
  logger?: FastifyBaseLogger;
}

export async function buildApp(container: Container, options: AppOptions = {}): Promise<App> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    frameworkErrors: frameworkError,
  }).withTypeProvider() as unknown as App;

  app.setValidatorCompiler(validatorCompiler);
  app.decorateRequest('principal', undefined);
  registerErrorHandlers(app);
  registerJsonParser(app);

  const routes: RouteInfo[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({
        method,
        url: route.url,
        scope: route.config?.scope ?? (route.config?.anyScope ? 'any' : undefined),
        public: route.config?.public === true,
      });
    }
  });
  app.decorate('routeTable', routes);

  app.addHook('onRequest', authenticate({ apiKeys: container.apiKeys, lastUsed: container.lastUsed }));
  app.addHook(
    'onRequest',
    rateLimit(container.rateLimitStore, container.rateLimit, (err) => app.log.error({ err }, 'rate-limit store failed; request allowed')),
  );
  app.decorateRequest('idempotencyKey', undefined);
  app.addHook('preHandler', container.idempotency.preHandler);
  app.addHook('onSend', container.idempotency.onSend);
  registerRoutes(app, container);
  await app.ready();
  return app;
}

/**
 * Text no database can store faithfully (NUL, unpaired UTF-16 surrogates) is
 * refused at the door, in keys as in values, rather than failing at insert.
 */
class UnstorableTextError extends Error {
  readonly statusCode = 400;
  readonly code = 'MC_UNSTORABLE_TEXT';
}

const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function rejectUnstorableText(key: string, value: unknown): unknown {
  for (const text of [key, value]) {
    if (typeof text === 'string' && UNSTORABLE.test(text)) {
      throw new UnstorableTextError('Body contains a NUL character or an unpaired surrogate, which cannot be stored');
    }
  }
  return value;
}

/**
 * JSON bodies: an empty body reads as "no body" (curl -X POST with a JSON
 * content type and nothing else is common for action endpoints), and
 * `__proto__` / `constructor.prototype` keys are refused as Fastify does by default.
 */
function registerJsonParser(app: App): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, secureJson.parse(text, rejectUnstorableText, { protoAction: 'error', constructorAction: 'error' }));
    } catch (error) {
      if (error instanceof UnstorableTextError) return done(error, undefined);
      const err = error as Error & { statusCode?: number; code?: string };
      err.statusCode = 400;
      err.code = 'FST_ERR_CTP_INVALID_JSON_BODY';
      err.message = `Body is not valid JSON: ${err.message}`;
      done(err, undefined);
    }
  });
}
