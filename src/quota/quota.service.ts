import type { Clock } from '../shared/time.js';
import type { TenantRepository } from '../tenants/tenant.repository.js';
import { AppError } from '../shared/errors.js';
import { GRACE_PERCENT, monthOf, percentageOf, wouldExceed, type QuotaState } from './quota.js';
import type { UsageRepository } from './usage.repository.js';

/** How long the quota headers of a tenant may be served from memory. */
const HEADER_STATE_TTL_MS = 1000;

export class QuotaService {
  private readonly recent = new Map<string, { state: QuotaState; at: number }>();

  constructor(private readonly deps: { usage: UsageRepository; tenants: TenantRepository; clock: Clock }) {}

  /** Read fresh from the database (GET /usage, quota checks before sending). */
  async state(tenantId: string): Promise<QuotaState> {
    const month = monthOf(this.deps.clock());
    const [tenant, used] = await Promise.all([this.deps.tenants.getById(tenantId), this.deps.usage.used(tenantId, month)]);
    const limit = tenant?.monthly_quota ?? 0;
    const state = { month, limit, used, percentage: percentageOf(limit, used) };
    this.remember(tenantId, state);
    return state;
  }

  /**
   * For the X-Quota-* headers on every answer: at most a second old, so a busy
   * API does not pay two queries per request for them. A fan-out in this
   * process forgets the tenant's entry at once; other processes' fan-outs show
   * within the second.
   */
  async headerState(tenantId: string): Promise<QuotaState> {
    const cached = this.recent.get(tenantId);
    const now = this.deps.clock();
    if (cached && now.getTime() - cached.at < HEADER_STATE_TTL_MS && cached.state.month === monthOf(now)) {
      return cached.state;
    }
    return this.state(tenantId);
  }

  forget(tenantId: string): void {
    this.recent.delete(tenantId);
  }

  private remember(tenantId: string, state: QuotaState): void {
    if (this.recent.size > 10_000) this.recent.clear();
    this.recent.set(tenantId, { state, at: this.deps.clock().getTime() });
  }

  /**
   * 429 QUOTA_EXCEEDED when queuing an audience would pass GRACE_PERCENT (110 %) of the
   * limit. The exact audience count is a pass over the tenant's contacts with
   * the filter and the suppression check; `upperBound` (all of the tenant's
   * contacts, an index count) is tried first, and when even that fits the
   * exact count is not needed.
   */
  async assertRoomForAudience(tenantId: string, audience: { upperBound(): Promise<number>; exact(): Promise<number> }): Promise<void> {
    const state = await this.state(tenantId);
    if (!wouldExceed(state.limit, state.used, await audience.upperBound())) return;
    const more = await audience.exact();
    if (wouldExceed(state.limit, state.used, more)) {
      throw new AppError(
        429,
        'QUOTA_EXCEEDED',
        `Sending ${more} emails would exceed the monthly quota (limit ${state.limit}, used ${state.used}, at most ${GRACE_PERCENT} % allowed)`,
        undefined,
        { quota: { limit: state.limit, used: state.used, percentage: state.percentage } },
      );
    }
  }
}
