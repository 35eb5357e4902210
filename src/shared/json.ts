/**
 * JSON columns come back as text from SQLite and already parsed from
 * PostgreSQL (jsonb); these read either.
 */

/** A JSON object column (contact attributes): anything else, or broken text, reads as `{}`. */
export function parseJsonObject(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value) as unknown;
    } catch {
      return {};
    }
  }
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

/** Any JSON column: text is parsed, a parsed value passes through, null stays null. */
export function parseJsonColumn<T>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}
