import type { ColumnDataType, Kysely } from 'kysely';

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
