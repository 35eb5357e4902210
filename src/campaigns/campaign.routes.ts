import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { ErrorResponse, IdParams } from '../shared/schema.js';
import {
  Campaign,
  CampaignPage,
  CreateCampaignBody,
  ListCampaignsQuery,
  ListMessagesQuery,
  LocaleCoverageResponse,
  MessagePage,
  MessageParams,
  RetryFailedResponse,
  ScheduleCampaignBody,
  TestSendBody,
  TestSendResponse,
  UpdateCampaignBody,
} from './campaign.schemas.js';
import type { CampaignSendService } from './campaign-send.service.js';
import type { LocaleCoverage } from './coverage.js';
import type { CampaignService } from './campaign.service.js';

const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  422: ErrorResponse,
  429: ErrorResponse,
};
const read = { scope: 'campaigns:read' } as const;
const write = { scope: 'campaigns:write' } as const;

export function campaignRoutes(
  app: App,
  {
    campaigns,
    campaignSend,
    localeCoverage,
  }: { campaigns: CampaignService; campaignSend: CampaignSendService; localeCoverage: LocaleCoverage },
): void {
  app.post(
    '/campaigns',
    { config: { ...write, idempotent: true }, schema: { tags: ['campaigns'], body: CreateCampaignBody, response: { 201: Campaign, ...errors } } },
    async (request, reply) => reply.status(201).send(await campaigns.create(tenantOf(request), request.body)),
  );

  app.get(
    '/campaigns',
    { config: read, schema: { tags: ['campaigns'], querystring: ListCampaignsQuery, response: { 200: CampaignPage, ...errors } } },
    async (request) => campaigns.list(tenantOf(request), request.query),
  );

  app.get(
    '/campaigns/:id',
    { config: read, schema: { tags: ['campaigns'], params: IdParams, response: { 200: Campaign, ...errors } } },
    async (request) => campaigns.get(tenantOf(request), request.params.id),
  );

  app.patch(
    '/campaigns/:id',
    {
      config: write,
      schema: { tags: ['campaigns'], params: IdParams, body: UpdateCampaignBody, response: { 200: Campaign, ...errors } },
    },
    async (request) => campaigns.update(tenantOf(request), request.params.id, request.body),
  );

  app.post(
    '/campaigns/:id/schedule',
    {
      config: write,
      schema: { tags: ['campaigns'], params: IdParams, body: ScheduleCampaignBody, response: { 200: Campaign, ...errors } },
    },
    async (request) => campaigns.schedule(tenantOf(request), request.params.id, request.body, request.principal!.mode),
  );

  app.post(
    '/campaigns/:id/cancel',
    {
      config: write,
      schema: { tags: ['campaigns'], params: IdParams, response: { 200: Campaign, ...errors } },
    },
    async (request) => campaigns.cancel(tenantOf(request), request.params.id),
  );

  app.post(
    '/campaigns/:id/send',
    { config: { ...write, idempotent: true }, schema: { tags: ['campaigns'], params: IdParams, response: { 202: Campaign, ...errors } } },
    async (request, reply) =>
      reply.status(202).send(await campaignSend.send(tenantOf(request), request.params.id, request.principal!.mode)),
  );

  app.post(
    '/campaigns/:id/test',
    {
      config: write,
      schema: { tags: ['campaigns'], params: IdParams, body: TestSendBody, response: { 200: TestSendResponse, ...errors } },
    },
    async (request) => ({
      results: await campaignSend.test(tenantOf(request), request.params.id, request.body.emails, request.principal!.mode),
    }),
  );

  app.get(
    '/campaigns/:id/messages',
    {
      config: read,
      schema: { tags: ['campaigns'], params: IdParams, querystring: ListMessagesQuery, response: { 200: MessagePage, ...errors } },
    },
    async (request) =>
      campaignSend.listMessages(tenantOf(request), request.params.id, request.query.status, {
        page: request.query.page,
        limit: request.query.limit,
      }),
  );

  app.get(
    '/campaigns/:id/messages/:messageId/raw',
    { config: read, schema: { tags: ['campaigns'], params: MessageParams } },
    async (request, reply) => {
      const raw = await campaignSend.capturedEmail(tenantOf(request), request.params.id, request.params.messageId);
      return reply.type('message/rfc822').send(raw);
    },
  );

  app.post(
    '/campaigns/:id/retry-failed',
    { config: write, schema: { tags: ['campaigns'], params: IdParams, response: { 200: RetryFailedResponse, ...errors } } },
    async (request) => campaignSend.retryFailed(tenantOf(request), request.params.id),
  );

  app.get(
    '/campaigns/:id/locale-coverage',
    { config: read, schema: { tags: ['campaigns'], params: IdParams, response: { 200: LocaleCoverageResponse, ...errors } } },
    async (request) => localeCoverage.forCampaign(tenantOf(request), request.params.id),
  );
}
