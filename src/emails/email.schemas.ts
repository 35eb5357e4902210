import { Type, type Static } from '@sinclair/typebox';
import { MESSAGE_STATUSES } from '../db/enums.js';
import { Event } from '../events/event.schemas.js';
import { PageQuery, pageOf } from '../shared/pagination.js';
import { Nullable, StringEnum } from '../shared/schema.js';

/**
 * The transactional email API (docs/SENDING.md, "Transactional email").
 * The schema checks shapes and coarse sizes; the limits that need the
 * request as a whole (subject ≤ 998 without CR/LF, bodies ≤ 512 KiB, tags,
 * metadata ≤ 8 KiB serialised, scheduledAt ≤ 30 days ahead…) are the
 * service's (email-input.ts), so a batch item is judged by the same rules.
 */

/** An email's status: the queue's (MESSAGE_STATUSES), and SCHEDULED while it waits for its scheduled time. */
export const EMAIL_STATUSES = ['SCHEDULED', ...MESSAGE_STATUSES] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

export const SendEmailBody = Type.Object(
  {
    to: Type.String({ minLength: 1, maxLength: 320, description: 'One recipient address. When it is a contact of the tenant, the contact’s attributes and locale are used.' }),
    subject: Type.Optional(
      Type.String({ maxLength: 2000, description: 'Sent as given (not Liquid); at most 998 characters, no line breaks. Required unless `templateVersionId` supplies one.' }),
    ),
    htmlBody: Type.Optional(Type.String({ maxLength: 600_000, description: 'Sent as given (not Liquid), at most 512 KiB. Required unless `templateVersionId`.' })),
    textBody: Type.Optional(Type.String({ maxLength: 600_000, description: 'The text part, at most 512 KiB; derived from the HTML when absent.' })),
    fromEmail: Type.Optional(
      Type.String({ maxLength: 320, description: 'On one of the tenant’s VERIFIED sending domains, or the project’s / operator’s default From (422 `FROM_NOT_VERIFIED`). Default: that From.' }),
    ),
    fromName: Type.Optional(Type.String({ maxLength: 200, description: 'Display name; no control characters.' })),
    replyTo: Type.Optional(Type.String({ maxLength: 320, description: 'A valid address.' })),
    tags: Type.Optional(
      Type.Array(Type.String({ maxLength: 64 }), { maxItems: 10, description: 'Up to 10 tags of 1–64 characters from `A-Z a-z 0-9 _ . : -`; `GET /emails/logs?tag=` filters by them.' }),
    ),
    metadata: Type.Optional(
      Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), { description: 'A JSON object of your own, at most 8 KiB serialised; stored, never sent.' }),
    ),
    idempotencyKey: Type.Optional(
      Type.String({ minLength: 1, maxLength: 255, description: 'Same as the `Idempotency-Key` header (both given and different: 400). Replayed with the same request: the original id; with another: 409.' }),
    ),
    templateVersionId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'A PUBLISHED template version; locale routing picks the variant.' })),
    variables: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), { description: 'Liquid variables, merged over the contact’s attributes.' })),
    locale: Type.Optional(Type.String({ minLength: 1, maxLength: 35, description: 'Routes to a template variant; takes precedence over the contact’s locale.' })),
    projectId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'An SMTP project of the tenant to send through (default: the operator’s transport).' })),
    unsubscribeLang: Type.Optional(Type.String({ minLength: 2, maxLength: 10, description: 'Language of the unsubscribe page, when the email has an unsubscribe link.' })),
    scheduledAt: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'ISO 8601 with offset, in the future and at most 30 days ahead.' })),
    tracking: Type.Optional(
      Type.Object(
        { opens: Type.Optional(Type.Boolean()), clicks: Type.Optional(Type.Boolean()) },
        { additionalProperties: false, description: 'Open and click tracking, both off by default.' },
      ),
    ),
    bypassUnsubscribe: Type.Optional(
      Type.Boolean({ description: 'Send even though the address unsubscribed (receipts, password resets). Never past a bounce, complaint or manual suppression.' }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        to: 'ana@example.com',
        subject: 'Your receipt',
        htmlBody: '<p>Thanks for your order.</p>',
        fromEmail: 'billing@example.com',
        tags: ['receipt'],
        metadata: { orderId: 'A-1001' },
        idempotencyKey: 'order-A-1001-receipt',
      },
    ],
  },
);
export type SendEmailBody = Static<typeof SendEmailBody>;

