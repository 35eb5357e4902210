import { Type, type Static } from '@sinclair/typebox';
import { WEBHOOK_DELIVERY_STATUSES } from '../db/enums.js';
import { EVENT_TYPES } from '../events/event-types.js';
import { Nullable, StringEnum } from '../shared/schema.js';
import { MAX_WEBHOOK_URL_LENGTH } from './webhook-url.js';
import { MIN_SECRET_LENGTH } from './webhook-secret.js';

const Url = Type.String({
  minLength: 1,
  maxLength: MAX_WEBHOOK_URL_LENGTH,
  description: 'Where deliveries are POSTed: https (http only with WEBHOOK_ALLOW_PRIVATE), no credentials, a host outbound connections may reach.',
});
const Events = Type.Array(StringEnum(EVENT_TYPES), {
  minItems: 1,
  maxItems: 50,
  description: 'The event types to receive (duplicates are ignored).',
});

export const CreateWebhookEndpointBody = Type.Object(
  {
    url: Url,
    events: Events,
    secret: Type.Optional(
      Type.String({
        minLength: MIN_SECRET_LENGTH,
        maxLength: 256,
        pattern: '^[\\x21-\\x7e]+$',
        description: `The signing secret (at least ${MIN_SECRET_LENGTH} printable characters); generated (\`whsec_…\`) when omitted.`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateWebhookEndpointBody = Static<typeof CreateWebhookEndpointBody>;

export const UpdateWebhookEndpointBody = Type.Object(
  { url: Type.Optional(Url), events: Type.Optional(Events) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateWebhookEndpointBody = Static<typeof UpdateWebhookEndpointBody>;

export const WebhookEndpoint = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  disabledReason: Nullable(Type.String()),
  failingSince: Nullable(Type.String({ format: 'date-time', description: 'First failure since the last success.' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type WebhookEndpoint = Static<typeof WebhookEndpoint>;

export const CreatedWebhookEndpoint = Type.Object({
  ...WebhookEndpoint.properties,
  secret: Type.String({ description: 'The signing secret: shown here only, never again.' }),
});
export type CreatedWebhookEndpoint = Static<typeof CreatedWebhookEndpoint>;

const CursorMeta = Type.Object({ limit: Type.Integer(), nextCursor: Nullable(Type.String()) });

export const ListWebhookEndpointsQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type ListWebhookEndpointsQuery = Static<typeof ListWebhookEndpointsQuery>;

export const WebhookEndpointList = Type.Object({ data: Type.Array(WebhookEndpoint), meta: CursorMeta });
export type WebhookEndpointList = Static<typeof WebhookEndpointList>;

export const WebhookDeliveryStatus = StringEnum(WEBHOOK_DELIVERY_STATUSES);

export const WebhookDelivery = Type.Object({
  id: Type.String({ description: 'Also sent as X-MailingCore-Delivery-Id: the same on every attempt.' }),
  endpointId: Type.String(),
  event: Type.String({ description: 'The event type.' }),
  eventId: Type.String(),
  payload: Type.Record(Type.String(), Type.Unknown(), { description: 'The body sent: {id, type, createdAt, tenantId, data}.' }),
  status: WebhookDeliveryStatus,
  attempt: Type.Integer({ description: 'Attempts made so far.' }),
  statusCode: Nullable(Type.Integer()),
  responseBody: Nullable(Type.String({ description: 'The first 2 KiB of the last answer.' })),
  lastError: Nullable(Type.String()),
  nextAttemptAt: Nullable(Type.String({ format: 'date-time' })),
  deliveredAt: Nullable(Type.String({ format: 'date-time' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;

export const ListWebhookDeliveriesQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ maxLength: 1000 })),
    status: Type.Optional(WebhookDeliveryStatus),
  },
  { additionalProperties: false },
);
export type ListWebhookDeliveriesQuery = Static<typeof ListWebhookDeliveriesQuery>;

export const WebhookDeliveryList = Type.Object({ data: Type.Array(WebhookDelivery), meta: CursorMeta });
export type WebhookDeliveryList = Static<typeof WebhookDeliveryList>;

export const DeliveryParams = Type.Object({ id: Type.String({ maxLength: 200 }), deliveryId: Type.String({ maxLength: 200 }) });
