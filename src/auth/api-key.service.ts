import { newId } from '../shared/ids.js';
import type { Clock } from '../shared/time.js';
import { generateApiKey, hashApiKey, isWellFormedApiKey, type KeyMode } from './api-key.js';
import type { ApiKeyRepository, ApiKeyRow } from './api-key.repository.js';
import type { Role } from './roles.js';
import type { Scope } from './scopes.js';
import { AppError, notFound } from '../shared/errors.js';
import { isId } from '../shared/ids.js';
import { VerifiedKeyCache } from './verified-key-cache.js';

export interface ApiKeyInfo {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  mode: KeyMode;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface CreatedApiKey extends ApiKeyInfo {
  /** The secret: returned once, never stored. */
  apiKey: string;
}

/** Who is calling, once a request's key — or a signed-in member's session — has been verified. */
export interface Principal {
  /** The API key's id; for a member, `user:<user id>` (what the rate limit counts by). */
  keyId: string;
  tenantId: string;
  scopes: ReadonlySet<Scope>;
  mode: KeyMode;
  /** Set when a signed-in member calls (cookie session): their user id and role in the tenant. */
  member?: { userId: string; sessionId: string; role: Role };
}

export const DEFAULT_VERIFIED_KEY_TTL_MS = 1000;

export class ApiKeyService {
  private readonly verified: VerifiedKeyCache;

  constructor(
    private readonly deps: {
      keys: ApiKeyRepository;
      /** Whether a tenant exists (TenantRepository); keys are only made for existing tenants. */
      tenants: { getById(id: string): Promise<{ id: string } | undefined> };
      clock: Clock;
    },
    /** How long a verified key is trusted without a look-up (API_KEY_CACHE_MS); 0 looks up every request. */
    verifiedKeyTtlMs = DEFAULT_VERIFIED_KEY_TTL_MS,
  ) {
    this.verified = new VerifiedKeyCache(verifiedKeyTtlMs);
  }

  async create(input: { tenantId: string; scopes: Scope[]; name?: string; mode?: KeyMode }): Promise<CreatedApiKey> {
    const tenant = await this.deps.tenants.getById(input.tenantId);
    if (!tenant) throw new Error(`tenant ${input.tenantId} not found`);
    const mode = input.mode ?? 'live';
    const generated = generateApiKey(mode);
    const row: ApiKeyRow = {
      id: newId(),
      tenant_id: tenant.id,
      name: input.name?.trim() || 'default',
      prefix: generated.prefix,
      key_hash: generated.hash,
      scopes: input.scopes.join(','),
      mode,
      created_at: this.deps.clock().toISOString(),
      last_used_at: null,
      revoked_at: null,
    };
    await this.deps.keys.insert(row);
    return { ...toInfo(row), apiKey: generated.key };
  }

  /** Throws "tenant X not found" for an unknown tenant, as create does (rather than an empty list). */
  async list(tenantId: string): Promise<ApiKeyInfo[]> {
    if (!(await this.deps.tenants.getById(tenantId))) throw new Error(`tenant ${tenantId} not found`);
    return (await this.deps.keys.listByTenant(tenantId)).map(toInfo);
  }

  /** Throws when there is no such key; revoking a revoked key is a no-op. */
  async revoke(id: string): Promise<ApiKeyInfo> {
    await this.deps.keys.revoke(id, this.deps.clock().toISOString());
    this.verified.forgetKey(id);
    const row = await this.deps.keys.getById(id);
    if (!row) throw new Error(`API key ${id} not found`);
    return toInfo(row);
  }

  /**
   * POST /tenants/{id}/api-keys: a key for the caller's tenant, never with a
   * scope the caller does not hold itself (403 SCOPE_ESCALATION naming them),
   * and never live from a test-mode key.
   */
  async issue(caller: Principal, input: { scopes: Scope[]; name?: string | undefined; mode?: KeyMode | undefined }): Promise<CreatedApiKey> {
    const beyond = [...new Set(input.scopes)].filter((scope) => !caller.scopes.has(scope));
    if (beyond.length > 0) {
      throw new AppError(403, 'SCOPE_ESCALATION', `You cannot grant a scope you do not hold: ${beyond.join(', ')}`, undefined, { scopes: beyond });
    }
    const mode = input.mode ?? caller.mode;
    if (caller.mode === 'test' && mode === 'live') {
      throw new AppError(403, 'SCOPE_ESCALATION', 'A test-mode key cannot create a live key');
    }
    return this.create({ tenantId: caller.tenantId, scopes: [...new Set(input.scopes)], name: input.name, mode });
  }

  /** DELETE /tenants/{id}/api-keys/{keyId}: 404 unless the key is the tenant's. */
  async revokeInTenant(tenantId: string, id: string): Promise<ApiKeyInfo> {
    const row = isId(id) ? await this.deps.keys.getById(id) : undefined;
    if (!row || row.tenant_id !== tenantId) throw notFound('API key');
    return this.revoke(id);
  }

  /** The key's principal, or undefined for a malformed, unknown or revoked key. */
  async verify(key: string): Promise<Principal | undefined> {
    if (!isWellFormedApiKey(key)) return undefined;
    const keyHash = hashApiKey(key);
    const cached = this.verified.get(keyHash);
    if (cached) return cached;
    const row = await this.deps.keys.getByHash(keyHash);
    if (!row || row.revoked_at !== null) return undefined;
    const principal: Principal = {
      keyId: row.id,
      tenantId: row.tenant_id,
      scopes: new Set(row.scopes.split(',') as Scope[]),
      mode: row.mode,
    };
    this.verified.remember(keyHash, principal);
    return principal;
  }
}

function toInfo(row: ApiKeyRow): ApiKeyInfo {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes.split(',') as Scope[],
    mode: row.mode,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
