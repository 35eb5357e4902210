import { validationError, type ErrorDetail } from '../shared/errors.js';
import { normaliseAudienceFilter, type AudienceFilter } from './audience-filter.js';
import type { AudienceRepository } from './audience.repository.js';

/**
 * `POST /audience/count`: how many contacts a campaign with this filter
 * would reach now — `AudienceRepository.count`, the very query the send's
 * quota check runs (`reached`: the compiler, the opt-in rule, suppressions
 * excluded), over the filter normalised as a campaign's is.
 *
 * Called as the user types, so identical requests in flight share one query
 * (a tenant's dashboard tabs, a retry): a burst costs one count per distinct
 * filter. Its cost on 100,000 contacts is in docs/api/contacts.md ("Audience count").
 */
export class AudienceCount {
  private readonly inFlight = new Map<string, Promise<number>>();

  constructor(private readonly deps: { audience: AudienceRepository }) {}

  async count(tenantId: string, filter: AudienceFilter | null): Promise<{ count: number }> {
    const details: ErrorDetail[] = [];
    const normalised = filter === null ? null : normaliseAudienceFilter(filter, details, 'filter');
    if (details.length > 0) throw validationError('Invalid audience filter', details);
    const key = `${tenantId}\u0000${JSON.stringify(normalised)}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.deps.audience.count(tenantId, normalised).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return { count: await pending };
  }
}
