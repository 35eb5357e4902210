import type { Transaction } from '../db/database.js';
import type { MemberRole } from '../db/enums.js';
import { AppError, notFound } from '../shared/errors.js';
import { isId, newId } from '../shared/ids.js';
import type { Clock } from '../shared/time.js';
import type { TenantRepository } from '../tenants/tenant.repository.js';
import { requireUserEmail } from './account-input.js';
import type { InvitationMail } from './invitation-mail.js';
import type { InvitationRepository, InvitationRow } from './invitation.repository.js';
import { refuseMemberChange, type ActorRole } from './member-rules.js';
import type { MemberRow, MembershipRepository } from './membership.repository.js';
import type { SessionService } from './session.service.js';
import { hashToken, newToken } from './tokens.js';
import type { UserRepository } from './user.repository.js';

export const INVITATION_TTL_MS = 7 * 24 * 60 * 60_000;

/** Who asks: a signed-in member (with their role) or an API key with members:manage (acts as an admin). */
export interface Actor {
  role: ActorRole;
  userId: string | null;
}

export interface MemberView {
  userId: string;
  email: string;
  role: MemberRole;
  since: string;
}

export interface InvitationView {
  id: string;
  email: string;
  role: MemberRole;
  createdAt: string;
  expiresAt: string;
}

/** A tenant's members and invitations (GET/POST/PATCH/DELETE /tenants/{id}/members). */
export class MemberService {
  constructor(
    private readonly deps: {
      transaction: Transaction;
      users: UserRepository;
      memberships: MembershipRepository;
      invitations: InvitationRepository;
      tenants: TenantRepository;
      sessions: SessionService;
      mail: InvitationMail;
      clock: Clock;
    },
  ) {}

  async list(tenantId: string): Promise<{ data: MemberView[]; invitations: InvitationView[] }> {
    const members = await this.deps.memberships.listOfTenant(tenantId);
    const invitations = await this.deps.invitations.listPending(tenantId, this.now());
    return { data: members.map(toMemberView), invitations: invitations.map(toInvitationView) };
  }

