import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, dummyHash, hashPassword, needsRehash, parseHash, verifyPassword } from '../../src/accounts/password.js';
import { afterFailure, SignInThrottle } from '../../src/accounts/sign-in-throttle.js';
import { hashToken, isWellFormedToken, newToken } from '../../src/accounts/tokens.js';

const FAST = { N: 1024, r: 8, p: 1 };

describe('password hashes (scrypt)', () => {
  it('are self-describing, salted, and verify only the right password', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$N=32768,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await hashPassword('correct horse battery staple')).not.toBe(hash);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('verify with the parameters stored in the hash, and tell when to rehash with the current ones', async () => {
    const old = await hashPassword('pässwörd ünïcode', FAST);
    expect(await verifyPassword('pässwörd ünïcode', old)).toBe(true);
    // NFC and NFD spellings of the same text are one password.
    expect(await verifyPassword('pässwörd ünïcode'.normalize('NFD'), old)).toBe(true);
    expect(needsRehash(old)).toBe(true);
    expect(needsRehash(await hashPassword('x', DEFAULT_PARAMS))).toBe(false);
  });

  it('refuse malformed or tampered hashes without running them', async () => {
    for (const bad of ['', 'plain', 'scrypt$N=1000,r=8,p=1$abc$def', 'scrypt$N=1073741824,r=8,p=1$abc$def', 'bcrypt$2b$10$x', 'scrypt$N=1024,r=8,p=99$abc$def']) {
      expect(parseHash(bad), bad).toBeUndefined();
      expect(await verifyPassword('x', bad)).toBe(false);
    }
  });

  it('take about as long for an unknown user (the dummy hash) as for a known one', async () => {
    const real = await hashPassword('the real one', FAST);
    const dummy = await dummyHash(FAST);
    expect(parseHash(dummy)!.params).toEqual(parseHash(real)!.params);
    expect(await dummyHash(FAST)).toBe(dummy); // made once
  });
});

describe('tokens', () => {
  it('have a kind prefix and 256 bits; only their SHA-256 is stored', () => {
    const token = newToken('session');
    expect(token).toMatch(/^mcs_[0-9A-Za-z]{43}$/);
    expect(isWellFormedToken('session', token)).toBe(true);
    expect(isWellFormedToken('invitation', token)).toBe(false);
    expect(isWellFormedToken('session', `${token}x`)).toBe(false);
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(newToken('session')).not.toBe(token);
  });
});

describe('sign-in backoff', () => {
  const rule = { free: 3, baseMs: 1000, maxLockMs: 8000, forgetAfterMs: 60_000 };

  it('locks after the free failures, doubling up to the cap, and forgets after a quiet while', () => {
    let entry = undefined as ReturnType<typeof afterFailure> | undefined;
    const locks: number[] = [];
    for (let i = 0; i < 7; i++) {
      entry = afterFailure(entry, rule, 10_000);
      locks.push(entry.lockedUntil === 0 ? 0 : entry.lockedUntil - 10_000);
    }
    expect(locks).toEqual([0, 0, 0, 1000, 2000, 4000, 8000]);
    expect(afterFailure(entry, rule, 10_000).lockedUntil - 10_000).toBe(8000);
    expect(afterFailure(entry, rule, 10_000 + 60_000)).toEqual({ failures: 1, lastFailureAt: 70_000, lockedUntil: 0 });
  });

  it('counts per account and per IP; a success clears the account only', () => {
    let now = 0;
    const throttle = new SignInThrottle({ account: rule, ip: { ...rule, free: 5 } }, () => now);
    for (let i = 0; i < 4; i++) throttle.failed('a@x.test', '10.0.0.1');
    expect(throttle.retryAfterMs('a@x.test', '10.0.0.2')).toBe(1000);
    expect(throttle.retryAfterMs('b@x.test', '10.0.0.2')).toBe(0);
    now = 1000;
    throttle.succeeded('a@x.test');
    expect(throttle.retryAfterMs('a@x.test', '10.0.0.2')).toBe(0);
    for (let i = 0; i < 2; i++) throttle.failed(`other${i}@x.test`, '10.0.0.1');
    expect(throttle.retryAfterMs('c@x.test', '10.0.0.1')).toBe(1000); // the IP's 6th failure
  });
});
