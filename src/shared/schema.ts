import { Type, type TSchema } from '@sinclair/typebox';

/** `T | null`, for optional fields a PATCH may clear with null. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A string from a fixed list, as a plain JSON-schema `enum` (clear errors, clean OpenAPI). */
export const StringEnum = <T extends readonly string[]>(values: T, options: { description?: string } = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

/** A path id: anything up to 64 characters; ids that cannot exist answer 404, not 400. */
export const IdParams = Type.Object({ id: Type.String({ maxLength: 200 }) });

export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String(),
    message: Type.String(),
    path: Type.String(),
    timestamp: Type.String({ format: 'date-time' }),
    details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true },
);
