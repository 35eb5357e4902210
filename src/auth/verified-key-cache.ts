import { LruMap } from '../shared/lru-map.js';
import type { Principal } from './api-key.service.js';

/**
 * Keys verified in the last `ttlMs`, by their SHA-256 hash, so that a busy
 * API does not look the same key up on every request (that look-up was a
 * third of a GET's database work). Only valid keys are kept: an unknown key
 * is looked up every time and cannot fill the cache. A revocation in this
 * process forgets the key at once; one made by another process (the CLI,
 * another API process) takes effect here within `ttlMs`.
 */
export class VerifiedKeyCache {
  private readonly entries: LruMap<string, { principal: Principal; until: number }>;

  constructor(
    private readonly ttlMs: number,
    capacity = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.entries = new LruMap(capacity);
  }

  get(keyHash: string): Principal | undefined {
    const entry = this.entries.get(keyHash);
    if (!entry) return undefined;
    if (this.now() < entry.until) return entry.principal;
    this.entries.delete(keyHash);
    return undefined;
  }

  remember(keyHash: string, principal: Principal): void {
    if (this.ttlMs > 0) this.entries.set(keyHash, { principal, until: this.now() + this.ttlMs });
  }

  forgetKey(keyId: string): void {
    this.entries.deleteWhere((entry) => entry.principal.keyId === keyId);
  }
}
