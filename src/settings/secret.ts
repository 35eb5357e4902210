import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';

const KEY = 'server_secret';

/**
 * MAILINGCORE_SECRET when set; otherwise one generated on first use and kept
 * in the database, so every process sharing that database signs and
 * encrypts with the same secret. `generated` tells the caller to warn.
 */
export async function resolveSecret(
  db: Kysely<DB>,
  configured: string | undefined,
): Promise<{ secret: string; generated: boolean }> {
  if (configured) return { secret: configured, generated: false };
  await db
    .insertInto('settings')
    .values({ key: KEY, value: randomBytes(32).toString('base64url') })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db.selectFrom('settings').select('value').where('key', '=', KEY).executeTakeFirstOrThrow();
  return { secret: row.value, generated: true };
}
