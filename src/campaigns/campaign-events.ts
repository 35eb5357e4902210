import type { NewEvent } from '../events/event-types.js';
import type { CampaignAction } from './lifecycle.js';

/** Which lifecycle moves are told to the event log, and as what (pure). Retry-failed sends again: `campaign.sending`. */
const EVENT_OF_MOVE: Partial<Record<CampaignAction, NewEvent['type']>> = {
  send: 'campaign.sending',
  start: 'campaign.sending',
  retry: 'campaign.sending',
  complete: 'campaign.sent',
  cancel: 'campaign.cancelled',
  pause: 'campaign.paused',
  resume: 'campaign.resumed',
};

/** The event of a move just applied, for the move's own transaction to record; undefined for moves that emit none. */
export function campaignEvent(
  action: CampaignAction,
  tenantId: string,
  campaignId: string,
  at: string,
  extra: Record<string, unknown> = {},
): NewEvent | undefined {
  const type = EVENT_OF_MOVE[action];
  return type ? { type, tenantId, at, campaignId, data: { campaignId, ...extra } } : undefined;
}
