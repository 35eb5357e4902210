import { languageOf } from '../shared/locale.js';

export interface LocaleVariant {
  id: string;
  locale: string | null;
}

export interface ResolvedVariant {
  versionId: string;
  locale: string | null;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The variant for a locale exactly, else for its language (`es-MX` → `es`). */
function match(locale: string, variants: readonly LocaleVariant[]): LocaleVariant | undefined {
  const exact = variants.find((v) => v.locale !== null && same(v.locale, locale));
  if (exact) return exact;
  const language = languageOf(locale);
  return language ? variants.find((v) => v.locale !== null && same(v.locale, language)) : undefined;
}

/**
 * Which published variant of a locale group a contact receives: the
 * contact's exact locale → its language only → the tenant's fallback locale
 * (the same two steps) → the base version. Pure; `variants` are the group's
 * published versions (the base among them when published).
 */
export function resolveVariant(
  contactLocale: string | null,
  variants: readonly LocaleVariant[],
  fallbackLocale: string | null,
  baseVersionId: string,
): ResolvedVariant {
  for (const locale of [contactLocale, fallbackLocale]) {
    if (!locale) continue;
    const found = match(locale, variants);
    if (found) return { versionId: found.id, locale: found.locale };
  }
  const base = variants.find((v) => v.id === baseVersionId);
  return { versionId: baseVersionId, locale: base?.locale ?? null };
}
