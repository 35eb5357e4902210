import { sql, type Expression, type Kysely, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { DB } from '../db/schema.js';
import { notSuppressed } from '../suppressions/not-suppressed.js';
import { normaliseLocale } from '../shared/locale.js';
import type { AudienceFilter } from './campaign.schemas.js';

export type AudienceDialect = 'sqlite' | 'postgres';
type AttributeValue = string | number | boolean;

/**
 * The contacts a campaign reaches: the tenant's contacts matching the filter
 * whose address is not suppressed. No columns are selected, so callers pick
 * theirs, group, or feed it to an INSERT … SELECT.
 *
 * Attribute keys and values are always bound parameters, never SQL text, and
 * JSON types are respected ("1" ≠ 1, true ≠ "true"): PostgreSQL asks
 * `attributes @> $1::jsonb` (served by the GIN index); SQLite looks each key
 * up with json_each, comparing the literal key rather than a JSON path, so
 * keys such as `x.y` or `$.a` are just keys.
 */
export function selectAudience(
  db: Kysely<DB>,
  dialect: AudienceDialect,
  tenantId: string,
  filter: AudienceFilter | null,
): SelectQueryBuilder<DB, 'contacts', {}> {
  let query = db
    .selectFrom('contacts')
    .where('contacts.tenant_id', '=', tenantId)
    .where(notSuppressed(tenantId, 'contacts.email'));
  if (!filter) return query;
  if (filter.locale !== undefined) query = query.where('contacts.locale', '=', normaliseLocale(filter.locale) ?? filter.locale);
  if (filter.optIn !== undefined) query = query.where('contacts.opt_in', '=', filter.optIn ? 1 : 0);
  if (filter.projectId !== undefined) query = query.where('contacts.project_id', '=', filter.projectId);
  const attributes = Object.entries(filter.attributes ?? {}) as [string, AttributeValue][];
  if (attributes.length === 0) return query;
  if (dialect === 'postgres') {
    return query.where(sql<SqlBool>`contacts.attributes @> ${JSON.stringify(toObject(attributes))}::jsonb`);
  }
  for (const [key, value] of attributes) query = query.where(sqliteAttributeEquals(key, value));
  return query;
}

/** JSON object from entries without a prototype, so a "__proto__" key is serialised as data. */
function toObject(entries: [string, AttributeValue][]): Record<string, AttributeValue> {
  const object = Object.create(null) as Record<string, AttributeValue>;
  for (const [key, value] of entries) object[key] = value;
  return object;
}

function sqliteAttributeEquals(key: string, value: AttributeValue): Expression<SqlBool> {
  if (typeof value === 'boolean') {
    return sql<SqlBool>`exists (select 1 from json_each(contacts.attributes) as attr where attr.key = ${key} and attr.type = ${value ? 'true' : 'false'})`;
  }
  if (typeof value === 'number') {
    return sql<SqlBool>`exists (select 1 from json_each(contacts.attributes) as attr where attr.key = ${key} and attr.type in (${'integer'}, ${'real'}) and attr.atom = ${value})`;
  }
  return sql<SqlBool>`exists (select 1 from json_each(contacts.attributes) as attr where attr.key = ${key} and attr.type = ${'text'} and attr.atom = ${value})`;
}
