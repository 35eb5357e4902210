/**
 * Contact search (`GET /contacts?q=`), the pure part: what a search term may
 * be, and the prefix as a range of strings.
 *
 * A prefix is searched as a range, `lower(column) >= from AND lower(column) <
 * to`, never as a LIKE pattern: `%`, `_` and `\` are ordinary characters of
 * the prefix (nothing to escape, nothing to inject), and both engines walk
 * the expression index of migration 0023 whatever the value (a LIKE with a
 * bound parameter is planned without knowing its prefix on some paths).
 * Case folding is ASCII only, as the index's `lower()` is on both engines
 * (SQLite's `lower()`, PostgreSQL's `lower(x collate "C")`); strings compare
 * bytewise there (UTF-8 byte order is code point order, which is the order
 * used here).
 */

export const SEARCH_MAX_LENGTH = 254;
/** Control characters are refused (schema pattern and `checkSearchTerm`). */
export const SEARCH_PATTERN = '^[^\\u0000-\\u001f\\u007f]+$';

export interface PrefixRange {
  /** The lower-cased prefix: the smallest match. */
  from: string;
  /** The first string after every string with the prefix; null when there is none (prefix ending in U+10FFFF). */
  to: string | null;
}

/** ASCII-only lower-casing, the same as the index's `lower()` on both engines. */
export const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

/** The trimmed term, or a message saying why it is refused. */
export function checkSearchTerm(raw: string): { ok: true; term: string } | { ok: false; message: string } {
  const term = raw.trim();
  if (term.length === 0) return { ok: false, message: 'must not be blank' };
  if (term.length > SEARCH_MAX_LENGTH) return { ok: false, message: `must be at most ${SEARCH_MAX_LENGTH} characters` };
  if (/[\u0000-\u001f\u007f]/.test(term)) return { ok: false, message: 'must not contain control characters' };
  if (/[\ud800-\udfff]/u.test(term)) return { ok: false, message: 'must be valid Unicode' };
  return { ok: true, term };
}

/** The strings starting with `term` (case-insensitively, ASCII): [from, to). */
export function prefixRange(term: string): PrefixRange {
  const from = asciiLower(term);
  const points = Array.from(from);
  const last = points.pop()!.codePointAt(0)!;
  if (last >= 0x10ffff) return { from, to: null };
  const next = last + 1 === 0xd800 ? 0xe000 : last + 1; // skip the surrogate block
  return { from, to: points.join('') + String.fromCodePoint(next) };
}
