import { SCOPES } from '../auth/scopes.js';
import type { ApiKeyService } from '../auth/api-key.service.js';
import { newId } from '../shared/ids.js';
import type { Clock } from '../shared/time.js';
import type { TenantRepository, TenantRow } from './tenant.repository.js';

export const DEFAULT_MONTHLY_QUOTA = 100_000;

export interface Tenant {
  id: string;
  name: string;
  monthlyQuota: number;
}

export class TenantService {
  constructor(
    private readonly deps: { tenants: TenantRepository; apiKeys: ApiKeyService; clock: Clock },
  ) {}

  /** Creates a tenant and its first API key with every scope; the key is shown once. */
  async create(input: { name: string; monthlyQuota?: number }): Promise<{ tenant: Tenant; apiKey: string }> {
    const name = input.name.trim();
    if (!name || name.length > 200) throw new Error('tenant name must be 1 to 200 characters');
    const monthlyQuota = input.monthlyQuota ?? DEFAULT_MONTHLY_QUOTA;
    if (!Number.isSafeInteger(monthlyQuota) || monthlyQuota < 0) {
      throw new Error('quota must be a whole number of emails per month, 0 or more');
    }
    const now = this.deps.clock().toISOString();
    const row: TenantRow = {
      id: newId(),
      name,
      monthly_quota: monthlyQuota,
      fallback_locale: null,
      created_at: now,
      updated_at: now,
    };
    await this.deps.tenants.insert(row);
    const key = await this.deps.apiKeys.create({ tenantId: row.id, scopes: [...SCOPES], name: 'default' });
    return { tenant: { id: row.id, name: row.name, monthlyQuota: row.monthly_quota }, apiKey: key.apiKey };
  }
}
