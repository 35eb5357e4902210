import { Type, type Static } from '@sinclair/typebox';
import { SEARCH_MAX_LENGTH, SEARCH_PATTERN } from '../contacts/contact-search.js';
import { Nullable, StringEnum } from '../shared/schema.js';
import { SUPPRESSION_REASONS } from './suppression.repository.js';

export const SuppressionReasonSchema = StringEnum(SUPPRESSION_REASONS);

export const CreateSuppressionBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320 }),
    reason: SuppressionReasonSchema,
  },
  { additionalProperties: false },
);
export type CreateSuppressionBody = Static<typeof CreateSuppressionBody>;

export const ListSuppressionsQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 1000 })),
  q: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: SEARCH_MAX_LENGTH,
      pattern: SEARCH_PATTERN,
      description: 'Search: addresses starting with this (case-insensitive for ASCII letters; `%` and `_` are ordinary characters; trimmed; no control characters).',
    }),
  ),
});
export type ListSuppressionsQuery = Static<typeof ListSuppressionsQuery>;

export const EmailParams = Type.Object({ email: Type.String({ maxLength: 400 }) });

export const Suppression = Type.Object({
  email: Type.String(),
  reason: SuppressionReasonSchema,
  createdAt: Type.String({ format: 'date-time' }),
});
export type Suppression = Static<typeof Suppression>;

export const SuppressionList = Type.Object({
  data: Type.Array(Suppression),
  meta: Type.Object({ limit: Type.Integer(), nextCursor: Nullable(Type.String()) }),
});
export type SuppressionList = Static<typeof SuppressionList>;
