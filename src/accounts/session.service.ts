import { randomBytes } from 'node:crypto';
import type { MemberRole } from '../db/enums.js';
import { newId } from '../shared/ids.js';
import { LruMap } from '../shared/lru-map.js';
import type { Clock } from '../shared/time.js';
import type { MembershipRepository } from './membership.repository.js';
import type { SessionRepository, SessionRow } from './session.repository.js';
import { hashToken, isWellFormedToken, newToken } from './tokens.js';

/**
 * Server-side sessions behind the `mc_session` cookie (docs/ACCOUNTS.md).
 * The cookie holds a random token; the table holds its SHA-256, the user,
 * the current tenant and the CSRF token. A session ends when it is revoked
 * (sign-out, sign-out everywhere), `idleMs` after it was last seen, or
 * `absoluteMs` after sign-in, whichever comes first. Each request reads the
 * session row (a revocation anywhere counts at once); `last_seen_at` is
 * written at most once per `touchEveryMs`. The member's role in the tenant
 * is read per request too, remembered for at most `membershipCacheMs`, so a
 * removed member's next request fails (in this process at once: the members
 * service forgets the entry).
 */
export interface SessionSettings {
  idleMs: number;
  absoluteMs: number;
  touchEveryMs: number;
  membershipCacheMs: number;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = {
  idleMs: 12 * 60 * 60_000,
  absoluteMs: 30 * 24 * 60 * 60_000,
  touchEveryMs: 60_000,
  membershipCacheMs: 2_000,
};

/** A valid session, as a request sees it. */
export interface AccountSession {
  sessionId: string;
  userId: string;
  /** The session's current tenant (null when the user belongs to none). */
  tenantId: string | null;
  csrfToken: string;
  expiresAt: string;
}

export interface StartedSession extends AccountSession {
  /** The cookie's value: returned once, never stored. */
  token: string;
}

export class SessionService {
  private readonly roles: LruMap<string, { role: MemberRole | null; until: number }>;

  constructor(
    private readonly deps: { sessions: SessionRepository; memberships: MembershipRepository; clock: Clock },
    readonly settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
    private readonly monotonic: () => number = () => performance.now(),
  ) {
    this.roles = new LruMap(10_000);
  }

  async start(userId: string, tenantId: string | null): Promise<StartedSession> {
    const now = this.deps.clock();
    const token = newToken('session');
    const row: SessionRow = {
      id: newId(),
      token_hash: hashToken(token),
      user_id: userId,
      tenant_id: tenantId,
      csrf_token: randomBytes(32).toString('base64url'),
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      expires_at: new Date(now.getTime() + this.settings.absoluteMs).toISOString(),
      revoked_at: null,
    };
    await this.deps.sessions.deleteEndedOfUser(userId, row.created_at, new Date(now.getTime() - this.settings.idleMs).toISOString());
    await this.deps.sessions.insert(row);
    return { ...toSession(row), token };
  }

  /** The session of a cookie value, or undefined for a malformed, unknown, revoked or expired one. */
  async authenticate(token: string): Promise<AccountSession | undefined> {
    if (!isWellFormedToken('session', token)) return undefined;
    const row = await this.deps.sessions.getByHash(hashToken(token));
    if (!row || row.revoked_at !== null) return undefined;
    const now = this.deps.clock();
    const nowMs = now.getTime();
    if (Date.parse(row.expires_at) <= nowMs) return undefined;
    const lastSeen = Date.parse(row.last_seen_at);
    if (lastSeen + this.settings.idleMs <= nowMs) return undefined;
    if (nowMs - lastSeen >= this.settings.touchEveryMs) await this.deps.sessions.touch(row.id, now.toISOString());
    return toSession(row);
  }

  /** The user's role in the tenant, or null when not a member (remembered for membershipCacheMs). */
  async roleIn(userId: string, tenantId: string): Promise<MemberRole | null> {
    const key = `${userId}\n${tenantId}`;
    const cached = this.roles.get(key);
    if (cached && this.monotonic() < cached.until) return cached.role;
    const membership = await this.deps.memberships.get(tenantId, userId);
    const role = membership?.role ?? null;
    if (this.settings.membershipCacheMs > 0) this.roles.set(key, { role, until: this.monotonic() + this.settings.membershipCacheMs });
    return role;
  }

  /** A membership changed in this process: its next request reads it again. */
  forgetMembership(userId: string, tenantId: string): void {
    this.roles.delete(`${userId}\n${tenantId}`);
  }

  async switchTenant(sessionId: string, tenantId: string): Promise<void> {
    await this.deps.sessions.setTenant(sessionId, tenantId);
  }

  async end(sessionId: string): Promise<void> {
    await this.deps.sessions.revoke(sessionId, this.deps.clock().toISOString());
  }

  /** Every session of the user, this one included; how many were open. */
  async endAll(userId: string): Promise<number> {
    return this.deps.sessions.revokeAllOfUser(userId, this.deps.clock().toISOString());
  }
}

const toSession = (row: SessionRow): AccountSession => ({
  sessionId: row.id,
  userId: row.user_id,
  tenantId: row.tenant_id,
  csrfToken: row.csrf_token,
  expiresAt: row.expires_at,
});
