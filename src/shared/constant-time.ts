import { createHash, timingSafeEqual } from 'node:crypto';

/** Equal strings, compared in time that does not depend on where (or whether) they differ: both are hashed first, so lengths may differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}
