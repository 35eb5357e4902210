import type { ContactMessageRow, MessageRepository } from '../delivery/message.repository.js';
import { notFound } from '../shared/errors.js';
import { toPage, type Page, type PageRequest } from '../shared/pagination.js';
import type { ContactRepository } from './contact.repository.js';
import type { ContactMessage } from './contact.schemas.js';

/**
 * `GET /contacts/{id}/messages`: what a contact was sent, both streams,
 * newest first. The contact is looked up first (by id or externalId, within
 * the tenant): another tenant's contact and an erased one (its row is gone)
 * are 404, never an empty history.
 */
export class ContactMessages {
  constructor(private readonly deps: { contacts: ContactRepository; messages: MessageRepository }) {}

  async list(tenantId: string, ref: string, page: PageRequest): Promise<Page<ContactMessage>> {
    const contact = await this.deps.contacts.getByRef(tenantId, ref);
    if (!contact) throw notFound('Contact');
    const { rows, total } = await this.deps.messages.ofContact(tenantId, contact.id, page);
    return toPage(rows.map(toContactMessage), total, page);
  }
}

function toContactMessage(row: ContactMessageRow): ContactMessage {
  return {
    id: row.id,
    stream: row.stream,
    status: row.status,
    locale: row.locale,
    sentAt: row.sent_at,
    createdAt: row.created_at,
    campaign: row.campaign_id === null ? null : { id: row.campaign_id, name: row.campaign_name ?? '' },
    email: row.email_id === null ? null : { id: row.email_id, subject: row.email_subject ?? '' },
  };
}
