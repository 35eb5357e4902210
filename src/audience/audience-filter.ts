import { Type, type Static } from '@sinclair/typebox';
import type { ErrorDetail } from '../shared/errors.js';
import { normaliseLocale } from '../shared/locale.js';

const AttributeValue = Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]);

/** Which contacts a campaign reaches. Every key given must hold; absent keys do not filter. */
export const AudienceFilter = Type.Object(
  {
    locale: Type.Optional(Type.String({ minLength: 1, maxLength: 35, description: 'BCP 47 tag, e.g. en or es-MX' })),
    optIn: Type.Optional(Type.Boolean()),
    projectId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    attributes: Type.Optional(
      Type.Record(Type.String(), AttributeValue, {
        maxProperties: 50,
        propertyNames: { minLength: 1, maxLength: 128 },
        description: 'Each key must equal the given value (string, number or boolean)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type AudienceFilter = Static<typeof AudienceFilter>;

/**
 * The opt-in rule: campaigns only reach opted-in contacts unless their
 * filter explicitly targets `optIn: false` (e.g. a service notice).
 * Suppressed addresses — unsubscribes included — are excluded whatever the
 * filter says (audience.repository.ts).
 */
export const effectiveFilter = (filter: AudienceFilter | null): AudienceFilter => ({ optIn: true, ...(filter ?? {}) });

/** Whether a contact must (still) be opted in to receive the campaign: checked again just before each send. */
export const requiresOptIn = (filter: AudienceFilter | null): boolean => effectiveFilter(filter).optIn !== false;

/** The stored filter (campaigns.audience_filter, JSON text) back as an object; null when none. */
export function parseAudienceFilter(stored: string | null): AudienceFilter | null {
  return stored === null ? null : (JSON.parse(stored) as AudienceFilter);
}

/**
 * Pure checks the JSON schema cannot express: a well-formed BCP 47 locale
 * (stored normalised), attribute keys kept as data (no prototype). Problems
 * go to `details`; the result is what is stored.
 */
export function normaliseAudienceFilter(filter: AudienceFilter, details: ErrorDetail[], field = 'audienceFilter'): AudienceFilter {
  const out: AudienceFilter = { ...filter };
  if (filter.locale !== undefined) {
    const locale = normaliseLocale(filter.locale);
    if (!locale) details.push({ field: `${field}.locale`, message: `"${filter.locale}" is not a BCP 47 language tag` });
    else out.locale = locale;
  }
  if (filter.attributes) {
    // A plain object with no prototype: keys such as "__proto__" stay data.
    out.attributes = Object.assign(Object.create(null), filter.attributes);
  }
  return out;
}
