import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { ErrorResponse, IdParams } from '../shared/schema.js';
import {
  CreateWebhookEndpointBody,
  CreatedWebhookEndpoint,
  DeliveryParams,
  ListWebhookDeliveriesQuery,
  ListWebhookEndpointsQuery,
  UpdateWebhookEndpointBody,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookEndpoint,
  WebhookEndpointList,
} from './webhook.schemas.js';
import type { WebhookService } from './webhook.service.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const manage = { scope: 'webhooks:manage' } as const;
const tags = ['webhooks'];
const HOST_RULES =
  '422 `HOST_NOT_ALLOWED` when the URL\'s host is (or resolves to) an address outbound connections may not reach: loopback, private, ' +
  'link-local (cloud metadata), CGNAT, multicast, reserved — unless WEBHOOK_ALLOW_PRIVATE or ALLOW_PRIVATE_NETWORKS allows private ones. ' +
  'The address is checked again at every delivery.';

export function webhookRoutes(app: App, { webhooks }: { webhooks: WebhookService }): void {
  app.post(
    '/webhooks/endpoints',
    {
      config: manage,
      schema: {
        operationId: 'createWebhookEndpoint',
        summary: 'Register a webhook endpoint',
        description:
          'The answer carries the signing `secret` (generated `whsec_…` unless given): it is shown here only. `https:` URLs only ' +
          `(plain \`http:\` with WEBHOOK_ALLOW_PRIVATE), no credentials in the URL. ${HOST_RULES} 409 \`ENDPOINT_LIMIT_REACHED\` past 20 endpoints.`,
        tags,
        body: CreateWebhookEndpointBody,
        response: { 201: CreatedWebhookEndpoint, ...errors, 409: ErrorResponse, 422: ErrorResponse },
      },
    },
    async (request, reply) => reply.status(201).send(await webhooks.create(tenantOf(request), request.body)),
  );

  app.get(
    '/webhooks/endpoints',
    {
      config: manage,
      schema: {
        operationId: 'listWebhookEndpoints',
        summary: 'List webhook endpoints',
        description: 'Oldest first, cursor-paginated. Secrets are never shown.',
        tags,
        querystring: ListWebhookEndpointsQuery,
        response: { 200: WebhookEndpointList, ...errors },
      },
    },
    async (request) => webhooks.list(tenantOf(request), request.query),
  );

  app.get(
    '/webhooks/endpoints/:id',
    {
      config: manage,
      schema: { operationId: 'getWebhookEndpoint', summary: 'Get a webhook endpoint', tags, params: IdParams, response: { 200: WebhookEndpoint, ...errors } },
    },
    async (request) => webhooks.get(tenantOf(request), request.params.id),
  );

  app.patch(
    '/webhooks/endpoints/:id',
    {
      config: manage,
      schema: {
        operationId: 'updateWebhookEndpoint',
        summary: 'Change a webhook endpoint’s URL or events',
        description: `Events queued before the change keep going to the endpoint (at its new URL). ${HOST_RULES}`,
        tags,
        params: IdParams,
        body: UpdateWebhookEndpointBody,
        response: { 200: WebhookEndpoint, ...errors, 422: ErrorResponse },
      },
    },
    async (request) => webhooks.update(tenantOf(request), request.params.id, request.body),
  );

  app.patch(
    '/webhooks/endpoints/:id/toggle',
    {
      config: manage,
      schema: {
        operationId: 'toggleWebhookEndpoint',
        summary: 'Enable or disable a webhook endpoint',
        description:
          'Flips `enabled` and answers with the endpoint. A disabled endpoint is queued no new events; what was queued waits and is sent once it is enabled again. ' +
          'Enabling clears `failingSince` and `disabledReason`.',
        tags,
        params: IdParams,
        response: { 200: WebhookEndpoint, ...errors },
      },
    },
    async (request) => webhooks.toggle(tenantOf(request), request.params.id),
  );

  app.delete(
    '/webhooks/endpoints/:id',
    {
      config: manage,
      schema: {
        operationId: 'deleteWebhookEndpoint',
        summary: 'Delete a webhook endpoint',
        description: 'Its deliveries (pending ones included) are deleted with it.',
        tags,
        params: IdParams,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      await webhooks.delete(tenantOf(request), request.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/webhooks/endpoints/:id/test',
    {
      config: manage,
      schema: {
        operationId: 'testWebhookEndpoint',
        summary: 'Send a test event',
        description:
          'Sends a signed `webhook.test` event now (waiting up to WEBHOOK_TIMEOUT_MS for the answer) and answers with the delivery: ' +
          '`status` `delivered` or `failed`, `statusCode`, `responseBody`, `lastError`. Not retried, not logged as an event.',
        tags,
        params: IdParams,
        response: { 200: WebhookDelivery, ...errors },
      },
    },
    async (request) => webhooks.test(tenantOf(request), request.params.id),
  );

  app.get(
    '/webhooks/endpoints/:id/deliveries',
    {
      config: manage,
      schema: {
        operationId: 'listWebhookDeliveries',
        summary: 'List an endpoint’s deliveries',
        description: 'Newest first, cursor-paginated, optionally by `status`. Finished deliveries are kept EVENTS_RETENTION_DAYS (default 90).',
        tags,
        params: IdParams,
        querystring: ListWebhookDeliveriesQuery,
        response: { 200: WebhookDeliveryList, ...errors },
      },
    },
    async (request) => webhooks.listDeliveries(tenantOf(request), request.params.id, request.query),
  );

  app.post(
    '/webhooks/endpoints/:id/deliveries/:deliveryId/retry',
    {
      config: manage,
      schema: {
        operationId: 'retryWebhookDelivery',
        summary: 'Send a delivery again',
        description:
          'Puts a `failed` delivery (or a `pending` one waiting for its next attempt) back in the queue, due now; a worker sends it within ' +
          'moments, with the same delivery id. Answers 202 with the delivery. 409 `INVALID_STATE` for a delivered one, 409 `ENDPOINT_DISABLED` ' +
          'while the endpoint is disabled.',
        tags,
        params: DeliveryParams,
        response: { 202: WebhookDelivery, ...errors, 409: ErrorResponse },
      },
    },
    async (request, reply) => reply.status(202).send(await webhooks.retry(tenantOf(request), request.params.id, request.params.deliveryId)),
  );
}
