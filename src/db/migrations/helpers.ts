import { sql, type ColumnDataType, type Kysely } from 'kysely';

/**
 * Migrations import no application code: they describe tables in the two
 * dialects' own types, and the rest of the code reads them as schema.ts says.
 */
export type MigrationDialect = 'sqlite' | 'postgres';

export interface DialectMigration {
  up(db: Kysely<any>): Promise<void>;
  down(db: Kysely<any>): Promise<void>;
}

export interface ColumnTypes {
  timestamp: ColumnDataType;
  json: ColumnDataType;
  bigint: ColumnDataType;
}

export function columnTypes(dialect: MigrationDialect): ColumnTypes {
  return dialect === 'postgres'
    ? { timestamp: 'timestamptz', json: 'jsonb', bigint: 'bigint' }
    : { timestamp: 'text', json: 'text', bigint: 'integer' };
}

/** `api_keys.scopes` is a comma-separated list: `,a,b,` contains `,x,` exactly when x is one of them. */
export const holdsScope = (scope: string) => sql<boolean>`(',' || scopes || ',') like ${`%,${scope},%`}`;

/** The scopes an API key held before migration 0020: a key holding them all is one with every scope (the one created with its tenant). */
export const SCOPES_BEFORE_0020 = [
  'campaigns:read', 'campaigns:write', 'contacts:read', 'contacts:write', 'templates:read', 'templates:write',
  'suppressions:read', 'suppressions:write', 'projects:read', 'projects:write', 'events:read', 'webhooks:manage',
  'domains:read', 'domains:write',
];

/** Takes `scope` out of every key's list (a migration's down). */
export async function dropScope(db: Kysely<any>, dialect: MigrationDialect, scope: string): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ scopes: sql`${sql.raw(dialect === 'postgres' ? 'btrim' : 'trim')}(replace(',' || scopes || ',', ${`,${scope},`}, ','), ',')` })
    .where(holdsScope(scope))
    .execute();
}
