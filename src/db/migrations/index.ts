import type { Migration } from 'kysely';
import type { MigrationDialect } from './helpers.js';
import { foundation } from './0001_foundation.js';
import { contacts } from './0002_contacts.js';
import { projects } from './0003_projects.js';
import { templates } from './0004_templates.js';
import { sending } from './0005_sending.js';
import { apiSafety } from './0006_api_safety.js';
import { messageContactIndex } from './0007_message_contact_index.js';
import { campaignScopedMessageIndexes } from './0008_campaign_scoped_message_indexes.js';
import { messageCampaignTenantKey } from './0009_message_campaign_tenant_key.js';
import { skipCounters } from './0010_skip_counters.js';
import { frozenTemplateVersions } from './0011_frozen_template_versions.js';
import { testSendCounts } from './0012_test_send_counts.js';
import { eventsWebhooksTracking } from './0013_events_webhooks_tracking.js';
import { webhookPendingOrderIndex } from './0014_webhook_pending_order_index.js';
import { softBounceRuns } from './0015_soft_bounce_runs.js';
import { sendingDomains } from './0016_sending_domains.js';
import { campaignPaused } from './0017_campaign_paused.js';
import { inboundReports } from './0018_inbound_reports.js';
import { preflight } from './0019_preflight.js';
import { transactionalEmails } from './0020_transactional_emails.js';
import { bounceProviders } from './0021_bounce_providers.js';
import { accounts } from './0022_accounts.js';
import { contactSearch } from './0023_contact_search.js';
import { smtpConnections } from './0024_smtp_connections.js';
import { reportReadIndexes } from './0025_report_read_indexes.js';

/** Every migration in order; names are timestamps so they sort as they were written. */
export function migrationsFor(dialect: MigrationDialect): Record<string, Migration> {
  return {
    '20261126_0001_foundation': foundation(dialect),
    '20261126_0002_contacts': contacts(dialect),
    '20261126_0003_projects': projects(dialect),
    '20261126_0004_templates': templates(dialect),
    '20261126_0005_sending': sending(dialect),
    '20261126_0006_api_safety': apiSafety(dialect),
    '20261126_0007_message_contact_index': messageContactIndex(dialect),
    '20261126_0008_campaign_scoped_message_indexes': campaignScopedMessageIndexes(dialect),
    '20261126_0009_message_campaign_tenant_key': messageCampaignTenantKey(dialect),
    '20261130_0010_skip_counters': skipCounters(dialect),
    '20261130_0011_frozen_template_versions': frozenTemplateVersions(dialect),
    '20261130_0012_test_send_counts': testSendCounts(dialect),
    '20261130_0013_events_webhooks_tracking': eventsWebhooksTracking(dialect),
    '20261130_0014_webhook_pending_order_index': webhookPendingOrderIndex(dialect),
    '20261130_0015_soft_bounce_runs': softBounceRuns(dialect),
    '20261130_0016_sending_domains': sendingDomains(dialect),
    '20261130_0017_campaign_paused': campaignPaused(dialect),
    '20261130_0018_inbound_reports': inboundReports(dialect),
    '20261130_0019_preflight': preflight(dialect),
    '20261130_0020_transactional_emails': transactionalEmails(dialect),
    '20261130_0021_bounce_providers': bounceProviders(dialect),
    '20261201_0022_accounts': accounts(dialect),
    '20261201_0023_contact_search': contactSearch(dialect),
    '20261201_0024_smtp_connections': smtpConnections(dialect),
    '20261201_0025_report_read_indexes': reportReadIndexes(dialect),
  };
}
