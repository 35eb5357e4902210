import { describe, expect, it } from 'vitest';
import { createUnsubscribeToken, verifyUnsubscribeToken } from '../../src/unsubscribe/token.js';

const secret = 'a-secret-of-at-least-thirty-two-characters';
const claims = {
  tenantId: '01a21603-1562-72bf-8c80-d372f8e10a6f',
  contactId: '01a21603-4b2b-7448-bfc4-31cdb80b6697',
  campaignId: '01a21603-ffff-7000-8000-000000000001',
};

describe('unsubscribe tokens', () => {
  it('round-trip their claims and stay URL-safe and short', () => {
    const token = createUnsubscribeToken(secret, claims);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(token.length).toBeLessThan(100);
    expect(verifyUnsubscribeToken(secret, token)).toEqual(claims);
    const noCampaign = createUnsubscribeToken(secret, { ...claims, campaignId: null });
    expect(verifyUnsubscribeToken(secret, noCampaign)).toEqual({ ...claims, campaignId: null });
  });

  it('refuse another secret, any changed character and malformed input', () => {
    const token = createUnsubscribeToken(secret, claims);
    expect(verifyUnsubscribeToken('another-secret-of-thirty-two-characters!', token)).toBeUndefined();
    for (let i = 0; i < token.length; i++) {
      if (token[i] === '.') continue;
      const flipped = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
      expect(verifyUnsubscribeToken(secret, flipped), `position ${i}`).toBeUndefined();
    }
    for (const bad of ['', '.', 'abc', `${token}.x`, token.split('.')[0]!, 'x'.repeat(500)]) {
      expect(verifyUnsubscribeToken(secret, bad)).toBeUndefined();
    }
  });
});
