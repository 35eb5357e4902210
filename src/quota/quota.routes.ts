import { Type } from '@sinclair/typebox';
import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { ErrorResponse } from '../shared/schema.js';
import type { QuotaService } from './quota.service.js';

const Usage = Type.Object({
  month: Type.String({ description: 'UTC calendar month, YYYY-MM' }),
  limit: Type.Integer(),
  used: Type.Integer(),
  percentage: Type.Number(),
});

export function quotaRoutes(app: App, { quota }: { quota: QuotaService }): void {
  app.get(
    '/usage',
    {
      config: { anyScope: true },
      schema: {
        operationId: 'getUsage',
        summary: 'Monthly usage',
        description: "The tenant's queued emails this UTC month against its quota.",
        tags: ['usage'],
        response: { 200: Usage, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request) => quota.state(tenantOf(request)),
  );
}
