import { Type } from '@sinclair/typebox';
import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { ErrorResponse, IdParams } from '../shared/schema.js';
import type { ErasureService } from './erasure.service.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };

export function erasureRoutes(app: App, { erasure }: { erasure: ErasureService }): void {
  app.delete(
    '/contacts/:id',
    {
      config: { scope: 'contacts:write' },
      schema: {
        operationId: 'eraseContact',
        summary: 'Erase a contact (GDPR)',
        description:
          'Deletes the contact and every copy of its data (message history, captured emails, stored idempotent answers) and keeps the address suppressed.',
        tags: ['contacts'],
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await erasure.eraseContact(tenantOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
}
