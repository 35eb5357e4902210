import { Type } from '@sinclair/typebox';
import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { ErrorResponse } from '../shared/schema.js';
import { CreateSuppressionBody, EmailParams, ListSuppressionsQuery, Suppression, SuppressionList } from './suppression.schemas.js';
import type { SuppressionService } from './suppression.service.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const read = { scope: 'suppressions:read' } as const;
const write = { scope: 'suppressions:write' } as const;

export function suppressionRoutes(app: App, { suppressions }: { suppressions: SuppressionService }): void {
  app.get(
    '/suppressions',
    {
      config: read,
      schema: {
        operationId: 'listSuppressions',
        summary: 'List suppressions',
        description: 'Cursor-paginated in address order; `q` keeps the addresses starting with it (the cursor of a search pages that search).',
        tags: ['suppressions'],
        querystring: ListSuppressionsQuery,
        response: { 200: SuppressionList, ...errors },
      },
    },
    async (request) => suppressions.list(tenantOf(request), request.query),
  );

  app.post(
    '/suppressions',
    {
      config: write,
      schema: {
        operationId: 'createSuppression',
        summary: 'Suppress an address',
        description: '201 when new; 200 when the address was already suppressed, with the row as it now is: unchanged, or with the new reason and date when a complaint or bounce replaces an unsubscribe or manual suppression.',
        tags: ['suppressions'],
        body: CreateSuppressionBody,
        response: { 200: Suppression, 201: Suppression, ...errors },
      },
    },
    async (request, reply) => {
      const { created, suppression } = await suppressions.add(tenantOf(request), request.body);
      return reply.status(created ? 201 : 200).send(suppression);
    },
  );

  app.delete(
    '/suppressions/:email',
    {
      config: write,
      schema: {
        operationId: 'deleteSuppression',
        summary: 'Remove a suppression',
        description: 'The address is URL-encoded in the path.',
        tags: ['suppressions'],
        params: EmailParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await suppressions.remove(tenantOf(request), request.params.email);
      return reply.status(204).send(null);
    },
  );
}
