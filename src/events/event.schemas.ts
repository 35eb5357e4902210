import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../shared/schema.js';
import { EVENT_TYPES } from './event-types.js';

export const EventTypeSchema = StringEnum(EVENT_TYPES);

export const ListEventsQuery = Type.Object(
  {
    type: Type.Optional(EventTypeSchema),
    campaignId: Type.Optional(Type.String({ maxLength: 64 })),
    contactId: Type.Optional(Type.String({ maxLength: 64 })),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Only events at or after this time.' })),
    order: Type.Union([Type.Literal('desc'), Type.Literal('asc')], { default: 'desc', description: '`desc`: newest first (default); `asc`: oldest first.' }),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type ListEventsQuery = Static<typeof ListEventsQuery>;

export const Event = Type.Object({
  id: Type.String(),
  type: Type.String({ description: 'One of the event types (see EventType).' }),
  createdAt: Type.String({ format: 'date-time' }),
  tenantId: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
});

export const EventList = Type.Object({
  data: Type.Array(Event),
  meta: Type.Object({ limit: Type.Integer(), nextCursor: Nullable(Type.String()) }),
});
export type EventList = Static<typeof EventList>;
