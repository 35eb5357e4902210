import { Type } from '@sinclair/typebox';
import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { ErrorResponse } from '../shared/schema.js';
import { AudienceFilter } from './audience-filter.js';
import type { AudienceCount } from './audience-count.service.js';

const AudienceCountBody = Type.Object(
  { filter: Type.Union([AudienceFilter, Type.Null()], { description: 'A campaign audience filter; null or {} for the whole opted-in audience' }) },
  { additionalProperties: false },
);
const AudienceCountResult = Type.Object({ count: Type.Integer({ minimum: 0 }) });

export function audienceRoutes(app: App, { audienceCount }: { audienceCount: AudienceCount }): void {
  app.post(
    '/audience/count',
    {
      config: { scope: 'contacts:read' },
      schema: {
        operationId: 'countAudience',
        summary: 'Count the contacts an audience filter reaches',
        description:
          'The live count of contacts a campaign with this `audienceFilter` would reach now: the same query as the send (opted-in contacts unless the filter says `optIn: false`; suppressed addresses excluded). Reads only.',
        tags: ['audience'],
        body: AudienceCountBody,
        response: { 200: AudienceCountResult, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request) => audienceCount.count(tenantOf(request), request.body.filter),
  );
}