export const SendEmailQuery = Type.Object(
  {
    sync: Type.Optional(
      Type.Boolean({ default: false, description: 'Development aid: wait (at most 10 s) for a worker to record the outcome. Never sends inline.' }),
    ),
  },
  { additionalProperties: false },
);

export const EmailAccepted = Type.Object({
  id: Type.String(),
  status: StringEnum(EMAIL_STATUSES),
  queued: Type.Boolean({ description: 'Always true: the email went through the queue.' }),
});
export type EmailAccepted = Static<typeof EmailAccepted>;

export const BatchBody = Type.Object(
  {
    emails: Type.Array(Type.Unknown({ description: 'An email with the fields of `POST /emails/send`' }), {
      minItems: 1,
      maxItems: 100,
      description: '1–100 emails, each with the fields of `POST /emails/send`, each validated on its own.',
    }),
  },
  { additionalProperties: false },
);
export type BatchBody = Static<typeof BatchBody>;

const ItemError = Type.Object({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
});

export const BatchResult = Type.Object({
  data: Type.Array(
    Type.Object({
      index: Type.Integer(),
      id: Type.Optional(Type.String()),
      status: Type.Optional(StringEnum(EMAIL_STATUSES)),
      error: Type.Optional(ItemError),
    }),
  ),
  meta: Type.Object({ queued: Type.Integer(), failed: Type.Integer() }),
});
export type BatchResult = Static<typeof BatchResult>;

export const EmailLogQuery = Type.Object(
  {
    ...PageQuery,
    status: Type.Optional(StringEnum(EMAIL_STATUSES)),
    to: Type.Optional(Type.String({ maxLength: 320 })),
    tag: Type.Optional(Type.String({ maxLength: 64 })),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Accepted at or after' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'Accepted before' })),
  },
  { additionalProperties: false },
);
export type EmailLogQuery = Static<typeof EmailLogQuery>;

export const EmailLogItem = Type.Object({
  id: Type.String(),
  toEmail: Nullable(Type.String()),
  subject: Type.String(),
  status: StringEnum(EMAIL_STATUSES),
  messageId: Nullable(Type.String({ description: 'The Message-ID the transport reported, once sent' })),
  tags: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  scheduledAt: Nullable(Type.String({ format: 'date-time' })),
  sentAt: Nullable(Type.String({ format: 'date-time' })),
  lastError: Nullable(Type.String()),
});
export type EmailLogItem = Static<typeof EmailLogItem>;
export const EmailLogPage = pageOf(EmailLogItem);

export const EmailDetail = Type.Object({
  ...EmailLogItem.properties,
  contactId: Nullable(Type.String()),
  fromEmail: Type.String(),
  fromName: Nullable(Type.String()),
  replyTo: Nullable(Type.String()),
  projectId: Nullable(Type.String()),
  templateVersionId: Nullable(Type.String()),
  locale: Nullable(Type.String()),
  metadata: Nullable(Type.Record(Type.String(), Type.Unknown())),
  tracking: Type.Object({ opens: Type.Boolean(), clicks: Type.Boolean() }),
  bypassUnsubscribe: Type.Boolean(),
  mode: StringEnum(['live', 'test'] as const, { description: '`test`: accepted with an `mc_test_` key, captured instead of sent' }),
  attempts: Type.Integer(),
  events: Type.Array(Event, { description: 'Its email.* events, oldest first (at most 100)' }),
});
export type EmailDetail = Static<typeof EmailDetail>;

export const ScheduledPage = pageOf(EmailLogItem);
export const ScheduledQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
