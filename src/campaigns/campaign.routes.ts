import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { ErrorResponse, IdParams } from '../shared/schema.js';
import {
  Campaign,
  CampaignPage,
  CreateCampaignBody,
  ListCampaignsQuery,
  ScheduleCampaignBody,
  UpdateCampaignBody,
} from './campaign.schemas.js';
import type { CampaignService } from './campaign.service.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const read = { scope: 'campaigns:read' } as const;
const write = { scope: 'campaigns:write' } as const;

export function campaignRoutes(app: App, { campaigns }: { campaigns: CampaignService }): void {
  app.post(
    '/campaigns',
    { config: write, schema: { tags: ['campaigns'], body: CreateCampaignBody, response: { 201: Campaign, ...errors } } },
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
    async (request) => campaigns.schedule(tenantOf(request), request.params.id, request.body),
  );

  app.post(
    '/campaigns/:id/cancel',
    {
      config: write,
      schema: { tags: ['campaigns'], params: IdParams, response: { 200: Campaign, ...errors } },
    },
    async (request) => campaigns.cancel(tenantOf(request), request.params.id),
  );
}
