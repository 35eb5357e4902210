import type { Transaction } from '../db/database.js';
import type { MemberRole } from '../db/enums.js';
import { AppError, validationError } from '../shared/errors.js';
import { isId, newId } from '../shared/ids.js';
import type { Clock } from '../shared/time.js';
import type { TenantRepository } from '../tenants/tenant.repository.js';
import { newTenantRow } from '../tenants/tenant.service.js';
import { normaliseUserEmail, requireNewPassword, requireUserEmail } from './account-input.js';
import type { InvitationRepository } from './invitation.repository.js';
import type { MembershipRepository } from './membership.repository.js';
import { DEFAULT_PARAMS, dummyHash, hashPassword, needsRehash, verifyPassword, type ScryptParams } from './password.js';
import type { SessionService, StartedSession } from './session.service.js';
import type { SetupTokenRepository } from './setup-token.repository.js';
import type { SignInThrottle } from './sign-in-throttle.js';
import { hashToken, isWellFormedToken, newToken } from './tokens.js';
import type { UserRepository, UserRow } from './user.repository.js';

export interface UserView {
  id: string;
  email: string;
  createdAt: string;
}

export interface TenantMembership {
  id: string;
  name: string;
  role: MemberRole;
}

/** What sign-in, setup, invitation acceptance and GET /me answer. */
export interface AccountView {
  user: UserView;
  tenants: TenantMembership[];
  currentTenantId: string | null;
  csrfToken: string;
}

export interface SignedIn extends AccountView {
  /** The cookie to set (route's business); never in a body. */
  session: StartedSession;
}

const INVALID_CREDENTIALS = () => new AppError(401, 'INVALID_CREDENTIALS', 'Wrong email or password');

/**
 * People and their sessions: sign-in (throttled, uniform answer and timing
 * for unknown addresses), GET /me, switching tenant, first-run setup and
 * accepting an invitation. Members of a tenant are managed by
 * `MemberService`; sessions by `SessionService`.
 */
export class AccountService {
  constructor(
    private readonly deps: {
      transaction: Transaction;
      users: UserRepository;
      memberships: MembershipRepository;
      tenants: TenantRepository;
      invitations: InvitationRepository;
      setupTokens: SetupTokenRepository;
      sessions: SessionService;
      throttle: SignInThrottle;
      clock: Clock;
      /** PUBLIC_URL: the setup link's base. */
      publicUrl: string;
      passwordParams?: ScryptParams;
    },
  ) {}

  private get params(): ScryptParams {
    return this.deps.passwordParams ?? DEFAULT_PARAMS;
  }

  async signIn(input: { email: string; password: string; ip: string }): Promise<SignedIn> {
    const email = normaliseUserEmail(input.email) ?? input.email.trim().toLowerCase().slice(0, 320);
    const waitMs = this.deps.throttle.retryAfterMs(email, input.ip);
    if (waitMs > 0) throw tooManyAttempts(waitMs);
    const user = normaliseUserEmail(input.email) ? await this.deps.users.getByEmail(email) : undefined;
    // An unknown address costs one hash too, so the answer's timing does not tell who has an account.
    const ok = await verifyPassword(input.password, user?.password_hash ?? (await dummyHash(this.params)));
    if (!user || !ok) {
      this.deps.throttle.failed(email, input.ip);
      throw INVALID_CREDENTIALS();
    }
    this.deps.throttle.succeeded(email);
    if (needsRehash(user.password_hash, this.params)) {
      await this.deps.users.setPasswordHash(user.id, await hashPassword(input.password, this.params), this.now());
    }
    return this.startSession(user);
  }

  /** A new session for the user, in their first tenant; the account view with it. */
  private async startSession(user: UserRow, preferredTenantId?: string): Promise<SignedIn> {
    const tenants = await this.tenantsOf(user.id);
    const current = tenants.find((t) => t.id === preferredTenantId)?.id ?? tenants[0]?.id ?? null;
    const session = await this.deps.sessions.start(user.id, current);
    return { user: toUserView(user), tenants, currentTenantId: current, csrfToken: session.csrfToken, session };
  }

  async me(session: { userId: string; tenantId: string | null; csrfToken: string }): Promise<AccountView> {
    const user = await this.deps.users.getById(session.userId);
    if (!user) throw new AppError(401, 'UNAUTHORIZED', 'This account no longer exists');
    const tenants = await this.tenantsOf(user.id);
    const current = tenants.some((t) => t.id === session.tenantId) ? session.tenantId : null;
    return { user: toUserView(user), tenants, currentTenantId: current, csrfToken: session.csrfToken };
  }

