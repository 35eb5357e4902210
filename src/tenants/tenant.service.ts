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

/** What the admin CLI shows of a tenant (`tenants list` / `tenants show`). */
export interface TenantDetails extends Tenant {
  fallbackLocale: string | null;
  createdAt: string;
  updatedAt: string;
}

export class TenantNotFoundError extends Error {
  constructor(readonly tenantId: string) {
    super(`tenant ${tenantId} not found`);
  }
}

const details = (row: TenantRow): TenantDetails => ({
  id: row.id,
  name: row.name,
  monthlyQuota: row.monthly_quota,
  fallbackLocale: row.fallback_locale,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

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

  async list(): Promise<TenantDetails[]> {
    return (await this.deps.tenants.list()).map(details);
  }

  /** Throws TenantNotFoundError ("tenant X not found") when there is no such tenant. */
  async get(id: string): Promise<TenantDetails> {
    const row = await this.deps.tenants.getById(id);
    if (!row) throw new TenantNotFoundError(id);
    return details(row);
  }
}
