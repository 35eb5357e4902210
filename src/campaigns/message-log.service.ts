import type { CaptureMailer } from '../delivery/mailer.js';
import type { MessageRepository, MessageRow } from '../delivery/message.repository.js';
import type { MessageStatus, SkipReason } from '../db/enums.js';
import { notFound } from '../shared/errors.js';
import { isId } from '../shared/ids.js';
import { toPage, type Page, type PageRequest } from '../shared/pagination.js';
import type { CampaignRepository } from './campaign.repository.js';

export interface MessageView {
  id: number;
  contactId: string | null;
  email: string | null;
  locale: string | null;
  templateVersionId: string;
  status: MessageStatus;
  attempts: number;
  lastError: string | null;
  skipReason: SkipReason | null;
  providerMessageId: string | null;
  sentAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A campaign's per-recipient log, and captured emails read back. */
export class MessageLog {
  constructor(private readonly deps: { campaigns: CampaignRepository; messages: MessageRepository; capture: CaptureMailer }) {}

  async list(tenantId: string, campaignId: string, status: MessageStatus | undefined, page: PageRequest): Promise<Page<MessageView>> {
    await this.assertCampaign(tenantId, campaignId);
    const { rows, total } = await this.deps.messages.list(tenantId, campaignId, status, page);
    return toPage(rows.map(toMessageView), total, page);
  }

  /** The raw email as captured to the outbox (capture transport only). */
  async captured(tenantId: string, campaignId: string, messageId: string): Promise<Buffer> {
    await this.assertCampaign(tenantId, campaignId);
    const numeric = /^\d{1,15}$/.test(messageId) ? Number(messageId) : undefined;
    const message = numeric === undefined ? undefined : await this.deps.messages.getById(tenantId, campaignId, numeric);
    if (!message) throw notFound('Message');
    const captured = message.provider_response?.match(/^captured (.+)$/)?.[1];
    if (!captured) throw notFound('Captured email (the message was not captured, or not sent yet)');
    try {
      return await this.deps.capture.read(captured);
    } catch {
      throw notFound('Captured email (the file is gone from the outbox)');
    }
  }

  private async assertCampaign(tenantId: string, id: string): Promise<void> {
    if (!isId(id) || !(await this.deps.campaigns.getById(tenantId, id))) throw notFound('Campaign');
  }
}

function toMessageView(row: MessageRow): MessageView {
  return {
    id: Number(row.id),
    contactId: row.contact_id,
    email: row.email,
    locale: row.locale,
    templateVersionId: row.template_version_id!, // a campaign message always has one (migration 0020's check)
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    skipReason: row.skip_reason,
    providerMessageId: row.provider_message_id,
    sentAt: row.sent_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
