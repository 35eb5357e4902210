import { CAMPAIGN_STATUSES, UNFINISHED_CAMPAIGN_STATUSES, type CampaignStatus } from '../db/enums.js';

export { CAMPAIGN_STATUSES, type CampaignStatus };

/**
 * The campaign state machine, as data. DRAFT → SCHEDULED → SENDING → SENT,
 * CANCELLED from any state before SENT; retrying failed messages reopens a
 * SENT campaign (back to SENDING). SENDING ⇄ PAUSED: `pause` (manual, or the
 * circuit breaker) and `resume`; a PAUSED campaign's queued messages are
 * parked, not claimed, and it never completes while paused. CampaignRepository applies each move as a
 * conditional update on the allowed source states, so racing requests
 * cannot both win.
 *
 * `start` is the scheduler's move when `scheduledAt` comes; `complete` the
 * delivery's when nothing is left queued or in flight; `retry` re-queues
 * failed messages (SENT → SENDING, SENDING stays); `test` sends a test email
 * and keeps the status.
 */
export type CampaignAction = 'update' | 'schedule' | 'cancel' | 'send' | 'start' | 'complete' | 'retry' | 'test' | 'pause' | 'resume';

const ALLOWED_FROM: Record<CampaignAction, readonly CampaignStatus[]> = {
  update: ['DRAFT'],
  schedule: ['DRAFT', 'SCHEDULED'],
  cancel: ['DRAFT', 'SCHEDULED', 'SENDING', 'PAUSED'],
  send: ['DRAFT', 'SCHEDULED'],
  start: ['SCHEDULED'],
  complete: ['SENDING'],
  retry: ['SENDING', 'SENT'],
  test: ['DRAFT', 'SCHEDULED'],
  pause: ['SENDING'],
  resume: ['PAUSED'],
};

const TARGET: Partial<Record<CampaignAction, CampaignStatus>> = {
  schedule: 'SCHEDULED',
  cancel: 'CANCELLED',
  send: 'SENDING',
  start: 'SENDING',
  complete: 'SENT',
  retry: 'SENDING',
  pause: 'PAUSED',
  resume: 'SENDING',
};

export const isCampaignStatus = (value: string): value is CampaignStatus =>
  (CAMPAIGN_STATUSES as readonly string[]).includes(value);

export const allowedFrom = (action: CampaignAction): readonly CampaignStatus[] => ALLOWED_FROM[action];

export const canPerform = (action: CampaignAction, status: CampaignStatus): boolean =>
  ALLOWED_FROM[action].includes(status);

/** The status an action leads to (undefined: the action keeps the status). */
export const targetOf = (action: CampaignAction): CampaignStatus | undefined => TARGET[action];

export const isFinal = (status: CampaignStatus): boolean => !(UNFINISHED_CAMPAIGN_STATUSES as readonly CampaignStatus[]).includes(status);
