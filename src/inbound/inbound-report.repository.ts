import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { newId } from '../shared/ids.js';

export type ReportKind = 'bounce' | 'delayed' | 'complaint';

export interface UnmatchedReport {
  tenantId: string | null;
  receivedAt: string;
  remoteAddress: string | null;
  mailFrom: string | null;
  rcptTo: string | null;
  reason: string;
  raw: Buffer;
}

/** How much of an unmatched message is kept. */
export const UNMATCHED_RAW_BYTES = 64 * 1024;

/** The only writer of inbound_reports and bounces_unmatched. Bound to a transaction with `in(trx)`. */
export class InboundReportRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): InboundReportRepository {
    return new InboundReportRepository(trx);
  }

  /** True the first time a report of this kind is seen for this message; false for a duplicate. */
  async claim(tenantId: string, messageId: number, kind: ReportKind, at: string): Promise<boolean> {
    const rows = await this.db
      .insertInto('inbound_reports')
      .values({ tenant_id: tenantId, message_id: messageId, kind, received_at: at })
      .onConflict((oc) => oc.columns(['tenant_id', 'message_id', 'kind']).doNothing())
      .returning('message_id')
      .execute();
    return rows.length > 0;
  }

  async keepUnmatched(report: UnmatchedReport): Promise<string> {
    const id = newId();
    await this.db
      .insertInto('bounces_unmatched')
      .values({
        id,
        tenant_id: report.tenantId,
        received_at: report.receivedAt,
        remote_address: report.remoteAddress,
        mail_from: report.mailFrom?.slice(0, 320) ?? null,
        rcpt_to: report.rcptTo?.slice(0, 320) ?? null,
        reason: report.reason.slice(0, 500),
        size: report.raw.length,
        // PostgreSQL text holds no NUL byte; Latin-1 keeps every other byte as one character.
        raw: report.raw.subarray(0, UNMATCHED_RAW_BYTES).toString('latin1').replace(/\u0000/g, ''),
      })
      .execute();
    return id;
  }

  /** GDPR erasure: the tenant's kept bounces whose raw text quotes the address (case-insensitive). */
  async eraseUnmatchedQuoting(tenantId: string, email: string): Promise<number> {
    const pattern = `%${email.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const result = await this.db
      .deleteFrom('bounces_unmatched')
      .where('tenant_id', '=', tenantId)
      .where(sql<boolean>`lower(raw) like ${pattern} escape '\\'`)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async countUnmatched(tenantId?: string): Promise<number> {
    let query = this.db.selectFrom('bounces_unmatched').select((eb) => eb.fn.countAll<string | number>().as('n'));
    if (tenantId) query = query.where('tenant_id', '=', tenantId);
    return Number((await query.executeTakeFirstOrThrow()).n);
  }
}
