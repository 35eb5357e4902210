import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { ErrorResponse } from '../shared/schema.js';
import { EventList, ListEventsQuery } from './event.schemas.js';
import type { EventService } from './event.service.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse };

export function eventRoutes(app: App, { events }: { events: EventService }): void {
  app.get(
    '/events',
    {
      config: { scope: 'events:read' },
      schema: {
        operationId: 'listEvents',
        summary: 'List events',
        description:
          'The event log: what happened to messages, contacts and campaigns, newest first (`order=asc`: oldest first), cursor-paginated. ' +
          'Filters: `type`, `campaignId`, `contactId`, `since`. Events are kept EVENTS_RETENTION_DAYS (default 90).',
        tags: ['events'],
        querystring: ListEventsQuery,
        response: { 200: EventList, ...errors },
      },
    },
    async (request) => events.list(tenantOf(request), request.query),
  );
}
