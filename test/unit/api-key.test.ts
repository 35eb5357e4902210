import { describe, expect, it } from 'vitest';
import { bearerToken, generateApiKey, hashApiKey, isWellFormedApiKey, randomBase62 } from '../../src/auth/api-key.js';
import { parseScopes, SCOPES } from '../../src/auth/scopes.js';

describe('API keys', () => {
  it('look like mc_live_ + 40 base62 characters, with a hash and a short prefix', () => {
    const { key, hash, prefix } = generateApiKey();
    expect(key).toMatch(/^mc_live_[0-9A-Za-z]{40}$/);
    expect(hash).toBe(hashApiKey(key));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(key.startsWith(prefix)).toBe(true);
    expect(prefix.length).toBeLessThan(16);
    expect(generateApiKey('test').key).toMatch(/^mc_test_/);
  });

  it('are unique', () => {
    const keys = new Set(Array.from({ length: 2000 }, () => generateApiKey().key));
    expect(keys.size).toBe(2000);
  });

  it('use every base62 symbol about evenly', () => {
    const sample = randomBase62(62_000);
    const counts = new Map<string, number>();
    for (const c of sample) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const n of counts.values()) expect(n).toBeGreaterThan(700); // expected 1000 each
  });

  it('are recognised only in their exact format', () => {
    expect(isWellFormedApiKey(generateApiKey().key)).toBe(true);
    expect(isWellFormedApiKey('mc_live_short')).toBe(false);
    expect(isWellFormedApiKey(`mc_prod_${'a'.repeat(40)}`)).toBe(false);
    expect(isWellFormedApiKey(`mc_live_${'a'.repeat(39)}!`)).toBe(false);
    expect(isWellFormedApiKey(` mc_live_${'a'.repeat(40)}`)).toBe(false);
  });

  it('are read from a Bearer header only', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('scopes', () => {
  it('parses a comma list, dropping blanks and repeats', () => {
    expect(parseScopes('campaigns:read, campaigns:write,,campaigns:read')).toEqual(['campaigns:read', 'campaigns:write']);
    expect(parseScopes(SCOPES.join(','))).toEqual([...SCOPES]);
  });

  it('refuses unknown and empty lists', () => {
    expect(() => parseScopes('campaigns:read,campaigns:delete')).toThrow(/unknown scope "campaigns:delete"/);
    expect(() => parseScopes(' , ')).toThrow(/no scopes/);
  });
});
