import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { ErrorDetail } from '../shared/errors.js';
import { normaliseLocale } from '../shared/locale.js';
import type { PatchContactBody, UpsertContactBody } from './contact.schemas.js';
import { UpsertContactBody as UpsertSchema } from './contact.schemas.js';
import { MAX_EMAIL_LENGTH, normaliseEmail } from '../shared/email.js';
import { printable, unstorableValues } from '../shared/storable.js';

export const ATTRIBUTE_LIMITS = { keys: 50, keyLength: 128, bytes: 8 * 1024 } as const;

/**
 * Column values for the fields a client gave. A key that is absent was not
 * given and leaves the stored value alone; `attributes`, when given, replaces
 * the stored object as a whole.
 */
export interface ContactValues {
  email?: string;
  external_id?: string | null;
  locale?: string | null;
  opt_in?: 0 | 1;
  attributes?: string;
  consent_version?: string | null;
  source?: string | null;
  project_id?: string | null;
}

/** Values for an upsert: the address is always there. */
export type UpsertValues = ContactValues & { email: string };

export type Checked<T> = { ok: true; values: T } | { ok: false; details: ErrorDetail[] };

/** Intl's canonicalisation is the slow part of an import row; tags repeat a lot. */
const localeCache = new Map<string, string | undefined>();
function cachedLocale(tag: string): string | undefined {
  if (localeCache.has(tag)) return localeCache.get(tag);
  const locale = normaliseLocale(tag);
  if (localeCache.size > 10_000) localeCache.clear();
  localeCache.set(tag, locale);
  return locale;
}

/**
 * The checks a JSON schema cannot express, on a body whose shape is already
 * valid. Every entry point (PUT, PATCH, bulk, CSV and NDJSON imports) comes
 * through here, so each refuses the same values on both engines, whatever
 * the JSON parser in front of it already refused.
 */
export function contactValues(body: UpsertContactBody | PatchContactBody, storableChecked = false): Checked<ContactValues> {
  const unstorable = storableChecked ? [] : unstorableValues(body);
  if (unstorable.length > 0) return { ok: false, details: unstorable };
  const details: ErrorDetail[] = [];
  const values: ContactValues = {};
  if (body.email !== undefined) {
    const email = normaliseEmail(body.email);
    if (!email) {
      details.push({ field: 'email', message: `must be a valid address of at most ${MAX_EMAIL_LENGTH} characters` });
    } else values.email = email;
  }
  if (body.externalId !== undefined) values.external_id = body.externalId;
  if (body.locale !== undefined) {
    if (body.locale === null) values.locale = null;
    else {
      const locale = cachedLocale(body.locale);
      if (!locale) details.push({ field: 'locale', message: `${JSON.stringify(body.locale)} is not a BCP 47 language tag` });
      else values.locale = locale;
    }
  }
  if (body.optIn !== undefined) values.opt_in = body.optIn ? 1 : 0;
  if (body.attributes !== undefined) {
    const attributes = checkAttributes(body.attributes, details);
    if (attributes !== undefined) values.attributes = attributes;
  }
  if (body.consentVersion !== undefined) values.consent_version = body.consentVersion;
  if (body.source !== undefined) values.source = body.source;
  if (body.projectId !== undefined) values.project_id = body.projectId;
  return details.length > 0 ? { ok: false, details } : { ok: true, values };
}

function checkAttributes(attributes: Record<string, unknown>, details: ErrorDetail[]): string | undefined {
  const keys = Object.keys(attributes);
  if (keys.length > ATTRIBUTE_LIMITS.keys) {
    details.push({ field: 'attributes', message: `must have at most ${ATTRIBUTE_LIMITS.keys} keys` });
    return undefined;
  }
  const badKey = keys.find((key) => key.length === 0 || key.length > ATTRIBUTE_LIMITS.keyLength);
  if (badKey !== undefined) {
    details.push({ field: 'attributes', message: `keys must be 1 to ${ATTRIBUTE_LIMITS.keyLength} characters` });
    return undefined;
  }
  const text = JSON.stringify(attributes);
  if (Buffer.byteLength(text, 'utf8') > ATTRIBUTE_LIMITS.bytes) {
    details.push({ field: 'attributes', message: `must serialise to at most ${ATTRIBUTE_LIMITS.bytes} bytes of JSON` });
    return undefined;
  }
  return text;
}

const upsertChecker = TypeCompiler.Compile(UpsertSchema);

/**
 * One item of a bulk call or an NDJSON import: shape (as the PUT body schema)
 * and then the value rules, reported per field.
 */
export function checkUpsertItem(item: unknown): Checked<UpsertValues> {
  // First, so that a NUL in an unknown key is named as such, not as an unknown field.
  const unstorable = unstorableValues(item);
  if (unstorable.length > 0) return { ok: false, details: unstorable };
  if (!upsertChecker.Check(item)) {
    const byField = new Map<string, string>();
    for (const error of upsertChecker.Errors(item)) {
      const field = printable(error.path.slice(1).replace(/\//g, '.')) || '(item)';
      if (!byField.has(field)) byField.set(field, error.message);
    }
    return { ok: false, details: [...byField].map(([field, message]) => ({ field, message })) };
  }
  return contactValues(item, true) as Checked<UpsertValues>;
}

export const describeDetails = (details: ErrorDetail[]): string =>
  details.map((d) => `${d.field}: ${d.message}`).join('; ');
