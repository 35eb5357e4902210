import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DB } from '../db/schema.js';
import type { MatchRow, NewContactRow, UpdatableColumn } from './contact.repository.js';

/**
 * PostgreSQL's bulk upsert of contacts: the rows are sent with
 * `COPY … FROM STDIN` (text format) into a temporary staging table, then
 * written with one `INSERT … SELECT … ON CONFLICT (tenant_id, email) DO
 * UPDATE … RETURNING` — the statement ContactRepository.upsertByEmail sends
 * with parameters, without a parameter per value to bind and parse.
 * `client` must be the connection `trx` runs on (db/client-transaction.ts).
 * The stage exists only inside the transaction (ON COMMIT DROP, dropped after
 * use), so it never outlives a failed chunk nor meets a changed schema.
 */
export async function copyUpsert(
  trx: Kysely<DB>,
  client: pg.PoolClient,
  rows: readonly NewContactRow[],
  columns: readonly UpdatableColumn[],
): Promise<MatchRow[]> {
  await sql`create temp table ${sql.id(STAGE)} (like contacts) on commit drop`.execute(trx);
  await pipeline(Readable.from(copyText(rows)), client.query(copyFrom(`copy ${STAGE} (${COLUMNS.join(', ')}) from stdin`)));
  const set = sql.join([sql`updated_at = excluded.updated_at`, ...columns.map((column) => sql`${sql.id(column)} = excluded.${sql.id(column)}`)]);
  const list = sql.join(COLUMNS.map((column) => sql.id(column)));
  const { rows: written } = await sql<MatchRow>`
    insert into contacts (${list}) select ${list} from ${sql.id(STAGE)}
    on conflict (tenant_id, email) do update set ${set}
    returning id, email, external_id`.execute(trx);
  await sql`drop table ${sql.id(STAGE)}`.execute(trx);
  return written;
}

const STAGE = 'contacts_copy_stage';

/** Every column of a contact, in the order of the COPY lines. */
const COLUMNS = [
  'id',
  'tenant_id',
  'email',
  'external_id',
  'locale',
  'opt_in',
  'attributes',
  'consent_version',
  'source',
  'project_id',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof NewContactRow)[];

/** Lines are sent in pieces of about this many characters. */
const PIECE = 64 * 1024;

/** The rows as COPY text-format lines, in pieces. */
export function* copyText(rows: readonly NewContactRow[]): Generator<string> {
  let piece = '';
  for (const row of rows) {
    piece += copyLine(row);
    if (piece.length >= PIECE) {
      yield piece;
      piece = '';
    }
  }
  if (piece.length > 0) yield piece;
}

/** One row as a COPY text-format line: fields separated by tabs, `\N` for NULL. */
export function copyLine(row: NewContactRow): string {
  let line = '';
  for (let i = 0; i < COLUMNS.length; i++) {
    const value = row[COLUMNS[i]!];
    if (i > 0) line += '\t';
    line += value === null ? '\\N' : copyField(String(value));
  }
  return `${line}\n`;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * A value as a COPY text-format field. Only the backslash, the delimiter
 * (tab) and the line ends mean something there; every other character,
 * control characters and any Unicode included, is taken as it is. A value
 * "\N" becomes "\\N", which reads back as the two characters, not NULL.
 * (NUL cannot be stored in text at all; contact values never hold one.)
 */
export function copyField(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIALS, (c) => COPY_ESCAPES[c]!) : value;
}
