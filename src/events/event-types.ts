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
  'campaign.paused',
  'campaign.resumed',
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
  /** Null for a transactional email, which `emailId` names instead. */
  campaignId: string | null;
  emailId?: string;
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
      ...(subject.emailId ? { emailId: subject.emailId } : {}),
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

/** What erasure does to an event's data: keeps its shape and the ids of things, drops what names the person. */
export type Anonymise = (data: Record<string, unknown>) => Record<string, unknown>;

/** Fields that name or reach a person: erasure removes them from stored events and webhook payloads. */
const PERSONAL_FIELDS = new Set(['email', 'externalId', 'contactId', 'userAgent', 'ip']);

/** What erasure looks for inside the fields it keeps (an SMTP diagnostic or a personalised URL may quote the address). */
export interface PersonalText {
  email: string;
  externalId?: string | null;
}

const ERASED = '[erased]';
/** External ids shorter than this are not searched for in text: "42" would blank every number. */
const MIN_EXTERNAL_ID_CHARS = 4;

/** The strings erasure blanks wherever they appear: the address (as typed and URL-encoded) and the external id. */
export function personalNeedles(person: PersonalText): string[] {
  const needles = [person.email, encodeURIComponent(person.email)];
  if (person.externalId && person.externalId.length >= MIN_EXTERNAL_ID_CHARS) needles.push(person.externalId, encodeURIComponent(person.externalId));
  return [...new Set(needles)];
}

/** `text` with every needle (case-insensitive) replaced by `[erased]` (pure). */
export function scrubText(text: string, needles: readonly string[]): string {
  let out = text;
  for (const needle of needles) {
    if (needle === '') continue;
    const lower = out.toLowerCase();
    const target = needle.toLowerCase();
    if (!lower.includes(target)) continue;
    let result = '';
    let from = 0;
    for (let at = lower.indexOf(target); at >= 0; at = lower.indexOf(target, from)) {
      result += out.slice(from, at) + ERASED;
      from = at + target.length;
    }
    out = result + out.slice(from);
  }
  return out;
}

function scrubValue(value: unknown, needles: readonly string[]): unknown {
  if (typeof value === 'string') return scrubText(value, needles);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, needles));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrubValue(item, needles)]));
  }
  return value;
}

/**
 * What is left of an event's data once its contact is erased (pure): the
 * fields that name the person go, and the address or external id quoted in
 * any other field (a bounce's diagnostic, a personalised link) is blanked.
 */
export function anonymisedData(data: Record<string, unknown>, person: PersonalText): Record<string, unknown> {
  const needles = personalNeedles(person);
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) if (!PERSONAL_FIELDS.has(key)) kept[key] = scrubValue(value, needles);
  return { ...kept, erased: true };
}
