import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { ContactRepository } from '../contacts/contact.repository.js';
import type { Transaction } from '../db/database.js';
import type { EventLog } from '../events/event-log.js';
import type { UnsubscribeHow } from '../events/event-types.js';
import { isId } from '../shared/ids.js';
import type { Clock } from '../shared/time.js';
import type { SuppressionRepository } from '../suppressions/suppression.repository.js';
import { verifyUnsubscribeToken } from './token.js';

export type UnsubscribeLookup =
  | { kind: 'invalid' }
  | { kind: 'unknown' }
  /** `campaignId`: the campaign whose email carried the link (null for test sends); per-campaign unsubscribe counts read it. */
  | { kind: 'ok'; locale: string | null; alreadyUnsubscribed: boolean; campaignId: string | null };

interface CampaignLookup {
  in(trx: Kysely<DB>): { getById(tenantId: string, id: string): Promise<unknown> };
}

export interface UnsubscribeDeps {
  transaction: Transaction;
  contacts: ContactRepository;
  suppressions: SuppressionRepository;
  eventLog: EventLog;
  /** Whether the link's campaign still exists (CampaignRepository; a local shape, so unsubscribe does not import campaigns). */
  campaigns: CampaignLookup;
  secret: string;
  clock: Clock;
}

/**
 * The public side of an unsubscribe link. Unsubscribing sets the contact's
 * optIn to false and suppresses the address (reason `unsubscribe`) in one
 * transaction; delivery re-checks suppressions before every send, so emails
 * already queued for the address are skipped, not sent. The first time an
 * address is suppressed this way, `contact.unsubscribed` is recorded with it
 * (`how`: the page's button is `link`, a mail client's RFC 8058 POST `one_click`).
 */
export class UnsubscribeService {
  constructor(private readonly deps: UnsubscribeDeps) {}

  async lookup(token: string): Promise<UnsubscribeLookup> {
    const claims = verifyUnsubscribeToken(this.deps.secret, token);
    if (!claims) return { kind: 'invalid' };
    const contact = isId(claims.contactId) ? await this.deps.contacts.getById(claims.tenantId, claims.contactId) : undefined;
    if (!contact) return { kind: 'unknown' };
    const suppressed = await this.deps.suppressions.isSuppressed(claims.tenantId, contact.email);
    return { kind: 'ok', locale: contact.locale, alreadyUnsubscribed: contact.opt_in === 0 && suppressed, campaignId: claims.campaignId };
  }

  async unsubscribe(token: string, how: Extract<UnsubscribeHow, 'link' | 'one_click'>): Promise<UnsubscribeLookup> {
    const claims = verifyUnsubscribeToken(this.deps.secret, token);
    if (!claims) return { kind: 'invalid' };
    if (!isId(claims.contactId)) return { kind: 'unknown' };
    const at = this.deps.clock().toISOString();
    return this.deps.transaction(async (trx) => {
      // The write comes first: on SQLite that makes this a write transaction from the start, so a
      // commit by another process in between cannot invalidate it (SQLITE_BUSY_SNAPSHOT).
      const contact = await this.deps.contacts.in(trx).optOut(claims.tenantId, claims.contactId, at);
      if (!contact) return { kind: 'unknown' } as const;
      if (await this.deps.suppressions.in(trx).suppress(claims.tenantId, contact.email, 'unsubscribe', at)) {
        await this.deps.eventLog.in(trx).record([
          {
            type: 'contact.unsubscribed',
            tenantId: claims.tenantId,
            at,
            // A link of a campaign deleted since names it in the data only: there is no campaign left to count it on.
            campaignId: claims.campaignId && (await this.deps.campaigns.in(trx).getById(claims.tenantId, claims.campaignId)) ? claims.campaignId : null,
            contactId: claims.contactId,
            data: {
              contactId: claims.contactId,
              email: contact.email,
              externalId: contact.external_id,
              locale: contact.locale,
              campaignId: claims.campaignId,
              how,
            },
          },
        ]);
      }
      return { kind: 'ok', locale: contact.locale, alreadyUnsubscribed: true, campaignId: claims.campaignId } as const;
    });
  }
}