  /** Makes `tenantId` the session's current tenant; the user must be a member (403 TENANT_MISMATCH otherwise). */
  async switchTenant(session: { sessionId: string; userId: string; csrfToken: string }, tenantId: string): Promise<AccountView> {
    const membership = isId(tenantId) ? await this.deps.memberships.get(tenantId, session.userId) : undefined;
    if (!membership) throw new AppError(403, 'TENANT_MISMATCH', 'You are not a member of this tenant');
    await this.deps.sessions.switchTenant(session.sessionId, tenantId);
    return this.me({ ...session, tenantId });
  }

  private async tenantsOf(userId: string): Promise<TenantMembership[]> {
    return (await this.deps.memberships.listOfUser(userId)).map((m) => ({ id: m.tenant_id, name: m.name, role: m.role }));
  }

  // ------------------------------------------------------------ first run

  /** Setup is open while nobody has an account. */
  async setupOpen(): Promise<boolean> {
    return !(await this.deps.users.any());
  }

  /**
   * At start, when nobody has an account: a new one-time setup token (the
   * previous one stops working) and the link to print; undefined otherwise.
   */
  async issueSetupLink(): Promise<string | undefined> {
    if (!(await this.setupOpen())) {
      await this.deps.setupTokens.clear();
      return undefined;
    }
    const token = newToken('setup');
    await this.deps.setupTokens.replace(hashToken(token), this.now());
    return `${this.deps.publicUrl.replace(/\/+$/, '')}/setup?token=${token}`;
  }

  /**
   * Creates the first owner, and either a new tenant or ownership of every
   * tenant that exists (made with the CLI). The token is consumed in the same
   * transaction: of two setups at once, one wins.
   */
  async setup(input: { token: string; email: string; password: string; tenantName?: string; claimTenants?: boolean }): Promise<SignedIn> {
    if (!(await this.setupOpen())) throw setupDone();
    const email = requireUserEmail(input.email);
    requireNewPassword(input.password);
    const claim = input.claimTenants === true;
    if (claim === (input.tenantName !== undefined)) {
      throw validationError('Name a new tenant or claim the existing ones', [
        { field: 'tenantName', message: 'give either tenantName or claimTenants: true (not both)' },
      ]);
    }
    const now = this.now();
    let tenantRow: ReturnType<typeof newTenantRow> | undefined;
    if (!claim) {
      try {
        tenantRow = newTenantRow({ name: input.tenantName! }, now);
      } catch (error) {
        throw validationError('Invalid tenant name', [{ field: 'tenantName', message: (error as Error).message }]);
      }
    }
    if (!isWellFormedToken('setup', input.token)) throw invalidSetupToken();
    const passwordHash = await hashPassword(input.password, this.params);
    const user: UserRow = { id: newId(), email, password_hash: passwordHash, created_at: now, updated_at: now };
    await this.deps.transaction(async (trx) => {
      // First, a write: it serialises concurrent setups (SQLite's writer lock, PostgreSQL's row lock).
      if (!(await this.deps.setupTokens.in(trx).consume(hashToken(input.token)))) throw invalidSetupToken();
      const users = this.deps.users.in(trx);
      if (await users.any()) throw setupDone();
      await users.insert(user);
      const tenants = this.deps.tenants.in(trx);
      const memberships = this.deps.memberships.in(trx);
      const owned = tenantRow ? [tenantRow] : await tenants.list();
      if (tenantRow) await tenants.insert(tenantRow);
      if (owned.length === 0) throw new AppError(422, 'NO_TENANTS', 'There is no tenant to claim: name a new one with tenantName');
      for (const tenant of owned) {
        await memberships.upsert({ tenant_id: tenant.id, user_id: user.id, role: 'owner', created_at: now, updated_at: now });
      }
    });
    return this.startSession(user);
  }

  // ---------------------------------------------------------- invitations

