import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import secureJson from 'secure-json-parse';
import { authenticate } from './http/authenticate.js';
import { rateLimit } from './ratelimit/rate-limit.hook.js';
import { quotaHeaders } from './quota/quota-headers.hook.js';
import type { Container } from './container.js';
import { frameworkError, registerErrorHandlers } from './http/errors.js';
import { isDocsRoute, registerOpenApi } from './http/openapi.js';
import { REQUEST_ID_HEADER, requestIdOf } from './http/request-id.js';
import { RequestLogs } from './http/request-logs.js';
import { registerRoutes, type RouteInfo } from './routes.js';
import type { App } from './http/types.js';
import { validatorCompiler } from './http/validation.js';
import { defaultWebRoot, loadWebApp } from './http/web.js';
import { validationError } from './shared/errors.js';
import { unstorableValues } from './shared/storable.js';

export const BODY_LIMIT = 1024 * 1024;

export interface AppOptions {
  logger?: FastifyBaseLogger;
  /** When set, GET /metrics wants `Authorization: Bearer <token>` (METRICS_TOKEN). */
  metricsToken?: string | undefined;
  /** The built dashboard (dist/web/); null serves none. Default: dist/web/ when it was built. */
  webRoot?: string | null;
  /** TRUST_PROXY (config.ts): whose X-Forwarded-For gives `request.ip`; unset, the socket address. */
  trustProxy?: string[] | undefined;
}

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function buildApp(container: Container, options: AppOptions = {}): Promise<App> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: BODY_LIMIT,
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
    // Tracked-link tokens carry their URL (up to 2 KiB, tracking/token.ts): the longest parameter.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 4096 },
    frameworkErrors: frameworkError,
    requestIdHeader: false,
    genReqId: requestIdOf,
    // One summary line per request at info; Fastify's own request lines at debug.
    logController: new RequestLogs(),
  }).withTypeProvider() as unknown as App;

  app.setValidatorCompiler(validatorCompiler);
  app.decorateRequest('principal', undefined);
  registerErrorHandlers(app, loadWebApp(options.webRoot === null ? undefined : (options.webRoot ?? defaultWebRoot())));
  registerJsonParser(app);

  // Before any route: the OpenAPI document is built from the routes as they are added.
  await registerOpenApi(app, { serverUrl: container.transports.publicUrl, version: VERSION });

  const routes: RouteInfo[] = [];
  app.addHook('onRoute', (route) => {
    // The API reference page and its assets are public, and hidden from the document.
    if (isDocsRoute(route.url)) {
      route.config = { ...route.config, public: true };
      route.schema = { ...route.schema, hide: true };
    }
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({
        method,
        url: route.url,
        scope: route.config?.scope ?? (route.config?.anyScope ? 'any' : route.config?.session ? 'session' : undefined),
        public: route.config?.public === true,
        hidden: route.schema?.hide === true,
      });
    }
  });
  app.decorate('routeTable', routes);

  // First, so that every answer (401s included) carries the id its log lines carry.
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    container.metrics.httpRequestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  // Parses the mc_session cookie (an onRequest hook of its own, registered before authentication's).
  await app.register(cookie);
  app.decorateRequest('account', undefined);
  app.addHook(
    'onRequest',
    authenticate({ apiKeys: container.apiKeys, lastUsed: container.lastUsed, sessions: container.sessions, publicUrl: container.transports.publicUrl }),
  );
  app.addHook(
    'onRequest',
    rateLimit(container.rateLimitStore, container.rateLimit, (err) => app.log.error({ err }, 'rate-limit store failed; request allowed')),
  );
  app.decorateRequest('idempotencyKey', undefined);
  app.addHook('preHandler', container.idempotency.preHandler);
  app.addHook('onSend', container.idempotency.onSend);
  app.addHook('onSend', quotaHeaders(container.quota));
  registerRoutes(app, container, { metricsToken: options.metricsToken });
  await app.ready();
  return app;
}

/**
 * JSON bodies: an empty body reads as "no body" (curl -X POST with a JSON
 * content type and nothing else is common for action endpoints), and
 * `__proto__` / `constructor.prototype` keys are refused as Fastify does by default.
 * Bytes that are not UTF-8 are refused rather than decoded into U+FFFD. Values
 * no database can store faithfully — NUL, unpaired surrogates, numbers out of
 * range such as `1e400` (which JSON.parse reads as Infinity, before any schema
 * sees it) — are refused at the door, in keys as in values, with one detail
 * per field (shared/storable.ts).
 */
function registerJsonParser(app: App): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    // Read as a string, invalid bytes would silently become U+FFFD.
    if (!isUtf8(bytes)) return done(validationError('Invalid request body', [{ field: '(body)', message: 'must be valid UTF-8' }]), undefined);
    const text = bytes.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      const value: unknown = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
      const unstorable = unstorableValues(value);
      if (unstorable.length > 0) return done(validationError('Invalid request body', unstorable), undefined);
      done(null, value);
    } catch (error) {
      const err = error as Error & { statusCode?: number; code?: string };
      err.statusCode = 400;
      err.code = 'FST_ERR_CTP_INVALID_JSON_BODY';
      err.message = `Body is not valid JSON: ${err.message}`;
      done(err, undefined);
    }
  });
}
