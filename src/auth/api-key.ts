import { createHash, randomBytes } from 'node:crypto';
import type { KeyMode } from '../db/enums.js';

export type { KeyMode };

/** Pure helpers for the key format `mc_live_<40 base62>` (or `mc_test_…`). */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SECRET_LENGTH = 40;
const DISPLAY_PREFIX_LENGTH = 12;
const KEY_PATTERN = /^mc_(live|test)_[0-9A-Za-z]{32,128}$/;

export interface GeneratedKey {
  key: string;
  hash: string;
  prefix: string;
}

/** Uniform base62 via rejection sampling: bytes ≥ 248 would bias the first 62·4 symbols. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export function generateApiKey(mode: KeyMode = 'live'): GeneratedKey {
  const key = `mc_${mode}_${randomBase62(SECRET_LENGTH)}`;
  return { key, hash: hashApiKey(key), prefix: key.slice(0, DISPLAY_PREFIX_LENGTH) };
}

export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export const isWellFormedApiKey = (key: string): boolean => KEY_PATTERN.test(key);

/** `Bearer <key>` → key, or undefined when the header is absent or not a bearer token. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer[ \t]+(\S+)[ \t]*$/i);
  return match?.[1];
}
