import { validationError } from './errors.js';

/**
 * Opaque keyset cursors: base64url of the last key a page ended on. Clients
 * pass `meta.nextCursor` back unchanged; an empty cursor starts at the top.
 */
export function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify({ after: key }), 'utf8').toString('base64url');
}

/** `null` = from the start; a cursor we did not make → 400. */
export function decodeCursor(cursor: string, accept: (key: string) => boolean): string | null {
  if (cursor === '') return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const key = (parsed as { after?: unknown } | null)?.after;
    if (typeof key === 'string' && accept(key)) return key;
  } catch {
    // fall through
  }
  throw validationError('Invalid cursor', [{ field: 'cursor', message: 'is not a cursor returned by this API' }]);
}
