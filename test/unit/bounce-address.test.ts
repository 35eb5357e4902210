import { describe, expect, it } from 'vitest';
import { bounceAddress, bounceKey, createBounceToken, verifyBounceAddress, verifyBounceToken } from '../../src/delivery/bounce-address.js';
import { parseBounceDomain } from '../../src/config.js';

const SECRET = 'a-server-secret-that-is-at-least-32-chars';
const key = bounceKey(SECRET);
const tenantId = '0f8fad5b-d9cb-469f-a165-70867728950e';
const claims = { tenantId, messageId: 123_456_789 };

describe('VERP bounce addresses', () => {
  it('round-trips tenant and message id through a short, lower-case, local-part-safe token', () => {
    const address = bounceAddress(key, claims, 'bounces.example.com');
    const local = address.split('@')[0]!;
    expect(local).toMatch(/^bounces\+[a-z2-7]+$/);
    expect(local.length).toBeLessThanOrEqual(64);
    expect(verifyBounceAddress(key, address)).toEqual(claims);
    expect(verifyBounceAddress(key, address.toUpperCase())).toEqual(claims);
    expect(verifyBounceToken(key, createBounceToken(key, { tenantId, messageId: Number.MAX_SAFE_INTEGER }))).toEqual({ tenantId, messageId: Number.MAX_SAFE_INTEGER });
    expect(verifyBounceToken(key, createBounceToken(key, { tenantId, messageId: 0 }))).toEqual({ tenantId, messageId: 0 });
  });

  it('is deterministic: the same message always gets the same address', () => {
    expect(createBounceToken(key, claims)).toBe(createBounceToken(key, claims));
  });

  it('refuses forged, altered, truncated and other-server tokens', () => {
    const token = createBounceToken(key, claims);
    const flipped = token.slice(0, 10) + (token[10] === 'a' ? 'b' : 'a') + token.slice(11);
    expect(verifyBounceToken(key, flipped)).toBeUndefined();
    expect(verifyBounceToken(key, token.slice(0, -1))).toBeUndefined();
    expect(verifyBounceToken(key, `${token}a`)).toBeUndefined();
    expect(verifyBounceToken(bounceKey(`${SECRET}-other`), token)).toBeUndefined();
    // Another tenant's id with this token's MAC does not verify.
    const other = createBounceToken(key, { tenantId: '1f8fad5b-d9cb-469f-a165-70867728950e', messageId: claims.messageId });
    expect(verifyBounceToken(key, other.slice(0, 38) + token.slice(38))).toBeUndefined();
    expect(verifyBounceAddress(key, `postmaster@bounces.example.com`)).toBeUndefined();
    expect(verifyBounceAddress(key, `bounces+${'a'.repeat(55)}@x.test`)).toBeUndefined();
    expect(verifyBounceAddress(key, 'no-at-sign')).toBeUndefined();
    expect(verifyBounceAddress(key, `bounces+${token}`.repeat(10) + '@x.test')).toBeUndefined();
  });

  it('refuses a non-canonical encoding of the same bytes (trailing bits set)', () => {
    const token = createBounceToken(key, claims);
    // 34 bytes = 272 bits: the last character carries 2 data bits and 3 zero bits.
    const last = 'abcdefghijklmnopqrstuvwxyz234567'.indexOf(token.at(-1)!);
    const altered = token.slice(0, -1) + 'abcdefghijklmnopqrstuvwxyz234567'[last | 1];
    if (altered !== token) expect(verifyBounceToken(key, altered)).toBeUndefined();
  });

  it('uses a key of its own, not the server secret itself', () => {
    expect(bounceKey(SECRET).equals(Buffer.from(SECRET))).toBe(false);
    expect(() => bounceKey('')).toThrow();
  });
});

describe('BOUNCE_DOMAIN', () => {
  it('accepts a host name, normalised; unset is undefined; refuses anything else', () => {
    expect(parseBounceDomain(undefined)).toBeUndefined();
    expect(parseBounceDomain('  ')).toBeUndefined();
    expect(parseBounceDomain('Bounces.Example.COM.')).toBe('bounces.example.com');
    expect(parseBounceDomain('bounces.bücher.example')).toBe('bounces.xn--bcher-kva.example');
    for (const bad of ['localhost', 'bounces@example.com', 'a..b', '-a.example', 'a b.example']) {
      expect(() => parseBounceDomain(bad), bad).toThrow(/BOUNCE_DOMAIN/);
    }
  });
});