  /** Invites an address (an email with a one-time link, valid 7 days). 409 when it already belongs to a member. */
  async invite(actor: Actor, tenantId: string, input: { email: string; role: MemberRole }): Promise<InvitationView> {
    const email = requireUserEmail(input.email);
    const refusal = refuseMemberChange(actor.role, { newRole: input.role });
    if (refusal) throw refusal;
    const tenant = await this.deps.tenants.getById(tenantId);
    if (!tenant) throw notFound('Tenant');
    const user = await this.deps.users.getByEmail(email);
    if (user && (await this.deps.memberships.get(tenantId, user.id))) {
      throw new AppError(409, 'ALREADY_MEMBER', `${email} is already a member of this tenant`);
    }
    const inviter = actor.userId ? await this.deps.users.getById(actor.userId) : undefined;
    const token = newToken('invitation');
    const now = this.deps.clock();
    const row: InvitationRow = {
      id: newId(),
      token_hash: hashToken(token),
      tenant_id: tenantId,
      email,
      role: input.role,
      invited_by: inviter?.id ?? null,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + INVITATION_TTL_MS).toISOString(),
      accepted_at: null,
    };
    await this.deps.invitations.insert(row);
    await this.deps.mail.send({
      invitationId: row.id,
      to: email,
      tenantName: tenant.name,
      role: row.role,
      invitedBy: inviter?.email ?? null,
      token,
      expiresAt: row.expires_at,
    });
    return toInvitationView(row);
  }

  /**
   * Sends a not yet accepted invitation again with a new link (valid 7 days
   * from now); the previous link stops working. Only an owner touches an
   * owner's invitation (403 OWNER_PROTECTED).
   */
  async resendInvitation(actor: Actor, tenantId: string, invitationId: string): Promise<InvitationView> {
    const invitation = await this.openInvitation(actor, tenantId, invitationId);
    const tenant = await this.deps.tenants.getById(tenantId);
    if (!tenant) throw notFound('Tenant');
    const token = newToken('invitation');
    const expiresAt = new Date(this.deps.clock().getTime() + INVITATION_TTL_MS).toISOString();
    if (!(await this.deps.invitations.renew(tenantId, invitation.id, { token_hash: hashToken(token), expires_at: expiresAt }))) {
      throw notFound('Invitation');
    }
    const inviter = actor.userId ? await this.deps.users.getById(actor.userId) : undefined;
    await this.deps.mail.send({
      invitationId: invitation.id,
      to: invitation.email,
      tenantName: tenant.name,
      role: invitation.role,
      invitedBy: inviter?.email ?? null,
      token,
      expiresAt,
    });
    return toInvitationView({ ...invitation, expires_at: expiresAt });
  }

  /** Cancels a not yet accepted invitation: its link stops working. */
  async cancelInvitation(actor: Actor, tenantId: string, invitationId: string): Promise<void> {
    const invitation = await this.openInvitation(actor, tenantId, invitationId);
    if (!(await this.deps.invitations.deleteOpen(tenantId, invitation.id))) throw notFound('Invitation');
  }

  private async openInvitation(actor: Actor, tenantId: string, invitationId: string): Promise<InvitationRow> {
    const invitation = isId(invitationId) ? await this.deps.invitations.getOpen(tenantId, invitationId) : undefined;
    if (!invitation) throw notFound('Invitation');
    const refusal = refuseMemberChange(actor.role, { targetRole: invitation.role });
    if (refusal) throw refusal;
    return invitation;
  }

  async changeRole(actor: Actor, tenantId: string, userId: string, role: MemberRole): Promise<MemberView> {
    await this.change(actor, tenantId, userId, role);
    const member = (await this.deps.memberships.listOfTenant(tenantId)).find((m) => m.user_id === userId);
    if (!member) throw notFound('Member');
    return toMemberView(member);
  }

  async remove(actor: Actor, tenantId: string, userId: string): Promise<void> {
    await this.change(actor, tenantId, userId, undefined);
  }

  /**
   * A role change (`role`) or a removal (undefined), in one transaction that
   * locks the tenant's owners first and refuses to leave none (409 LAST_OWNER).
   */
  private async change(actor: Actor, tenantId: string, userId: string, role: MemberRole | undefined): Promise<void> {
    const current = isId(userId) ? await this.deps.memberships.get(tenantId, userId) : undefined;
    if (!current) throw notFound('Member');
    const refusal = refuseMemberChange(actor.role, { targetRole: current.role, newRole: role });
    if (refusal) throw refusal;
    const now = this.now();
    await this.deps.transaction(async (trx) => {
      const memberships = this.deps.memberships.in(trx);
      await memberships.lockOwners(tenantId);
      // Read again under the lock: the role it has now decides whether an owner is leaving.
      const locked = await memberships.get(tenantId, userId);
      if (!locked) throw notFound('Member');
      const changed = role ? await memberships.setRole(tenantId, userId, role, now) : await memberships.delete(tenantId, userId);
      if (!changed) throw notFound('Member');
      // Only an owner leaving can leave none (a tenant made with the CLI has no owner until setup claims it).
      if (locked.role === 'owner' && role !== 'owner' && (await memberships.countOwners(tenantId)) === 0) {
        throw new AppError(409, 'LAST_OWNER', 'A tenant keeps at least one owner: make someone else owner first');
      }
    });
    this.deps.sessions.forgetMembership(userId, tenantId);
  }

  private now(): string {
    return this.deps.clock().toISOString();
  }
}

const toMemberView = (m: MemberRow): MemberView => ({ userId: m.user_id, email: m.email, role: m.role, since: m.created_at });

const toInvitationView = (row: InvitationRow): InvitationView => ({
  id: row.id,
  email: row.email,
  role: row.role,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
});