  /**
   * Accepts an invitation (single use, before it expires): a new account
   * with this password, or — when the address has one — the existing
   * account, whose password must then be given. Signs the person in, in the
   * tenant they were invited to.
   */
  async acceptInvitation(input: { token: string; password: string }): Promise<SignedIn> {
    const invitation = isWellFormedToken('invitation', input.token) ? await this.deps.invitations.getByHash(hashToken(input.token)) : undefined;
    if (!invitation) throw new AppError(404, 'INVITATION_NOT_FOUND', 'This invitation link is not valid');
    if (invitation.accepted_at !== null) throw new AppError(410, 'INVITATION_USED', 'This invitation was already accepted');
    if (Date.parse(invitation.expires_at) <= this.deps.clock().getTime()) {
      throw new AppError(410, 'INVITATION_EXPIRED', 'This invitation has expired: ask for a new one');
    }
    const existing = await this.deps.users.getByEmail(invitation.email);
    let user: UserRow;
    if (existing) {
      if (!(await verifyPassword(input.password, existing.password_hash))) {
        throw new AppError(401, 'INVALID_CREDENTIALS', 'This address already has an account: give its password to accept');
      }
      user = existing;
    } else {
      requireNewPassword(input.password);
      const now = this.now();
      user = { id: newId(), email: invitation.email, password_hash: await hashPassword(input.password, this.params), created_at: now, updated_at: now };
    }
    const now = this.now();
    await this.deps.transaction(async (trx) => {
      if (!(await this.deps.invitations.in(trx).accept(invitation.id, now))) {
        throw new AppError(410, 'INVITATION_USED', 'This invitation was already accepted or has expired');
      }
      if (!existing) {
        const users = this.deps.users.in(trx);
        if (await users.getByEmail(user.email)) throw new AppError(409, 'CONFLICT', 'An account with this address was just created: sign in, then accept');
        await users.insert(user);
      }
      // Already a member: the role they have stays (an invitation never demotes).
      await this.deps.memberships
        .in(trx)
        .insertIfAbsent({ tenant_id: invitation.tenant_id, user_id: user.id, role: invitation.role, created_at: now, updated_at: now });
    });
    this.deps.sessions.forgetMembership(user.id, invitation.tenant_id);
    return this.startSession(user, invitation.tenant_id);
  }

  // ------------------------------------------------------------------ CLI

  /**
   * `mailingcore users create`: the account (when the address has none; then
   * `password` is required) and its membership in the tenant with `role`
   * (changed when it exists).
   */
  async createUser(input: { email: string; password?: string; tenantId: string; role: MemberRole }): Promise<{ user: UserView; created: boolean }> {
    const email = normaliseUserEmail(input.email);
    if (!email) throw new Error(`"${input.email}" is not an email address`);
    if (!isId(input.tenantId) || !(await this.deps.tenants.getById(input.tenantId))) throw new Error(`tenant ${input.tenantId} not found`);
    const now = this.now();
    let user = await this.deps.users.getByEmail(email);
    const created = !user;
    if (!user) {
      if (input.password === undefined) throw new Error('a password is needed for a new account');
      try {
        requireNewPassword(input.password);
      } catch (error) {
        throw new Error(`the password ${(error as AppError).details?.[0]?.message ?? 'is not acceptable'}`);
      }
      user = { id: newId(), email, password_hash: await hashPassword(input.password, this.params), created_at: now, updated_at: now };
    }
    const row = user;
    await this.deps.transaction(async (trx) => {
      if (created) await this.deps.users.in(trx).insert(row);
      await this.deps.memberships.in(trx).upsert({ tenant_id: input.tenantId, user_id: row.id, role: input.role, created_at: now, updated_at: now });
    });
    // The first account closes first-run setup: its printed link stops working.
    await this.deps.setupTokens.clear();
    return { user: toUserView(row), created };
  }

  /** Whether an account has this address (the CLI asks for a password only for a new one). */
  async hasUser(email: string): Promise<boolean> {
    const normalised = normaliseUserEmail(email);
    return normalised !== undefined && (await this.deps.users.getByEmail(normalised)) !== undefined;
  }

  /** `mailingcore users list`: every account with its memberships. */
  async listUsers(): Promise<(UserView & { tenants: TenantMembership[] })[]> {
    const users = await this.deps.users.list();
    return Promise.all(users.map(async (u) => ({ ...toUserView(u), tenants: await this.tenantsOf(u.id) })));
  }

  private now(): string {
    return this.deps.clock().toISOString();
  }
}

const toUserView = (row: UserRow): UserView => ({ id: row.id, email: row.email, createdAt: row.created_at });

const setupDone = () => new AppError(409, 'SETUP_DONE', 'Setup is done: an account exists. Sign in instead');
const invalidSetupToken = () =>
  new AppError(403, 'INVALID_SETUP_TOKEN', 'This setup link is not valid (each start prints a new one; it works once)');

function tooManyAttempts(waitMs: number): AppError {
  const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
  return new AppError(429, 'TOO_MANY_ATTEMPTS', `Too many failed sign-ins: try again in ${retryAfter} s`, undefined, { retryAfter });
}
