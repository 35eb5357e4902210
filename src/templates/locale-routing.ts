import { sql, type RawBuilder } from 'kysely';
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
 * The routing as one SQL expression over a locale column: the version id or
 * the locale of the chosen variant. Simple CASEs, so the column (and its
 * lower-cased form) is evaluated once per CASE rather than once per WHEN: a
 * row whose locale is stored exactly as a variant's (the canonical form every
 * API path stores) is decided without calling lower() at all; otherwise its
 * lower-cased locale is compared exactly, then its language prefix
 * (`es-` matches es-MX, es-419…), as `resolveVariant` tries them.
 */
export function routingCase(routing: LocaleRouting, pick: 'versionId' | 'locale', localeColumn: string): RawBuilder<string | null> {
  const otherwise = sql<string | null>`${sql.val(routing.otherwise[pick])}`;
  if (routing.exact.length === 0 && routing.language.length === 0) return otherwise;
  const column = sql.ref(localeColumn);
  const lowered = sql`lower(${column})`;
  const whens = (entries: { match: string; value: string | null }[]) =>
    sql.join(entries.map((e) => sql`when ${e.match} then ${sql.val(e.value)}`), sql` `);

  // Language prefixes, one simple CASE per prefix length (a contact has one language, so at most one can match).
  let byLanguage: RawBuilder<string | null> = otherwise;
  const lengths = [...new Set(routing.language.map((v) => v.match.length))].sort((a, b) => b - a);
  for (const length of lengths) {
    const entries = routing.language.filter((v) => v.match.length === length).map((v) => ({ match: `${v.match}-`, value: v[pick] }));
    byLanguage = sql`case substr(${lowered}, 1, ${sql.lit(length + 1)}) ${whens(entries)} else ${byLanguage} end`;
  }
  if (routing.exact.length === 0) return byLanguage;
  const lowerExact = sql<string | null>`case ${lowered} ${whens(routing.exact.map((v) => ({ match: v.match, value: v[pick] })))} else ${byLanguage} end`;
  return sql<string | null>`case ${column} ${whens(routing.exact.map((v) => ({ match: v.locale, value: v[pick] })))} else ${lowerExact} end`;
}
