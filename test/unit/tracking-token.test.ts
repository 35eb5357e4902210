import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_CHARS, TrackingTokens } from '../../src/tracking/token.js';

const tenantId = '0197a1c2-6b1e-7c3d-9a4f-2b8e5d7c9a10';
const campaignId = '0197a1c2-6b1e-7c3d-9a4f-2b8e5d7c9a11';
const tokens = new TrackingTokens('a-server-secret-of-enough-length-0123456789');

describe('tracking tokens', () => {
  it('open to their claims, and only as the kind they were sealed for', () => {
    const click = tokens.seal({ kind: 'click', tenantId, campaignId, messageId: 9_007_199_254_740_991, url: 'https://a.test/ü?x=1' });
    expect(tokens.open(click, 'click')).toEqual({ kind: 'click', tenantId, campaignId, messageId: 9_007_199_254_740_991, url: 'https://a.test/ü?x=1' });
    expect(tokens.open(click, 'open')).toBeUndefined();
    const open = tokens.seal({ kind: 'open', tenantId, campaignId, messageId: 1 });
    expect(tokens.open(open, 'open')).toEqual({ kind: 'open', tenantId, campaignId, messageId: 1 });
    expect(tokens.open(open, 'click')).toBeUndefined();
  });

  it('are opaque: neither the URL nor the ids can be read from them', () => {
    const token = tokens.seal({ kind: 'click', tenantId, campaignId, messageId: 7, url: 'https://secret-destination.test/' });
    const bytes = Buffer.from(token, 'base64url').toString('latin1');
    expect(bytes).not.toContain('secret-destination');
    expect(Buffer.from(token, 'base64url').toString('hex')).not.toContain(tenantId.replace(/-/g, ''));
    // Sealed twice, the same claims give different tokens (random IV).
    expect(tokens.seal({ kind: 'click', tenantId, campaignId, messageId: 7, url: 'https://secret-destination.test/' })).not.toBe(token);
  });

  it('refuse anything truncated, altered, re-encoded, forged or sealed by another server', () => {
    const token = tokens.seal({ kind: 'click', tenantId, campaignId, messageId: 7, url: 'https://a.test/' });
    const bytes = Buffer.from(token, 'base64url');
    const flipped = (i: number) => {
      const copy = Buffer.from(bytes);
      copy[i] = copy[i]! ^ 0x01;
      return copy.toString('base64url');
    };
    const bad = [
      '',
      'x',
      token.slice(0, -1),
      token.slice(0, 40),
      token.slice(1),
      `${token}A`,
      `${token}.`,
      `${token}=`,
      ...[0, 1, 13, 20, bytes.length - 20, bytes.length - 1].map(flipped),
      Buffer.concat([bytes.subarray(0, 13), Buffer.alloc(bytes.length - 13)]).toString('base64url'),
      new TrackingTokens('another-server-secret-of-enough-length-01234').seal({ kind: 'click', tenantId, campaignId, messageId: 7, url: 'https://a.test/' }),
      'A'.repeat(MAX_TOKEN_CHARS + 1),
    ];
    for (const candidate of bad) expect(tokens.open(candidate, 'click'), candidate).toBeUndefined();
    // Non-canonical base64url (another last character, same decoded bytes: 85 bytes leave 4 spare bits) is refused too.
    expect(bytes.length % 3).toBe(1);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = [...alphabet].map((c) => token.slice(0, -1) + c).find((t) => t !== token && Buffer.from(t, 'base64url').equals(bytes));
    expect(twin).toBeDefined();
    expect(tokens.open(twin!, 'click')).toBeUndefined();
  });

  it('refuse to seal what they could not open', () => {
    expect(() => tokens.seal({ kind: 'click', tenantId: 'not-a-uuid', campaignId, messageId: 1, url: 'https://a.test/' })).toThrow();
    expect(() => tokens.seal({ kind: 'click', tenantId, campaignId, messageId: 1, url: '' })).toThrow();
    expect(() => tokens.seal({ kind: 'click', tenantId, campaignId, messageId: 1, url: `https://a.test/${'x'.repeat(3000)}` })).toThrow();
    expect(() => tokens.seal({ kind: 'open', tenantId, campaignId, messageId: -1 })).toThrow();
  });
});
