/**
 * BCP 47 language tags, validated and canonicalised by the runtime's Intl
 * (`es-mx` → `es-MX`, `EN` → `en`). Undefined for anything that is not a tag.
 */
export function normaliseLocale(tag: string): string | undefined {
  if (tag.length === 0 || tag.length > 35 || tag.trim() !== tag) return undefined;
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

/** `es-MX` → `es`; `es` → undefined (no shorter form). */
export function languageOf(locale: string): string | undefined {
  const language = locale.split('-')[0];
  return language && language !== locale ? language : undefined;
}
