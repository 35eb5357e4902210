import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { isId } from '../shared/ids.js';
import type { Clock } from '../shared/time.js';
import { verifyUnsubscribeToken } from './token.js';

export type UnsubscribeLookup =
  | { kind: 'invalid' }
  | { kind: 'unknown' }
  | { kind: 'ok'; locale: string | null; alreadyUnsubscribed: boolean };

/**
 * The public side of an unsubscribe link. Unsubscribing sets the contact's
 * optIn to false and suppresses the address (reason `unsubscribe`) in one
 * transaction; delivery re-checks suppressions before every send, so emails
 * already queued for the address are skipped, not sent.
 */
export class UnsubscribeService {
  constructor(private readonly deps: { db: Kysely<DB>; secret: string; clock: Clock }) {}

  async lookup(token: string): Promise<UnsubscribeLookup> {
    const claims = verifyUnsubscribeToken(this.deps.secret, token);
    if (!claims) return { kind: 'invalid' };
    const contact = await this.contact(claims.tenantId, claims.contactId);
    if (!contact) return { kind: 'unknown' };
    const suppressed = await this.deps.db
      .selectFrom('suppressions')
      .select('reason')
      .where('tenant_id', '=', claims.tenantId)
      .where('email', '=', contact.email)
      .executeTakeFirst();
    return { kind: 'ok', locale: contact.locale, alreadyUnsubscribed: contact.opt_in === 0 && suppressed !== undefined };
  }

  async unsubscribe(token: string): Promise<UnsubscribeLookup> {
    const claims = verifyUnsubscribeToken(this.deps.secret, token);
    if (!claims) return { kind: 'invalid' };
    const at = this.deps.clock().toISOString();
    return this.deps.db.transaction().execute(async (trx) => {
      // The write comes first: on SQLite that makes this a write transaction from the start, so a
      // commit by another process in between cannot invalidate it (SQLITE_BUSY_SNAPSHOT).
      const contact = await trx
        .updateTable('contacts')
        .set({ opt_in: 0, updated_at: at })
        .where('tenant_id', '=', claims.tenantId)
        .where('id', '=', claims.contactId)
        .returning(['id', 'email', 'locale'])
        .executeTakeFirst();
      if (!contact) return { kind: 'unknown' } as const;
      await trx
        .insertInto('suppressions')
        .values({ tenant_id: claims.tenantId, email: contact.email, reason: 'unsubscribe', created_at: at })
        .onConflict((oc) => oc.columns(['tenant_id', 'email']).doNothing())
        .execute();
      return { kind: 'ok', locale: contact.locale, alreadyUnsubscribed: true } as const;
    });
  }

  private contact(tenantId: string, contactId: string) {
    if (!isId(contactId)) return Promise.resolve(undefined);
    return this.deps.db
      .selectFrom('contacts')
      .select(['id', 'email', 'locale', 'opt_in'])
      .where('tenant_id', '=', tenantId)
      .where('id', '=', contactId)
      .executeTakeFirst();
  }
}
