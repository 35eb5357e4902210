/** Unique-constraint violations on either engine (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * The database refusing the values themselves rather than failing: PostgreSQL
 * classes 22 (data exception: an untranslatable character, a value out of
 * range), 23 (integrity constraint) and 54 (program limit, e.g. an index row
 * too large); SQLite constraint failures (a CHECK, a trigger's RAISE), TOOBIG
 * and MISMATCH. A lost connection or a timeout is none of these.
 */
export function isDataRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (/^(22|23|54)[0-9A-Z]{3}$/.test(code)) return true;
  return code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_TOOBIG' || code === 'SQLITE_MISMATCH';
}
