import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/api-key.service.js';
import { VerifiedKeyCache } from '../../src/auth/verified-key-cache.js';

const principal = (keyId: string, tenantId = 't1'): Principal => ({ keyId, tenantId, scopes: new Set(['campaigns:read']), mode: 'live' });

describe('VerifiedKeyCache', () => {
  it('trusts a verified key for the TTL, then forgets it', () => {
    let now = 1000;
    const cache = new VerifiedKeyCache(500, 10, () => now);
    cache.remember('h1', principal('k1'));
    expect(cache.get('h1')?.keyId).toBe('k1');
    now = 1499;
    expect(cache.get('h1')?.keyId).toBe('k1');
    now = 1500;
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.get('unknown')).toBeUndefined();
  });

  it('forgets a revoked key at once, and keeps nothing with a TTL of 0', () => {
    const cache = new VerifiedKeyCache(60_000, 10, () => 0);
    cache.remember('h1', principal('k1'));
    cache.remember('h2', principal('k2'));
    cache.forgetKey('k1');
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.get('h2')?.keyId).toBe('k2');

    const off = new VerifiedKeyCache(0, 10, () => 0);
    off.remember('h1', principal('k1'));
    expect(off.get('h1')).toBeUndefined();
  });

  it('holds at most its capacity, dropping the least recently used key', () => {
    const cache = new VerifiedKeyCache(60_000, 2, () => 0);
    cache.remember('h1', principal('k1'));
    cache.remember('h2', principal('k2'));
    cache.get('h1');
    cache.remember('h3', principal('k3'));
    expect(cache.get('h2')).toBeUndefined();
    expect(cache.get('h1')?.keyId).toBe('k1');
    expect(cache.get('h3')?.keyId).toBe('k3');
  });
});
