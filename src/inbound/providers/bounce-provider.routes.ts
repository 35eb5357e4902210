import type { App } from '../../http/types.js';
import { tenantOf } from '../../http/types.js';
import { ErrorResponse, IdParams } from '../../shared/schema.js';
import {
  BounceProviderList,
  CreateBounceProviderBody,
  CreatedBounceProvider,
  ProviderWebhookBody,
  ProviderWebhookParams,
  ProviderWebhookResult,
} from './bounce-provider.schemas.js';
import type { BounceProviderService } from './bounce-provider.service.js';

/** A provider's webhook is a few kB; nothing legitimate comes near this. */
export const PROVIDER_WEBHOOK_BODY_LIMIT = 256 * 1024;

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const tags = ['domains'];

export function bounceProviderRoutes(app: App, { bounceProviders }: { bounceProviders: BounceProviderService }): void {
  app.post(
    '/bounce-providers',
    {
      config: { scope: 'domains:write' },
      schema: {
        operationId: 'createBounceProvider',
        summary: 'Connect a bounce provider (Postmark, Mailgun)',
        description:
          "Answers with `webhookUrl`, to paste into the provider's webhook settings (bounce and spam-complaint events). Postmark: basic-auth credentials " +
          'are generated and shown here only (in `webhookUrl` and `basicAuth`). Mailgun: give the webhook `signingKey`; it is sealed at rest and never shown. ' +
          '409 `PROVIDER_LIMIT_REACHED` past 10 integrations. See docs/DELIVERABILITY.md, "Provider webhooks".',
        tags,
        body: CreateBounceProviderBody,
        response: { 201: CreatedBounceProvider, ...errors, 409: ErrorResponse },
      },
    },
    async (request, reply) => reply.status(201).send(await bounceProviders.create(tenantOf(request), request.body)),
  );

  app.get(
    '/bounce-providers',
    {
      config: { scope: 'domains:read' },
      schema: {
        operationId: 'listBounceProviders',
        summary: 'List bounce-provider integrations',
        description: 'Oldest first. Credentials and signing keys are never shown.',
        tags,
        response: { 200: BounceProviderList, ...errors },
      },
    },
    async (request) => bounceProviders.list(tenantOf(request)),
  );

  app.delete(
    '/bounce-providers/:id',
    {
      config: { scope: 'domains:write' },
      schema: {
        operationId: 'deleteBounceProvider',
        summary: 'Delete a bounce-provider integration',
        description: 'Its receiver answers 404 from now on.',
        tags,
        params: IdParams,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      await bounceProviders.delete(tenantOf(request), request.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/inbound/providers/:provider/:integrationId',
    {
      config: { public: true },
      bodyLimit: PROVIDER_WEBHOOK_BODY_LIMIT,
      schema: {
        operationId: 'receiveProviderWebhook',
        summary: "A bounce provider's webhook (public)",
        description:
          'Called by Postmark or Mailgun, not by API clients. Postmark is verified by the basic-auth credentials of the integration; Mailgun by the ' +
          'HMAC-SHA256 `signature` of its body (timestamp within 5 minutes, each token once). 401 `UNAUTHORIZED` when that fails, 404 for an unknown ' +
          'integration, 400 for a body that is not the provider\'s, 413 over 256 KiB. Bounces and complaints are applied like DSN and ARF reports.',
        tags,
        params: ProviderWebhookParams,
        docsBody: ProviderWebhookBody,
        response: { 200: ProviderWebhookResult, 401: ErrorResponse, 404: ErrorResponse, 415: ErrorResponse },
      },
    },
    async (request) => {
      const outcome = await bounceProviders.receive(request.params.provider, request.params.integrationId, {
        authorization: request.headers.authorization,
        body: request.body,
        remoteAddress: request.ip ?? null,
      });
      return { outcome: outcome.outcome, ...('reason' in outcome ? { reason: outcome.reason } : {}) };
    },
  );
}
