import { Type } from '@sinclair/typebox';
import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { ErrorResponse } from '../shared/schema.js';
import { isWarning } from './quota.js';
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

  // Every authenticated answer tells the tenant where it stands this month.
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.principal) return payload;
    const state = await quota.headerState(request.principal.tenantId);
    reply.header('X-Quota-Limit', String(state.limit));
    reply.header('X-Quota-Used', String(state.used));
    reply.header('X-Quota-Percentage', String(state.percentage));
    if (isWarning(state)) reply.header('X-Quota-Warning', 'true');
    return payload;
  });
}
