import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { ErrorResponse, IdParams } from '../shared/schema.js';
import type { CampaignStatsService } from './campaign-stats.service.js';
import { CampaignStatsResponse } from './stats.schemas.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };

export function statsRoutes(app: App, { campaignStats }: { campaignStats: CampaignStatsService }): void {
  app.get(
    '/campaigns/:id/stats',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        operationId: 'getCampaignStats',
        summary: 'Campaign stats',
        description:
          'Sent, failed, bounces, complaints, unsubscribes, opens (unique, total, machine), clicks, rates as fractions of `sent`, ' +
          'the most clicked links, per-locale figures and a timeline. Opens and clicks are written in batches: they may lag by the ' +
          'flush interval (TRACKING_FLUSH_MS, default 250 ms). docs/TRACKING.md describes every field.',
        tags: ['campaigns'],
        params: IdParams,
        response: { 200: CampaignStatsResponse, ...errors },
      },
    },
    async (request) => campaignStats.forCampaign(tenantOf(request), request.params.id),
  );
}
