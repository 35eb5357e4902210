import { sql, type Expression, type Kysely, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { notSuppressed } from '../suppressions/not-suppressed.js';
import { normaliseLocale } from '../shared/locale.js';
import { effectiveFilter, type AudienceFilter } from './audience-filter.js';

type AttributeValue = string | number | boolean;
type ContactQuery = SelectQueryBuilder<DB, 'contacts', {}>;

/**
 * The audience compiler: a filter as SQL over the contacts table, for the
 * fan-out, the quota check, locale coverage and the contacts list. Reads
 * only; the contacts table itself belongs to ContactRepository.
 *
 * Attribute keys and values are always bound parameters, never SQL text, and
 * JSON types are respected ("1" ≠ 1, true ≠ "true"): PostgreSQL asks
 * `attributes @> $1::jsonb` (served by the GIN index); SQLite looks each key
 * up with json_each, comparing the literal key rather than a JSON path, so
 * keys such as `x.y` or `$.a` are just keys.
 */
export class AudienceRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  in(trx: Kysely<DB>): AudienceRepository {
    return new AudienceRepository(trx, this.dialect);
  }

  /**
   * The contacts a campaign with this filter reaches: the opt-in rule
   * applied, suppressed addresses excluded. No columns are selected, so
   * callers pick theirs, group, or feed it to an INSERT … SELECT.
   */
  reached(tenantId: string, filter: AudienceFilter | null): ContactQuery {
    return selectMatching(this.db, this.dialect, tenantId, effectiveFilter(filter));
  }

  /** How many contacts a campaign with this filter would reach now. */
  async count(tenantId: string, filter: AudienceFilter | null): Promise<number> {
    const row = await this.reached(tenantId, filter)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** All of the tenant's contacts: an upper bound of any audience, counted from an index. */
  async countAll(tenantId: string): Promise<number> {
    const row = await this.db
      .selectFrom('contacts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The reached contacts grouped by locale (null: no locale); only these locales when `only` is given. */
  async countByLocale(
    tenantId: string,
    filter: AudienceFilter | null,
    only?: readonly string[],
  ): Promise<{ locale: string | null; count: number }[]> {
    let query = this.reached(tenantId, filter);
    if (only) {
      if (only.length === 0) return [];
      query = query.where('contacts.locale', 'in', only);
    }
    const groups = await query
      .select((eb) => ['contacts.locale', eb.fn.countAll<number>().as('count')])
      .groupBy('contacts.locale')
      .execute();
    return groups.map((g) => ({ locale: g.locale, count: Number(g.count) }));
  }

  /** Every locale the tenant's contacts have (from the (tenant_id, locale) index), whatever the filter. */
  async localesOf(tenantId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('contacts')
      .select('locale')
      .distinct()
      .where('tenant_id', '=', tenantId)
      .where('locale', 'is not', null)
      .execute();
    return rows.map((r) => r.locale!);
  }
}

/** The tenant's contacts matching the filter exactly as given (no opt-in default) whose address is not suppressed. */
export function selectMatching(db: Kysely<DB>, dialect: Dialect, tenantId: string, filter: AudienceFilter | null): ContactQuery {
  const query = db.selectFrom('contacts').where('contacts.tenant_id', '=', tenantId).where(notSuppressed(tenantId, 'contacts.email'));
  return filter ? whereFilter(query, dialect, filter) : query;
}

/** The filter's conditions on a contacts query, as given (no opt-in default): shared with the contacts list. */
export function whereFilter<Q extends ContactQuery>(query: Q, dialect: Dialect, filter: AudienceFilter): Q {
  let q: ContactQuery = query;
  if (filter.locale !== undefined) q = q.where('contacts.locale', '=', normaliseLocale(filter.locale) ?? filter.locale);
  if (filter.optIn !== undefined) q = q.where('contacts.opt_in', '=', filter.optIn ? 1 : 0);
  if (filter.projectId !== undefined) q = q.where('contacts.project_id', '=', filter.projectId);
  const attributes = Object.entries(filter.attributes ?? {}) as [string, AttributeValue][];
  if (attributes.length === 0) return q as Q;
  if (dialect === 'postgres') {
    return q.where(sql<SqlBool>`contacts.attributes @> ${JSON.stringify(toObject(attributes))}::jsonb`) as Q;
  }
  for (const [key, value] of attributes) q = q.where(sqliteAttributeEquals(key, value));
  return q as Q;
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
