import type { FastifyReply, FastifyRequest } from 'fastify';
import { isWarning } from './quota.js';
import type { QuotaService } from './quota.service.js';

/** onSend: every authenticated answer tells the tenant where it stands this month (X-Quota-*). */
export function quotaHeaders(quota: QuotaService) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (!request.principal) return payload;
    const state = await quota.headerState(request.principal.tenantId);
    reply.header('X-Quota-Limit', String(state.limit));
    reply.header('X-Quota-Used', String(state.used));
    reply.header('X-Quota-Percentage', String(state.percentage));
    if (isWarning(state)) reply.header('X-Quota-Warning', 'true');
    return payload;
  };
}
