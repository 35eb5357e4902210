import Fastify, { type FastifyBaseLogger } from 'fastify';
import secureJson from 'secure-json-parse';
import { authenticate } from '../auth/authenticate.js';
import type { Container } from '../container.js';
import { registerErrorHandlers } from './errors.js';
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
      routes.push({ method, url: route.url, scope: route.config?.scope, public: route.config?.public === true });
    }
  });
  app.decorate('routeTable', routes);

  app.addHook('onRequest', authenticate({ apiKeys: container.apiKeys, lastUsed: container.lastUsed }));
  registerRoutes(app, container);
  await app.ready();
  return app;
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
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (error) {
      const err = error as Error & { statusCode?: number; code?: string };
      err.statusCode = 400;
      err.code = 'FST_ERR_CTP_INVALID_JSON_BODY';
      err.message = `Body is not valid JSON: ${err.message}`;
      done(err, undefined);
    }
  });
}
