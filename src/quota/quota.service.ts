import type { Clock } from '../shared/time.js';
import type { TenantRepository } from '../tenants/tenant.repository.js';
import { AppError } from '../shared/errors.js';
import { monthOf, percentageOf, wouldExceed, type QuotaState } from './quota.js';
import type { UsageRepository } from './usage.repository.js';

export class QuotaService {
  constructor(private readonly deps: { usage: UsageRepository; tenants: TenantRepository; clock: Clock }) {}

  async state(tenantId: string): Promise<QuotaState> {
    const month = monthOf(this.deps.clock());
    const [tenant, used] = await Promise.all([this.deps.tenants.getById(tenantId), this.deps.usage.used(tenantId, month)]);
    const limit = tenant?.monthly_quota ?? 0;
    return { month, limit, used, percentage: percentageOf(limit, used) };
  }

  /** 429 QUOTA_EXCEEDED when queuing `more` emails would pass 110 % of the limit. */
  async assertRoomFor(tenantId: string, more: number): Promise<void> {
    const state = await this.state(tenantId);
    if (wouldExceed(state.limit, state.used, more)) {
      throw new AppError(
        429,
        'QUOTA_EXCEEDED',
        `Sending ${more} emails would exceed the monthly quota (limit ${state.limit}, used ${state.used}, at most 110 % allowed)`,
        undefined,
        { quota: { limit: state.limit, used: state.used, percentage: state.percentage } },
      );
    }
  }
}
