import type { KeyMode, SkipReason, SuppressionReason } from '../db/enums.js';
import type { RenderableVersion } from '../templates/render.js';
import type { ProjectRow } from '../projects/project.repository.js';
import type { SigningKey } from './dkim.js';

/** The queue's lanes: the priority lane claims transactional messages only, the campaign lane campaign messages. */
export type Lane = 'transactional' | 'campaign';

/** A campaign some recorded outcomes belonged to: what may need settling afterwards. */
export interface CampaignRef {
  tenantId: string;
  campaignId: string;
  /** Some of its messages went back to the queue because the campaign was PAUSED (settle checks it was not resumed meanwhile). */
  parked?: boolean;
}

/** Everything a worker needs to render and send one claimed campaign message, read at claim time. */
export interface ClaimedCampaignMessage {
  stream: 'campaign';
  id: number;
  tenantId: string;
  campaignId: string;
  contactId: string | null;
  email: string | null;
  locale: string | null;
  templateVersionId: string;
  attempts: number;
  contactExists: boolean;
  contactLocale: string | null;
  contactExternalId: string | null;
  contactOptIn: boolean;
  contactAttributes: Record<string, unknown>;
  suppressed: boolean;
  campaignSubject: string | null;
  /** Describes the list in `List-Id` (absent from stores that do not read it). */
  campaignName?: string;
  campaignProjectId: string | null;
  /** The campaign only reaches opted-in contacts (the audience rule; false when its filter targets optIn: false). */
  campaignRequiresOptIn: boolean;
  campaignSendMode: KeyMode | null;
  campaignStatus: string;
  /** The campaign's open and click tracking switches. */
  campaignTrackOpens: boolean;
  campaignTrackClicks: boolean;
}

/** A transactional email as sent: rendered when it was accepted (emails/), with its sender. */
export interface TransactionalContent {
  /** Its public id (`GET /emails/{id}`). */
  emailId: string;
  fromEmail: string;
  fromName: string | null;
  replyTo: string | null;
  projectId: string | null;
  subject: string;
  html: string | null;
  text: string | null;
  /** Set only when `to` is a contact and the template used `{{ unsubscribeUrl }}`: then the one-click headers go too. */
  unsubscribeUrl: string | null;
  trackOpens: boolean;
  trackClicks: boolean;
  /** May go to an address suppressed for `unsubscribe` (never for bounce, complaint or manual). */
  bypassUnsubscribe: boolean;
  /** The tenant's send mode when it was accepted: `test` (an mc_test_ key) captures instead of sending. */
  sendMode: KeyMode;
}

/** A claimed transactional message: no campaign; `contactId` set when `to` was a contact of the tenant. */
export interface ClaimedTransactionalMessage {
  stream: 'transactional';
  id: number;
  tenantId: string;
  campaignId: null;
  contactId: string | null;
  email: string | null;
  locale: string | null;
  templateVersionId: string | null;
  attempts: number;
  /** False when the message named a contact who has been erased since. */
  contactExists: boolean;
  contactExternalId: string | null;
  suppressed: boolean;
  suppressionReason: SuppressionReason | null;
  content: TransactionalContent;
}

export type ClaimedMessage = ClaimedCampaignMessage | ClaimedTransactionalMessage;

/** What is true of a claimed message right before it is sent (DeliveryStore.currentState). */
export interface SendTimeState {
  id: number;
  contactExists: boolean;
  contactOptIn: boolean;
  suppressed: boolean;
  suppressionReason: SuppressionReason | null;
  /** Null for a transactional message (no campaign). */
  campaignStatus: string | null;
}

/** A template version as delivery needs it: renderable, and whether it is still PUBLISHED. */
export type DeliverableVersion = RenderableVersion & { status: string };

interface OutcomeOf {
  id: number;
  tenantId: string;
  /** Null for a transactional message. */
  campaignId: string | null;
  /** Who the message was for, as the claim read it: the data of the outcome's event (email.sent, email.bounced…). */
  recipient?: OutcomeRecipient;
}

export interface OutcomeRecipient {
  contactId: string | null;
  email: string | null;
  externalId: string | null;
  locale: string | null;
  templateVersionId: string | null;
  /** A transactional email's public id. */
  emailId?: string;
}

/** The part of an outcome that names its message, from the claimed message. */
export function outcomeOf(m: ClaimedMessage): OutcomeOf {
  return {
    id: m.id,
    tenantId: m.tenantId,
    campaignId: m.campaignId,
    recipient: {
      contactId: m.contactId,
      email: m.email,
      externalId: m.contactExternalId,
      locale: m.locale,
      templateVersionId: m.templateVersionId,
      ...(m.stream === 'transactional' ? { emailId: m.content.emailId } : {}),
    },
  };
}

/**
 * A failure the receiving server blamed on the address (bounce-classification.ts):
 * `hard` suppresses it; `soft` counts toward its run of soft bounces.
 */
export interface Bounce {
  email: string;
  type: 'hard' | 'soft';
}

export type MessageOutcome =
  | (OutcomeOf & { kind: 'sent'; providerMessageId: string; response: string })
  | (OutcomeOf & { kind: 'retry'; error: string; nextAttemptAt: string })
  | (OutcomeOf & { kind: 'failed'; error: string; bounce?: Bounce; blocked?: boolean })
  | (OutcomeOf & { kind: 'skipped'; reason: SkipReason })
  | (OutcomeOf & { kind: 'cancelled' })
  /** Its campaign is PAUSED: back to the queue, unsent and without spending an attempt, until it is resumed. */
  | (OutcomeOf & { kind: 'paused' });

/**
 * All the delivery worker asks of storage (listmonk's Store): claim due
 * messages under a lease, keep or give back leases, record outcomes guarded
 * by the lease, settle the campaigns they touched, and read what rendering
 * needs. The SQL implementation is campaigns/campaign-delivery.store.ts;
 * the worker's unit tests use an in-memory one.
 */
export interface DeliveryStore {
  /** Due messages of one lane (campaign when omitted), leased to `owner`. */
  claimDue(owner: string, limit: number, now: Date, leaseMs: number, lane?: Lane): Promise<ClaimedMessage[]>;
  /** Whether anything of the lane is due: a read, so an idle lane's polls never take the write lock a claim needs. */
  anyDue(now: Date, lane: Lane): Promise<boolean>;
  extendLeases(owner: string, now: Date, leaseMs: number): Promise<void>;
  /** Expired leases back to the queue; with `owner`, that worker's own leases at once (clean shutdown). */
  releaseLeases(now: Date, owner?: string): Promise<number>;
  /** Writes the outcomes still covered by `owner`'s lease; returns the campaigns whose messages changed. */
  recordOutcomes(owner: string, outcomes: readonly MessageOutcome[], now: Date): Promise<CampaignRef[]>;
  /** After outcomes: cancel stragglers of cancelled campaigns, complete campaigns with nothing left. */
  settle(campaigns: readonly CampaignRef[], now: Date): Promise<void>;
  /**
   * The send-time re-check, one query for a batch of messages about to go
   * out: their campaign's status, contact and suppression as they are now.
   * A message missing from the answer no longer exists (its campaign was deleted).
   */
  currentState(messageIds: readonly number[]): Promise<SendTimeState[]>;
  loadVersion(tenantId: string, versionId: string): Promise<DeliverableVersion | undefined>;
  loadProject(tenantId: string, projectId: string): Promise<ProjectRow | undefined>;
  /** The DKIM keys of the tenant's VERIFIED sending domains (asked once per tenant per batch). */
  loadSigningKeys(tenantId: string): Promise<SigningKey[]>;
}
