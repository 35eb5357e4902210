import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { MessageStatus } from '../db/enums.js';
import type { DB, TransactionalEmailsTable } from '../db/schema.js';
import { offsetOf, type PageRequest } from '../shared/pagination.js';

export type TransactionalEmailRow = Selectable<TransactionalEmailsTable>;
export type NewTransactionalEmailRow = Insertable<TransactionalEmailsTable>;

/** A transactional email with its queue row's state. */
export interface EmailWithMessage extends TransactionalEmailRow {
  status: MessageStatus;
  attempts: number;
  sent_at: string | null;
  last_error: string | null;
  provider_message_id: string | null;
  provider_response: string | null;
}

/** The logs' filters: `status` SCHEDULED is a QUEUED message whose scheduled time is after `now`. */
export interface EmailLogFilter {
  status?: MessageStatus | 'SCHEDULED';
  to?: string;
  tag?: string;
  since?: string;
  until?: string;
  now: string;
}

/** Who is erased: a contact's emails and every email to its address. */
export interface ErasedPerson {
  contactId: string;
  email: string;
}

const MESSAGE_STATE = ['m.status', 'm.attempts', 'm.sent_at', 'm.last_error', 'm.provider_message_id', 'm.provider_response'] as const;

/**
 * The only reader and writer of `transactional_emails` (migration 0020): the
 * content and sender of each transactional email, beside its queue row in
 * `messages` (MessageRepository writes that one). Reads join the queue row
 * for the email's status, attempts and outcome. Bound to a transaction with
 * `in(trx)`.
 */
export class TransactionalEmailRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  in(trx: Kysely<DB>): TransactionalEmailRepository {
    return new TransactionalEmailRepository(trx, this.dialect);
  }

  /** Throws a unique violation when the tenant's idempotency key is taken (transactional_emails_idempotency_uq). */
  async insert(row: NewTransactionalEmailRow): Promise<void> {
    await this.db.insertInto('transactional_emails').values(row).execute();
  }

  private withMessage() {
    return this.db
      .selectFrom('transactional_emails as te')
      .innerJoin('messages as m', (join) => join.onRef('m.id', '=', 'te.message_id').onRef('m.tenant_id', '=', 'te.tenant_id'))
      .selectAll('te')
      .select([...MESSAGE_STATE]);
  }

  async getById(tenantId: string, id: string): Promise<EmailWithMessage | undefined> {
    const row = await this.withMessage().where('te.tenant_id', '=', tenantId).where('te.id', '=', id).executeTakeFirst();
    return row ? normalise(row) : undefined;
  }

  async getByIdempotencyKey(tenantId: string, key: string): Promise<EmailWithMessage | undefined> {
    const row = await this.withMessage().where('te.tenant_id', '=', tenantId).where('te.idempotency_key', '=', key).executeTakeFirst();
    return row ? normalise(row) : undefined;
  }

  /** The statuses of queue rows (the `?sync=true` wait). */
  async statusOf(tenantId: string, messageId: number): Promise<MessageStatus | undefined> {
    const row = await this.db
      .selectFrom('messages')
      .select('status')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', messageId)
      .executeTakeFirst();
    return row?.status;
  }

  /** The logs, newest first, with the total of the filter. */
  async list(tenantId: string, filter: EmailLogFilter, page: PageRequest): Promise<{ rows: EmailWithMessage[]; total: number }> {
    let query = this.db
      .selectFrom('transactional_emails as te')
      .innerJoin('messages as m', (join) => join.onRef('m.id', '=', 'te.message_id').onRef('m.tenant_id', '=', 'te.tenant_id'))
      .where('te.tenant_id', '=', tenantId);
    if (filter.status === 'SCHEDULED') {
      query = query.where('m.status', '=', 'QUEUED').where('te.scheduled_at', '>', filter.now);
    } else if (filter.status === 'QUEUED') {
      query = query.where('m.status', '=', 'QUEUED').where((eb) => eb.or([eb('te.scheduled_at', 'is', null), eb('te.scheduled_at', '<=', filter.now)]));
    } else if (filter.status) {
      query = query.where('m.status', '=', filter.status);
    }
    if (filter.to !== undefined) query = query.where('te.to_email', '=', filter.to);
    if (filter.since !== undefined) query = query.where('te.created_at', '>=', filter.since);
    if (filter.until !== undefined) query = query.where('te.created_at', '<', filter.until);
    if (filter.tag !== undefined) {
      const tag = filter.tag;
      query = query.where(
        this.dialect === 'postgres'
          ? sql<boolean>`te.tags @> ${JSON.stringify([tag])}::jsonb`
          : sql<boolean>`exists (select 1 from json_each(te.tags) where json_each.value = ${tag})`,
      );
    }
    const [rows, count] = await Promise.all([
      query
        .selectAll('te')
        .select([...MESSAGE_STATE])
        .orderBy('te.created_at', 'desc')
        .orderBy('te.id', 'desc')
        .limit(page.limit)
        .offset(offsetOf(page))
        .execute(),
      query.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows: rows.map(normalise), total: Number(count.n) };
  }

  /** Scheduled emails still waiting (QUEUED), soonest first. */
  async scheduled(tenantId: string, page: PageRequest): Promise<{ rows: EmailWithMessage[]; total: number }> {
    const query = this.db
      .selectFrom('transactional_emails as te')
      .innerJoin('messages as m', (join) => join.onRef('m.id', '=', 'te.message_id').onRef('m.tenant_id', '=', 'te.tenant_id'))
      .where('te.tenant_id', '=', tenantId)
      .where('te.scheduled_at', 'is not', null)
      .where('m.status', '=', 'QUEUED');
    const [rows, count] = await Promise.all([
      query
        .selectAll('te')
        .select([...MESSAGE_STATE])
        .orderBy('te.scheduled_at', 'asc')
        .orderBy('te.id', 'asc')
        .limit(page.limit)
        .offset(offsetOf(page))
        .execute(),
      query.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows: rows.map(normalise), total: Number(count.n) };
  }

  /**
   * GDPR erasure: the person's emails (named contact, or sent to the
   * address) keep their row for counts and lose the address, the contact,
   * the content and the metadata. Returns their queue rows' ids, for
   * MessageRepository.eraseMessages.
   */
  async erase(tenantId: string, person: ErasedPerson): Promise<number[]> {
    const rows = await this.db
      .selectFrom('transactional_emails')
      .select('message_id')
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('contact_id', '=', person.contactId), eb('to_email', '=', person.email)]))
      .orderBy('id')
      .execute();
    if (rows.length === 0) return [];
    const ids = rows.map((r) => Number(r.message_id));
    await this.db
      .updateTable('transactional_emails')
      .set({
        to_email: null,
        contact_id: null,
        subject: '',
        html_body: null,
        text_body: null,
        metadata: null,
        unsubscribe_url: null,
        request_fingerprint: null,
      })
      .where('tenant_id', '=', tenantId)
      .where('message_id', 'in', ids)
      .execute();
    return ids;
  }
}

function normalise<T extends { message_id: number | string; attempts: number | string }>(row: T): T & EmailWithMessage {
  return { ...row, message_id: Number(row.message_id), attempts: Number(row.attempts) } as T & EmailWithMessage;
}
