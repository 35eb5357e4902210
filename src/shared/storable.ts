import type { ErrorDetail } from './errors.js';

/**
 * What every entry point (JSON bodies, CSV and NDJSON imports, both engines)
 * refuses before it reaches a database: text neither engine stores
 * faithfully — NUL (PostgreSQL refuses it in text and jsonb, SQLite truncates
 * it in some functions), unpaired UTF-16 surrogates (not encodable as UTF-8:
 * jsonb refuses the escape, text columns would silently get U+FFFD) — and
 * numbers that are not finite (JSON's `1e400` parses as Infinity, which
 * JSON.stringify turns into `null`). Invalid UTF-8 bytes are a concern of the
 * byte-level readers (contact.import.ts), which never decode them into U+FFFD.
 */
export const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_CHARS = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export const TEXT_MESSAGE = 'must not contain NUL characters or unpaired surrogates';
export const NUMBER_MESSAGE = 'must be a finite number (this one is out of range)';

export const isStorableText = (text: string): boolean => !UNSTORABLE_TEXT.test(text);

/** Text made safe to echo in a message or a field name: NUL and lone surrogates written as `\uXXXX`. */
export const printable = (text: string): string =>
  text.replace(UNSTORABLE_CHARS, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);

interface Frame {
  value: unknown;
  parent: Frame | undefined;
  key: string;
}

const fieldOf = (frame: Frame, prefix: string): string => {
  const keys: string[] = [];
  for (let f: Frame | undefined = frame; f?.parent; f = f.parent) keys.push(printable(f.key));
  const path = keys.reverse().join('.');
  return prefix && path ? `${prefix}.${path}` : prefix || path || '(body)';
};

/**
 * Every unstorable string (value or key) and non-finite number in a parsed
 * JSON value, named by its path as validation errors name fields
 * (`audienceFilter.attributes.x`, `contacts.0.email`); at most `limit` of
 * them. Iterative, so a document nested 10,000 deep cannot overflow the stack.
 */
export function unstorableValues(value: unknown, prefix = '', limit = 20): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const stack: Frame[] = [{ value, parent: undefined, key: '' }];
  while (stack.length > 0 && details.length < limit) {
    const frame = stack.pop()!;
    const current = frame.value;
    if (typeof current === 'string') {
      if (UNSTORABLE_TEXT.test(current)) details.push({ field: fieldOf(frame, prefix), message: TEXT_MESSAGE });
    } else if (typeof current === 'number') {
      if (!Number.isFinite(current)) details.push({ field: fieldOf(frame, prefix), message: NUMBER_MESSAGE });
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], parent: frame, key: String(i) });
    } else if (current !== null && typeof current === 'object') {
      const keys = Object.keys(current);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        const child: Frame = { value: (current as Record<string, unknown>)[key], parent: frame, key };
        if (UNSTORABLE_TEXT.test(key)) details.push({ field: fieldOf(child, prefix), message: `key ${TEXT_MESSAGE}` });
        else stack.push(child);
      }
    }
  }
  return details;
}
