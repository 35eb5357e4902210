import { sql, type RawBuilder, type SqlBool } from 'kysely';

/**
 * `NOT EXISTS (a suppression of this address)`: the one rule every path that
 * may mail someone applies — the audience, re-queued failed messages.
 */
export function notSuppressed(tenantId: string, emailColumn: 'contacts.email' | 'messages.email'): RawBuilder<SqlBool> {
  return sql<SqlBool>`not exists (select 1 from suppressions where suppressions.tenant_id = ${tenantId} and suppressions.email = ${sql.ref(emailColumn)})`;
}
