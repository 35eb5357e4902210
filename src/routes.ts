import { campaignRoutes } from './campaigns/campaign.routes.js';
import { contactRoutes } from './contacts/contact.routes.js';
import { audienceRoutes } from './audience/audience.routes.js';
import { erasureRoutes } from './erasure/erasure.routes.js';
import { eventRoutes } from './events/event.routes.js';
import type { Container } from './container.js';
import { operationsRoutes } from './operations/operations.routes.js';
import { quotaRoutes } from './quota/quota.routes.js';
import { unsubscribeRoutes } from './unsubscribe/unsubscribe.routes.js';
import { projectRoutes } from './projects/project.routes.js';
import { suppressionRoutes } from './suppressions/suppression.routes.js';
import { templateRoutes } from './templates/template.routes.js';
import { statsRoutes } from './stats/stats.routes.js';
import { trackingRoutes } from './tracking/tracking.routes.js';
import { webhookRoutes } from './webhooks/webhook.routes.js';
import { sendingDomainRoutes } from './domains/sending-domain.routes.js';
import { emailRoutes } from './emails/email.routes.js';
import { docsRoutes } from './http/openapi.js';
import { bounceProviderRoutes } from './inbound/providers/bounce-provider.routes.js';
import { accountRoutes } from './accounts/account.routes.js';
import { memberRoutes } from './accounts/member.routes.js';
import { apiKeyRoutes } from './auth/api-key.routes.js';
import type { App } from './http/types.js';

/**
 * The map of the API: every feature's routes, registered in one place. Each
 * route declares its scope in `config`; `app.routeTable` lists them all so
 * the scope and tenant-isolation tests can walk every route.
 */
export interface RouteInfo {
  method: string;
  url: string;
  /** The route's scope, `any` (any key of the tenant), or `session` (a signed-in member's own account: /me, sign-out). */
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

export function registerRoutes(app: App, c: Container, options: { metricsToken?: string | undefined } = {}): void {
  operationsRoutes(app, { metrics: c.metrics, readiness: c.readiness, metricsToken: options.metricsToken });
  docsRoutes(app);
  campaignRoutes(app, {
    campaigns: c.campaigns,
    campaignSend: c.campaignSend,
    testSend: c.testSend,
    messageLog: c.messageLog,
    localeCoverage: c.localeCoverage,
    campaignProgress: c.campaignProgress,
    preflight: c.preflight,
  });
  projectRoutes(app, { projects: c.projects });
  contactRoutes(app, { contacts: c.contacts, contactImporter: c.contactImporter, contactMessages: c.contactMessages });
  audienceRoutes(app, { audienceCount: c.audienceCount });
  erasureRoutes(app, { erasure: c.erasure });
  suppressionRoutes(app, { suppressions: c.suppressions });
  templateRoutes(app, { templates: c.templates });
  quotaRoutes(app, { quota: c.quota });
  unsubscribeRoutes(app, { unsubscribe: c.unsubscribe });
  eventRoutes(app, { events: c.events });
  trackingRoutes(app, { tracking: c.tracking });
  statsRoutes(app, { campaignStats: c.campaignStats });
  webhookRoutes(app, { webhooks: c.webhooks });
  sendingDomainRoutes(app, { domains: c.domains });
  bounceProviderRoutes(app, { bounceProviders: c.bounceProviders });
  emailRoutes(app, { emails: c.emails });
  accountRoutes(app, { accounts: c.accounts, sessions: c.sessions, publicUrl: c.transports.publicUrl });
  memberRoutes(app, { members: c.members });
  apiKeyRoutes(app, { apiKeys: c.apiKeys });
}
