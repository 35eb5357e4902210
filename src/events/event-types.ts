/**
 * The event vocabulary (named as in the MailingCore docs). `email.delivered`
 * is accepted in subscriptions but only emitted where a later signal
 * confirms delivery (docs/WEBHOOKS.md); `webhook.test` is sent only by
 * `POST /webhooks/endpoints/{id}/test` and never logged.
 */
export const EVENT_TYPES = [
  'email.sent',
  'email.delivered',
  'email.failed',
  'email.bounced',
  'email.complained',
  'email.opened',
  'email.clicked',
  'contact.unsubscribed',
  'contact.erased',
  'campaign.sending',
  'campaign.sent',
  'campaign.cancelled',
  'webhook.endpoint_disabled',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const isEventType = (value: string): value is EventType => (EVENT_TYPES as readonly string[]).includes(value);

/** How a contact came to be unsubscribed (`contact.unsubscribed`'s `data.how`). */
export type UnsubscribeHow = 'link' | 'one_click' | 'api' | 'erasure';

/** An event about to be written: the change's transaction records it (EventLog.record). */
export interface NewEvent {
  type: EventType;
  tenantId: string;
  at: string;
  campaignId?: string | null;
  contactId?: string | null;
  messageId?: number | null;
  data: Record<string, unknown>;
}

/** An event as the API and webhooks show it. */
export interface PublicEvent {
  id: string;
  type: string;
  createdAt: string;
  tenantId: string;
  data: Record<string, unknown>;
}

/** Who a message event is about, as the worker (or tracking) read it. */
export interface MessageSubject {
  tenantId: string;
  campaignId: string;
  messageId: number;
  contactId: string | null;
  email: string | null;
  externalId: string | null;
  locale: string | null;
  templateVersionId: string | null;
}

/** An `email.*` event: the ids a receiver needs, then what is particular to the type. */
export function messageEvent(type: EventType, subject: MessageSubject, at: string, extra: Record<string, unknown> = {}): NewEvent {
  return {
    type,
    tenantId: subject.tenantId,
    at,
    campaignId: subject.campaignId,
    contactId: subject.contactId,
    messageId: subject.messageId,
    data: {
      campaignId: subject.campaignId,
      messageId: subject.messageId,
      contactId: subject.contactId,
      email: subject.email,
      externalId: subject.externalId,
      locale: subject.locale,
      templateVersionId: subject.templateVersionId,
      ...extra,
    },
  };
}

/** Fields that name or reach a person: erasure removes them from stored events and webhook payloads. */
const PERSONAL_FIELDS = new Set(['email', 'externalId', 'contactId', 'userAgent', 'ip']);

/** What is left of an event's data once its contact is erased (pure). */
export function anonymisedData(data: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) if (!PERSONAL_FIELDS.has(key)) kept[key] = value;
  return { ...kept, erased: true };
}
