import { Type, type Static } from '@sinclair/typebox';
import { MESSAGE_STATUSES, MESSAGE_STREAMS } from '../db/enums.js';
import { PageMeta, PageQuery } from '../shared/pagination.js';
import { StringEnum } from '../shared/schema.js';
import { Nullable } from '../shared/schema.js';
import { SEARCH_MAX_LENGTH, SEARCH_PATTERN } from './contact-search.js';

export const MAX_LIST_LIMIT = 500;
export const MAX_BULK_ITEMS = 1000;

const Attributes = Type.Record(Type.String(), Type.Unknown(), {
  description: 'JSON object (≤ 50 top-level keys, keys ≤ 128 characters, ≤ 8 KiB serialised)',
});

// Lengths the JSON schema can check before normalisation; the rest (trimmed
// email ≤ 254, BCP 47, attribute limits) is checked in contact.input.ts.
const fields = {
  email: Type.String({ minLength: 1, maxLength: 320, description: 'Trimmed; domain lower-cased' }),
  externalId: Type.String({ minLength: 1, maxLength: 128 }),
  locale: Nullable(Type.String({ minLength: 1, maxLength: 35, description: 'BCP 47, stored normalised (es-mx → es-MX)' })),
  optIn: Type.Boolean(),
  attributes: Attributes,
  consentVersion: Nullable(Type.String({ maxLength: 64 })),
  source: Nullable(Type.String({ maxLength: 64 })),
  projectId: Nullable(Type.String({ minLength: 1, maxLength: 64 })),
};

export const UpsertContactBody = Type.Object(
  {
    email: fields.email,
    externalId: Type.Optional(fields.externalId),
    locale: Type.Optional(fields.locale),
    optIn: Type.Optional(fields.optIn),
    attributes: Type.Optional(fields.attributes),
    consentVersion: Type.Optional(fields.consentVersion),
    source: Type.Optional(fields.source),
    projectId: Type.Optional(fields.projectId),
  },
  { additionalProperties: false },
);
export type UpsertContactBody = Static<typeof UpsertContactBody>;

export const PatchContactBody = Type.Object(
  {
    email: Type.Optional(fields.email),
    externalId: Type.Optional(Nullable(fields.externalId)),
    locale: Type.Optional(fields.locale),
    optIn: Type.Optional(fields.optIn),
    attributes: Type.Optional(fields.attributes),
    consentVersion: Type.Optional(fields.consentVersion),
    source: Type.Optional(fields.source),
    projectId: Type.Optional(fields.projectId),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchContactBody = Static<typeof PatchContactBody>;

/** Items are checked one by one in the service so that a bad item fails alone. */
export const BulkContactsBody = Type.Object(
  { contacts: Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_BULK_ITEMS }) },
  { additionalProperties: false },
);
export type BulkContactsBody = Static<typeof BulkContactsBody>;

export const ListContactsQuery = Type.Object({
  page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
  limit: Type.Integer({ minimum: 1, maximum: MAX_LIST_LIMIT, default: 50 }),
  locale: Type.Optional(Type.String({ minLength: 1, maxLength: 35 })),
  optIn: Type.Optional(Type.Boolean()),
  updatedSince: Type.Optional(Type.String({ format: 'date-time' })),
  projectId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  q: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: SEARCH_MAX_LENGTH,
      pattern: SEARCH_PATTERN,
      description:
        'Search: contacts whose email or externalId starts with this (case-insensitive for ASCII letters; `%` and `_` are ordinary characters; trimmed; no control characters). Served by an index.',
    }),
  ),
  cursor: Type.Optional(
    Type.String({ maxLength: 200, description: 'Present (even empty) → cursor pagination; pass meta.nextCursor on' }),
  ),
});
export type ListContactsQuery = Static<typeof ListContactsQuery>;

export const Contact = Type.Object({
  id: Type.String(),
  email: Type.String(),
  externalId: Nullable(Type.String()),
  locale: Nullable(Type.String()),
  optIn: Type.Boolean(),
  attributes: Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true }),
  consentVersion: Nullable(Type.String()),
  source: Nullable(Type.String()),
  projectId: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type Contact = Static<typeof Contact>;

export const CursorMeta = Type.Object({ limit: Type.Integer(), nextCursor: Nullable(Type.String()) });

export const ContactList = Type.Object({ data: Type.Array(Contact), meta: Type.Union([PageMeta, CursorMeta]) });
export type ContactList = Static<typeof ContactList>;

const ItemError = Type.Object({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
});

export const BulkResult = Type.Object({
  created: Type.Integer(),
  updated: Type.Integer(),
  failed: Type.Integer(),
  results: Type.Array(
    Type.Object({
      index: Type.Integer(),
      status: Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('failed')]),
      id: Type.Optional(Type.String()),
      error: Type.Optional(ItemError),
    }),
  ),
});
export type BulkResult = Static<typeof BulkResult>;

export const ImportResult = Type.Object({
  processed: Type.Integer(),
  created: Type.Integer(),
  updated: Type.Integer(),
  failed: Type.Integer(),
  errors: Type.Array(Type.Object({ line: Type.Integer(), message: Type.String() }), {
    description: 'The first 100 problems, with the 1-based line of the input they come from',
  }),
});
export type ImportResult = Static<typeof ImportResult>;

export const ContactMessagesQuery = Type.Object({ ...PageQuery });
export type ContactMessagesQuery = Static<typeof ContactMessagesQuery>;

export const ContactMessage = Type.Object({
  id: Type.Integer({ description: 'The message (queue row) id' }),
  stream: StringEnum(MESSAGE_STREAMS, { description: '`campaign` or `transactional`' }),
  status: StringEnum(MESSAGE_STATUSES),
  locale: Nullable(Type.String()),
  sentAt: Nullable(Type.String({ format: 'date-time' })),
  createdAt: Type.String({ format: 'date-time' }),
  /** A campaign message: its campaign. */
  campaign: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
  /** A transactional email: its id (GET /emails/{id}) and subject. */
  email: Nullable(Type.Object({ id: Type.String(), subject: Type.String() })),
});
export type ContactMessage = Static<typeof ContactMessage>;

export const ContactMessageList = Type.Object({ data: Type.Array(ContactMessage), meta: PageMeta });
