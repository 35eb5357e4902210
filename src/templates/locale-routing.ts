import { sql, type AliasableExpression } from 'kysely';
import { languageOf } from '../shared/locale.js';

/**
 * Locale routing, the one rule in its two forms: which published variant of
 * a locale group a contact receives. The contact's exact locale → its
 * language only (`es-MX` → `es`, never a language narrowed to a region) →
 * the tenant's fallback locale (the same two steps) → the base version.
 * Locales compare case-insensitively.
 *
 * `resolveVariant` decides for one contact (test sends, transactional
 * mail); `routingCase` is the same decision as a SQL CASE over a locale
 * column, for the fan-out's INSERT … SELECT. test/medium/locale-routing.test.ts
 * checks on both engines that the two agree, case included.
 */
export interface LocaleVariant {
  id: string;
  locale: string | null;
}

export interface ResolvedVariant {
  versionId: string;
  locale: string | null;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The variant written for a locale: exactly, else for its language (`es-MX` → `es`). */
export function variantFor(locale: string, variants: readonly LocaleVariant[]): LocaleVariant | undefined {
  const exact = variants.find((v) => v.locale !== null && same(v.locale, locale));
  if (exact) return exact;
  const language = languageOf(locale);
  return language ? variants.find((v) => v.locale !== null && same(v.locale, language)) : undefined;
}

/** Pure; `variants` are the group's published versions (the base among them when published). */
export function resolveVariant(
  contactLocale: string | null,
  variants: readonly LocaleVariant[],
  fallbackLocale: string | null,
  baseVersionId: string,
): ResolvedVariant {
  for (const locale of [contactLocale, fallbackLocale]) {
    if (!locale) continue;
    const found = variantFor(locale, variants);
    if (found) return { versionId: found.id, locale: found.locale };
  }
  const base = variants.find((v) => v.id === baseVersionId);
  return { versionId: baseVersionId, locale: base?.locale ?? null };
}

/** The routing of one campaign as data: what `routingCase` turns into SQL. */
export interface LocaleRouting {
  /** Contact locale equal to `match` (lower case) → that version, whose locale is `locale`. */
  exact: { match: string; versionId: string; locale: string }[];
  /** Contact locale starting with `match-` (lower case) → that version (variants tagged with a bare language). */
  language: { match: string; versionId: string; locale: string }[];
  /** No variant of the contact's own: the fallback locale's variant, or the base. */
  otherwise: ResolvedVariant;
}

export function localeRouting(variants: readonly LocaleVariant[], fallbackLocale: string | null, baseVersionId: string): LocaleRouting {
  const tagged = variants.filter((v): v is { id: string; locale: string } => v.locale !== null);
  return {
    exact: tagged.map((v) => ({ match: v.locale.toLowerCase(), versionId: v.id, locale: v.locale })),
    language: tagged
      .filter((v) => !v.locale.includes('-'))
      .map((v) => ({ match: v.locale.toLowerCase(), versionId: v.id, locale: v.locale })),
    otherwise: resolveVariant(null, variants, fallbackLocale, baseVersionId),
  };
}

/**
 * CASE lower(<locale column>) WHEN … THEN … END: the version id or the locale
 * of the chosen variant. Exact matches are listed before language matches,
 * as `resolveVariant` tries them.
 */
export function routingCase(
  eb: { case: () => any },
  routing: LocaleRouting,
  pick: 'versionId' | 'locale',
  localeColumn: string,
): AliasableExpression<string | null> {
  const otherwise = routing.otherwise[pick];
  if (routing.exact.length === 0 && routing.language.length === 0) return sql.val(otherwise);
  const lowered = sql`lower(${sql.ref(localeColumn)})`;
  let builder = eb.case();
  for (const v of routing.exact) {
    builder = builder.when(lowered, '=', v.match).then(sql.val(v[pick]));
  }
  for (const v of routing.language) {
    // substr(…) = 'es-' matches es-MX, es-419…; the length is a computed integer, inlined.
    builder = builder.when(sql`substr(${lowered}, 1, ${sql.lit(v.match.length + 1)})`, '=', `${v.match}-`).then(sql.val(v[pick]));
  }
  return builder.else(sql.val(otherwise)).end();
}
