/**
 * IANA time zones as the runtime knows them, canonicalised
 * (`europe/madrid` → `Europe/Madrid`). Undefined for an unknown zone and for
 * fixed offsets, which are not IANA zone names.
 */
export function normaliseTimeZone(zone: string): string | undefined {
  if (zone.length === 0 || zone.length > 64 || /^[+-]\d/.test(zone)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}
