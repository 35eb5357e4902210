import type { Kysely, Selectable } from 'kysely';
import type { DB, WebhookEndpointsTable } from '../db/schema.js';
import { parseJsonColumn } from '../shared/json.js';

export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;

/** An enabled endpoint and the event types it takes. */
export interface Subscription {
  endpointId: string;
  tenantId: string;
  events: readonly string[];
}

/** The only writer of webhook_endpoints. Bound to a transaction with `in(trx)`. */
export class WebhookEndpointRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): WebhookEndpointRepository {
    return new WebhookEndpointRepository(trx);
  }

  /** The enabled endpoints of these tenants (EventLog: who gets a delivery of each new event). */
  async subscriptions(tenantIds: readonly string[]): Promise<Subscription[]> {
    if (tenantIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('webhook_endpoints')
      .select(['id', 'tenant_id', 'events'])
      .where('tenant_id', 'in', [...tenantIds])
      .where('enabled', '=', 1)
      .orderBy('id')
      .execute();
    return rows.map((row) => ({ endpointId: row.id, tenantId: row.tenant_id, events: parseJsonColumn<string[]>(row.events) ?? [] }));
  }
}
