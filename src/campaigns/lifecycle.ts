/**
 * The campaign state machine, as data. DRAFT → SCHEDULED → SENDING → SENT,
 * CANCELLED from any state before SENT. Repositories apply each move as a
 * conditional update on the allowed source states, so racing requests
 * cannot both win.
 */
export const CAMPAIGN_STATUSES = ['DRAFT', 'SCHEDULED', 'SENDING', 'SENT', 'CANCELLED'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/**
 * `start` is the scheduler's move when `scheduledAt` comes; `complete` the
 * delivery's when nothing is left queued or in flight; `test` sends a test
 * email and keeps the status.
 */
export type CampaignAction = 'update' | 'schedule' | 'cancel' | 'send' | 'start' | 'complete' | 'test';

const ALLOWED_FROM: Record<CampaignAction, readonly CampaignStatus[]> = {
  update: ['DRAFT'],
  schedule: ['DRAFT', 'SCHEDULED'],
  cancel: ['DRAFT', 'SCHEDULED', 'SENDING'],
  send: ['DRAFT', 'SCHEDULED'],
  start: ['SCHEDULED'],
  complete: ['SENDING'],
  test: ['DRAFT', 'SCHEDULED'],
};

const TARGET: Partial<Record<CampaignAction, CampaignStatus>> = {
  schedule: 'SCHEDULED',
  cancel: 'CANCELLED',
  send: 'SENDING',
  start: 'SENDING',
  complete: 'SENT',
};

export const isCampaignStatus = (value: string): value is CampaignStatus =>
  (CAMPAIGN_STATUSES as readonly string[]).includes(value);

export const allowedFrom = (action: CampaignAction): readonly CampaignStatus[] => ALLOWED_FROM[action];

export const canPerform = (action: CampaignAction, status: CampaignStatus): boolean =>
  ALLOWED_FROM[action].includes(status);

/** The status an action leads to (undefined: the action keeps the status). */
export const targetOf = (action: CampaignAction): CampaignStatus | undefined => TARGET[action];

export const isFinal = (status: CampaignStatus): boolean => status === 'SENT' || status === 'CANCELLED';
