import { SCOPES } from '../auth/scopes.js';
import type { ApiKeyService } from '../auth/api-key.service.js';
import { isId, newId } from '../shared/ids.js';
import { normaliseLocale } from '../shared/locale.js';
import type { Clock } from '../shared/time.js';
import type { TenantRepository, TenantRow } from './tenant.repository.js';

export const DEFAULT_MONTHLY_QUOTA = 100_000;

export interface Tenant {
  id: string;
  name: string;
  monthlyQuota: number;
  /** Locale routing's third step: contacts whose locale has no variant get this locale's variant (null: the base version). */
  fallbackLocale: string | null;
}

const toTenant = (row: TenantRow): Tenant => ({
  id: row.id,
  name: row.name,
  monthlyQuota: row.monthly_quota,
  fallbackLocale: row.fallback_locale,
});

/** A new tenant's row (validated; throws a one-line Error): the CLI's `tenants create` and first-run setup make tenants alike. */
export function newTenantRow(input: { name: string; monthlyQuota?: number | undefined }, now: string): TenantRow {
  const name = input.name.trim();
  if (!name || name.length > 200) throw new Error('tenant name must be 1 to 200 characters');
  const monthlyQuota = input.monthlyQuota ?? DEFAULT_MONTHLY_QUOTA;
  if (!Number.isSafeInteger(monthlyQuota) || monthlyQuota < 0) {
    throw new Error('quota must be a whole number of emails per month, 0 or more');
  }
  return { id: newId(), name, monthly_quota: monthlyQuota, fallback_locale: null, created_at: now, updated_at: now };
}

export const toTenantView = (row: TenantRow): Tenant => toTenant(row);

export class TenantService {
  constructor(
    private readonly deps: { tenants: TenantRepository; apiKeys: ApiKeyService; clock: Clock },
  ) {}

  /** Creates a tenant and its first API key with every scope; the key is shown once. */
  async create(input: { name: string; monthlyQuota?: number }): Promise<{ tenant: Tenant; apiKey: string }> {
    const row = newTenantRow(input, this.deps.clock().toISOString());
    await this.deps.tenants.insert(row);
    const key = await this.deps.apiKeys.create({ tenantId: row.id, scopes: [...SCOPES], name: 'default' });
    return { tenant: toTenant(row), apiKey: key.apiKey };
  }

  async get(id: string): Promise<Tenant | undefined> {
    const row = isId(id) ? await this.deps.tenants.getById(id) : undefined;
    return row ? toTenant(row) : undefined;
  }

  async list(): Promise<Tenant[]> {
    return (await this.deps.tenants.list()).map(toTenant);
  }

  /**
   * Sets (or with null clears) the tenant's fallback locale, a BCP 47 tag
   * stored normalised. Undefined when the tenant does not exist.
   */
  async setFallbackLocale(id: string, locale: string | null): Promise<Tenant | undefined> {
    let normalised: string | null = null;
    if (locale !== null) {
      normalised = normaliseLocale(locale) ?? null;
      if (!normalised) throw new Error(`"${locale}" is not a BCP 47 language tag (e.g. es, en, pt-BR)`);
    }
    if (!isId(id) || !(await this.deps.tenants.update(id, { fallback_locale: normalised, updated_at: this.deps.clock().toISOString() }))) {
      return undefined;
    }
    return this.get(id);
  }
}
