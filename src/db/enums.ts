/**
 * The vocabularies stored in status and reason columns. They live here, below
 * every feature, so the row types in `schema.ts` can name them and any
 * module may use them without importing another feature.
 */
export const CAMPAIGN_STATUSES = ['DRAFT', 'SCHEDULED', 'SENDING', 'PAUSED', 'SENT', 'CANCELLED'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
/** Campaigns in these states may still queue or send mail, so what they use (project, template) must stay. */
export const UNFINISHED_CAMPAIGN_STATUSES = ['DRAFT', 'SCHEDULED', 'SENDING', 'PAUSED'] as const satisfies readonly CampaignStatus[];

export const MESSAGE_STATUSES = ['QUEUED', 'SENDING', 'SENT', 'FAILED', 'CANCELLED', 'SKIPPED'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** The queue's streams: campaign messages, and transactional emails claimed ahead of them. */
export const MESSAGE_STREAMS = ['campaign', 'transactional'] as const;
export type MessageStream = (typeof MESSAGE_STREAMS)[number];

/** Why a queued message was not sent when its turn came (messages.skip_reason). */
export const SKIP_REASONS = ['suppressed', 'opted_out', 'contact_erased'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export const SUPPRESSION_REASONS = ['bounce', 'complaint', 'unsubscribe', 'manual'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export const VERSION_STATUSES = ['DRAFT', 'PUBLISHED'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

export const KEY_MODES = ['live', 'test'] as const;
export type KeyMode = (typeof KEY_MODES)[number];

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** A sending domain: VERIFIED signs mail; PENDING (not yet, or DNS could not tell) and FAILED (a record is wrong) do not. */
export const DOMAIN_STATUSES = ['PENDING', 'VERIFIED', 'FAILED'] as const;
export type DomainStatus = (typeof DOMAIN_STATUSES)[number];

/** A member's role in a tenant (memberships.role, invitations.role); what each may do is auth/roles.ts. */
export const MEMBER_ROLES = ['owner', 'admin', 'editor', 'viewer'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];
