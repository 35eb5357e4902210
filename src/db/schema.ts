import type { Generated } from 'kysely';
import type { CampaignStatus, KeyMode, MemberRole, MessageStatus, MessageStream, SkipReason, SuppressionReason, VersionStatus, WebhookDeliveryStatus } from './enums.js';

/**
 * Row types as both engines return them: timestamps are ISO 8601 strings,
 * booleans are 0/1 integers, JSON documents are text.
 */
export interface TenantsTable {
  id: string;
  name: string;
  monthly_quota: number;
  fallback_locale: string | null;
  created_at: string;
  updated_at: string;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  scopes: string;
  mode: KeyMode;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  created_at: string;
  updated_at: string;
}

export interface MembershipsTable {
  tenant_id: string;
  user_id: string;
  role: MemberRole;
  created_at: string;
  updated_at: string;
}

export interface SessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  tenant_id: string | null;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  revoked_at: string | null;
}

export interface InvitationsTable {
  id: string;
  token_hash: string;
  tenant_id: string;
  email: string;
  role: MemberRole;
  invited_by: string | null;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
}

export interface SetupTokensTable {
  token_hash: string;
  created_at: string;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface CampaignsTable {
  id: string;
  tenant_id: string;
  name: string;
  template_version_id: string | null;
  subject: string | null;
  audience_filter: string | null;
  project_id: string | null;
  timezone: string | null;
  status: CampaignStatus;
  scheduled_at: string | null;
  created_at: string;
  updated_at: string;
  cancelled_at: string | null;
  started_at: string | null;
  completed_at: string | null;
  /** Why a PAUSED campaign was paused (manual, or the circuit breaker's rule); null otherwise. */
  paused_reason: string | null;
  /** The circuit breaker's counts when the campaign was last resumed (JSON BreakerCounts); it judges what was sent since. */
  breaker_baseline: string | null;
  fanout_completed_at: string | null;
  fanout_lease_until: string | null;
  send_mode: KeyMode | null;
  /** Contacts the audience matched at fan-out (queued + skipped for quota). */
  total_count: Generated<number>;
  /** Messages the fan-out created. */
  queued_count: Generated<number>;
  sent_count: Generated<number>;
  failed_count: Generated<number>;
  cancelled_count: Generated<number>;
  skipped_quota: Generated<number>;
  /** Skipped at send time because the address was suppressed meanwhile. */
  skipped_suppressed: Generated<number>;
  /** Skipped at send time because the contact had opted out meanwhile. */
  skipped_opted_out: Generated<number>;
  /** Skipped at send time because the contact had been erased meanwhile. */
  skipped_erased: Generated<number>;
  /** Open and click tracking, switched on per campaign (0/1). */
  track_opens: Generated<number>;
  track_clicks: Generated<number>;
  /** The last test send (`POST /campaigns/{id}/test`) that delivered a copy. */
  last_test_send_at: string | null;
}

export interface MessagesTable {
  id: Generated<number>;
  tenant_id: string;
  /** The queue's two streams (docs/SENDING.md): the transactional one is claimed first by a lane of its own. */
  stream: Generated<MessageStream>;
  /** Null for a transactional message (its content is in transactional_emails). */
  campaign_id: string | null;
  contact_id: string | null;
  email: string | null;
  locale: string | null;
  template_version_id: string | null;
  status: MessageStatus;
  attempts: Generated<number>;
  next_attempt_at: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  provider_message_id: string | null;
  provider_response: string | null;
  last_error: string | null;
  skip_reason: SkipReason | null;
  sent_at: string | null;
  created_at: string;
  updated_at: string;
}

/** A transactional email beside its queue row (messages.stream = 'transactional'). */
export interface TransactionalEmailsTable {
  id: string;
  tenant_id: string;
  message_id: number;
  to_email: string | null;
  contact_id: string | null;
  from_email: string;
  from_name: string | null;
  reply_to: string | null;
  project_id: string | null;
  subject: string;
  html_body: string | null;
  text_body: string | null;
  template_version_id: string | null;
  locale: string | null;
  unsubscribe_url: string | null;
  tags: string;
  metadata: string | null;
  track_opens: Generated<number>;
  track_clicks: Generated<number>;
  bypass_unsubscribe: Generated<number>;
  send_mode: KeyMode;
  scheduled_at: string | null;
  idempotency_key: string | null;
  request_fingerprint: string | null;
  created_at: string;
}

export interface UsageTable {
  tenant_id: string;
  month: string;
  used: Generated<number>;
}

export interface TestSendCountsTable {
  tenant_id: string;
  /** UTC hour, `YYYY-MM-DDTHH`. */
  hour: string;
  sent: Generated<number>;
}

export interface TemplatesTable {
  id: string;
  tenant_id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface TemplateVersionsTable {
  id: string;
  tenant_id: string;
  template_id: string;
  status: VersionStatus;
  subject: string;
  html_body: string;
  text_body: string | null;
  locale: string | null;
  locale_group_id: string | null;
  /** JSON text written; SQLite reads back text, PostgreSQL (jsonb) the parsed value. */
  variables: import('kysely').ColumnType<unknown, string | null, string | null>;
  published_at: string | null;
  /** Set at the first publish and never cleared: the version is frozen (migration 0011). */
  first_published_at: string | null;
  /** 1 when the text part was derived from the HTML at publish. */
  text_derived: import('kysely').ColumnType<number, number | undefined, number>;
  created_at: string;
  updated_at: string;
}

export interface ProjectsTable {
  id: string;
  tenant_id: string;
  name: string;
  smtp_host: string;
  smtp_port: number;
  smtp_secure: number;
  smtp_user: string | null;
  /** SecretBox-sealed, bound to `project:<id>`; never leaves the server. */
  smtp_pass_encrypted: string | null;
  from_email: string;
  from_name: string | null;
  reply_to: string | null;
  rate_limit_per_second: number | null;
  /** SMTP connections each worker process opens to this server; null: SMTP_MAX_CONNECTIONS. */
  max_connections: number | null;
  created_at: string;
  updated_at: string;
  /** The last SMTP verify: when, and 1 if it succeeded (the pre-send check). */
  last_verify_at: string | null;
  last_verify_ok: number | null;
  /** When the project's first email was delivered (SENT). */
  first_delivered_at: string | null;
}

export interface ContactsTable {
  id: string;
  tenant_id: string;
  email: string;
  external_id: string | null;
  locale: string | null;
  opt_in: number;
  /** JSON object written as text; SQLite reads back text, PostgreSQL (jsonb) the parsed object. */
  attributes: import('kysely').ColumnType<unknown, string | undefined, string>;
  consent_version: string | null;
  source: string | null;
  project_id: string | null;
  created_at: string;
  updated_at: string;
}

/** Soft bounces in a row of one address (SOFT_BOUNCE_LIMIT); only addresses in a run have a row. */
export interface SoftBounceRunsTable {
  tenant_id: string;
  email: string;
  bounces: number;
  last_bounce_at: string;
}

/** One row per message and report kind (`bounce`, `delayed`, `complaint`): a duplicate report is counted once. */
export interface InboundReportsTable {
  tenant_id: string;
  message_id: number;
  kind: string;
  received_at: string;
}

/** Mail to a bounce address that could not be attributed or acted on, kept with its first 64 KiB. */
export interface BouncesUnmatchedTable {
  id: string;
  tenant_id: string | null;
  received_at: string;
  remote_address: string | null;
  mail_from: string | null;
  rcpt_to: string | null;
  reason: string;
  /** Bytes received. */
  size: number;
  /** The first 64 KiB, as Latin-1 text without NUL bytes. */
  raw: string;
}

export interface SuppressionsTable {
  tenant_id: string;
  email: string;
  reason: SuppressionReason;
  created_at: string;
}

export interface RateLimitHitsTable {
  key: string;
  window_start: number;
  count: number;
}

/** A project's rate limit across worker processes (delivery/send-rate.repository.ts, the rule in delivery/rate-limiter.ts). */
export interface SendRateLimitsTable {
  project_id: string;
  tenant_id: string;
  /** When the next send is due at the limit's pace (GCRA's theoretical arrival time): microseconds since the epoch, the database's clock. */
  tat_us: number;
  /** What the last upsert granted (its caller's slice). */
  last_grant: number;
}

export interface IdempotencyKeysTable {
  tenant_id: string;
  key: string;
  fingerprint: string;
  status: 'pending' | 'done';
  status_code: number | null;
  response: string | null;
  created_at: string;
  updated_at: string;
}

/** The event log: append-only per tenant, written in the transaction of the change it records. */
export interface EventsTable {
  id: string;
  tenant_id: string;
  type: string;
  campaign_id: string | null;
  contact_id: string | null;
  message_id: number | null;
  /** JSON object as text. */
  data: string;
  created_at: string;
}

export interface SendingDomainsTable {
  id: string;
  tenant_id: string;
  /** ASCII (IDNs as punycode), lower case. */
  name: string;
  /** PENDING | VERIFIED | FAILED (DOMAIN_STATUSES). */
  status: string;
  selector: string;
  /** base64 SubjectPublicKeyInfo (DER): the `p=` of the DKIM record. */
  dkim_public_key: string;
  dkim_private_key_encrypted: string;
  next_selector: string | null;
  next_dkim_public_key: string | null;
  next_dkim_private_key_encrypted: string | null;
  /** JSON: the last verify's checks. */
  checks: string | null;
  verified_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookEndpointsTable {
  id: string;
  tenant_id: string;
  url: string;
  /** JSON array of event types, as text. */
  events: string;
  secret_encrypted: string;
  enabled: Generated<number>;
  disabled_reason: string | null;
  failing_since: string | null;
  lease_owner: string | null;
  lease_until: string | null;
  last_claimed_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  contact_id: string | null;
  payload: string;
  status: WebhookDeliveryStatus;
  attempt: Generated<number>;
  next_attempt_at: string | null;
  status_code: number | null;
  response_body: string | null;
  last_error: string | null;
  delivered_at: string | null;
  created_at: string;
  updated_at: string;
}

/** Per-campaign counters in UTC-minute buckets per locale, added to as events are written. */
export interface CampaignStatsTable {
  tenant_id: string;
  campaign_id: string;
  bucket: string;
  locale: string;
  sent: Generated<number>;
  failed: Generated<number>;
  bounced_hard: Generated<number>;
  bounced_soft: Generated<number>;
  /** Of the bounces, those that came back after the message was sent (already counted in `sent`). */
  bounced_late: Generated<number>;
  complained: Generated<number>;
  unsubscribed: Generated<number>;
  opened_unique: Generated<number>;
  opened_total: Generated<number>;
  opened_machine: Generated<number>;
  clicked_unique: Generated<number>;
  clicked_total: Generated<number>;
}

export interface CampaignLinkStatsTable {
  tenant_id: string;
  campaign_id: string;
  url_hash: string;
  url: string;
  clicks: Generated<number>;
  unique_clicks: Generated<number>;
}

export interface TrackingFirstsTable {
  message_id: number;
  kind: 'open' | 'click' | 'link';
  key: string;
  created_at: string;
}

export interface BounceProvidersTable {
  id: string;
  tenant_id: string;
  provider: string;
  /** Postmark: the basic-auth user name. */
  username: string | null;
  /** Postmark: SHA-256 (hex) of the generated basic-auth password. */
  password_hash: string | null;
  /** Mailgun: the webhook signing key, SecretBox-sealed, bound to `bounce-provider:<id>`. */
  signing_key_encrypted: string | null;
  created_at: string;
  last_received_at: string | null;
}

export interface BounceProviderTokensTable {
  integration_id: string;
  token: string;
  seen_at: string;
}

export interface DB {
  bounce_providers: BounceProvidersTable;
  bounce_provider_tokens: BounceProviderTokensTable;
  sending_domains: SendingDomainsTable;
  events: EventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  campaign_stats: CampaignStatsTable;
  campaign_link_stats: CampaignLinkStatsTable;
  tracking_firsts: TrackingFirstsTable;
  rate_limit_hits: RateLimitHitsTable;
  send_rate_limits: SendRateLimitsTable;
  idempotency_keys: IdempotencyKeysTable;
  messages: MessagesTable;
  transactional_emails: TransactionalEmailsTable;
  usage: UsageTable;
  test_send_counts: TestSendCountsTable;
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  users: UsersTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  invitations: InvitationsTable;
  setup_tokens: SetupTokensTable;
  settings: SettingsTable;
  campaigns: CampaignsTable;
  contacts: ContactsTable;
  suppressions: SuppressionsTable;
  soft_bounce_runs: SoftBounceRunsTable;
  inbound_reports: InboundReportsTable;
  bounces_unmatched: BouncesUnmatchedTable;
  projects: ProjectsTable;
  templates: TemplatesTable;
  template_versions: TemplateVersionsTable;
}
