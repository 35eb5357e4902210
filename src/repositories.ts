import { AudienceRepository } from './audience/audience.repository.js';
import { ApiKeyRepository } from './auth/api-key.repository.js';
import { UserRepository } from './accounts/user.repository.js';
import { MembershipRepository } from './accounts/membership.repository.js';
import { SessionRepository } from './accounts/session.repository.js';
import { InvitationRepository } from './accounts/invitation.repository.js';
import { SetupTokenRepository } from './accounts/setup-token.repository.js';
import { CampaignRepository } from './campaigns/campaign.repository.js';
import { ContactRepository } from './contacts/contact.repository.js';
import type { Database } from './db/database.js';
import { ListTotals } from './shared/list-totals.js';
import { MessageRepository } from './delivery/message.repository.js';
import { SendRateRepository } from './delivery/send-rate.repository.js';
import { ProjectRepository } from './projects/project.repository.js';
import { UsageRepository } from './quota/usage.repository.js';
import { TestSendCountRepository } from './quota/test-send-count.repository.js';
import { SuppressionRepository } from './suppressions/suppression.repository.js';
import { SoftBounceRepository } from './suppressions/soft-bounce.repository.js';
import { InboundReportRepository } from './inbound/inbound-report.repository.js';
import { BounceProviderRepository } from './inbound/providers/bounce-provider.repository.js';
import { TemplateRepository } from './templates/template.repository.js';
import { TenantRepository } from './tenants/tenant.repository.js';
import { EventRepository } from './events/event.repository.js';
import { CampaignStatsRepository } from './stats/campaign-stats.repository.js';
import { TrackingFirstRepository } from './tracking/tracking-first.repository.js';
import { WebhookDeliveryRepository } from './webhooks/webhook-delivery.repository.js';
import { WebhookEndpointRepository } from './webhooks/webhook-endpoint.repository.js';
import { SendingDomainRepository } from './domains/sending-domain.repository.js';
import { TransactionalEmailRepository } from './emails/transactional-email.repository.js';

/**
 * Every table owner (docs/ARCHITECTURE.md), on one database; the container and the middle test tier both build them here.
 * `listTotalCacheMs`: how long the contact, campaign and recipients lists keep a page's total (shared/list-totals.ts); 0 (the default here) counts every full page.
 */
export function createRepositories(database: Database, options: { listTotalCacheMs?: number } = {}) {
  const { db, dialect } = database;
  const listTotals = () => new ListTotals(options.listTotalCacheMs ?? 0);
  return {
    tenants: new TenantRepository(db),
    apiKeys: new ApiKeyRepository(db),
    users: new UserRepository(db),
    memberships: new MembershipRepository(db, dialect),
    sessions: new SessionRepository(db),
    invitations: new InvitationRepository(db),
    setupTokens: new SetupTokenRepository(db),
    projects: new ProjectRepository(db),
    contacts: new ContactRepository(db, dialect, listTotals()),
    suppressions: new SuppressionRepository(db, dialect),
    softBounces: new SoftBounceRepository(db),
    inboundReports: new InboundReportRepository(db),
    bounceProviders: new BounceProviderRepository(db),
    templates: new TemplateRepository(db, dialect),
    campaigns: new CampaignRepository(db, listTotals()),
    messages: new MessageRepository(db, dialect, listTotals()),
    sendRates: new SendRateRepository(db, dialect),
    transactionalEmails: new TransactionalEmailRepository(db, dialect),
    usage: new UsageRepository(db, dialect),
    testSendCounts: new TestSendCountRepository(db),
    audience: new AudienceRepository(db, dialect),
    events: new EventRepository(db, dialect),
    webhookEndpoints: new WebhookEndpointRepository(db, dialect),
    webhookDeliveries: new WebhookDeliveryRepository(db),
    campaignStats: new CampaignStatsRepository(db),
    trackingFirsts: new TrackingFirstRepository(db),
    sendingDomains: new SendingDomainRepository(db),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
