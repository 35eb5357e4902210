import { describe, expect, it } from 'vitest';
import { CAMPAIGN_STATUSES, canPerform, isCampaignStatus, isFinal, targetOf, type CampaignAction } from '../../src/campaigns/lifecycle.js';

const expected: Record<CampaignAction, string[]> = {
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

describe('campaign lifecycle', () => {
  for (const [action, allowed] of Object.entries(expected) as [CampaignAction, string[]][]) {
    for (const status of CAMPAIGN_STATUSES) {
      it(`${action} from ${status} is ${allowed.includes(status) ? 'allowed' : 'refused'}`, () => {
        expect(canPerform(action, status)).toBe(allowed.includes(status));
      });
    }
  }

  it('moves schedule to SCHEDULED, cancel to CANCELLED and keeps the status on update', () => {
    expect(targetOf('schedule')).toBe('SCHEDULED');
    expect(targetOf('cancel')).toBe('CANCELLED');
    expect(targetOf('update')).toBeUndefined();
    expect(targetOf('test')).toBeUndefined();
    expect(targetOf('send')).toBe('SENDING');
    expect(targetOf('start')).toBe('SENDING');
    expect(targetOf('complete')).toBe('SENT');
    expect(targetOf('retry')).toBe('SENDING');
    expect(targetOf('pause')).toBe('PAUSED');
    expect(targetOf('resume')).toBe('SENDING');
  });

  it('knows the final states and the status names', () => {
    expect(CAMPAIGN_STATUSES.filter(isFinal)).toEqual(['SENT', 'CANCELLED']);
    expect(isCampaignStatus('DRAFT')).toBe(true);
    expect(isCampaignStatus('draft')).toBe(false);
  });
});
