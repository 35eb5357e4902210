import { campaignRoutes } from '../campaigns/campaign.routes.js';
import { contactRoutes } from '../contacts/contact.routes.js';
import type { Container } from '../container.js';
import { operationsRoutes } from '../operations/operations.routes.js';
import { quotaRoutes } from '../quota/quota.routes.js';
import { unsubscribeRoutes } from '../unsubscribe/unsubscribe.routes.js';
import { projectRoutes } from '../projects/project.routes.js';
import { suppressionRoutes } from '../suppressions/suppression.routes.js';
import { templateRoutes } from '../templates/template.routes.js';
import { docsRoutes } from './openapi.js';
import type { App } from './types.js';

/**
 * The map of the API: every feature's routes, registered in one place. Each
 * route declares its scope in `config`; `app.routeTable` lists them all so
 * the scope and tenant-isolation tests can walk every route.
 */
export interface RouteInfo {
  method: string;
  url: string;
  scope: string | undefined;
  public: boolean;
  /** Left out of the OpenAPI document (the /docs page's assets). */
  hidden: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteInfo[];
  }
}

export function registerRoutes(app: App, container: Container, options: { metricsToken?: string | undefined } = {}): void {
  operationsRoutes(app, { metrics: container.metrics, readiness: container.readiness, metricsToken: options.metricsToken });
  docsRoutes(app);
  campaignRoutes(app, container);
  projectRoutes(app, container);
  contactRoutes(app, container);
  suppressionRoutes(app, container);
  templateRoutes(app, container);
  quotaRoutes(app, container);
  unsubscribeRoutes(app, container);
}
