import { Type } from '@sinclair/typebox';
import { MEMBER_ROLES } from '../db/enums.js';
import { Nullable, StringEnum } from '../shared/schema.js';
import { MAX_PASSWORD_LENGTH } from './password.js';

export const RoleSchema = StringEnum(MEMBER_ROLES, { description: 'owner, admin, editor or viewer (docs/ACCOUNTS.md)' });

const Email = Type.String({ minLength: 1, maxLength: 320, description: 'An email address (case does not matter)' });
const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH });
const NewPassword = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH, description: '10 to 1024 characters' });
const Token = Type.String({ minLength: 1, maxLength: 200 });

export const SignInBody = Type.Object({ email: Email, password: Password }, { additionalProperties: false });

export const User = Type.Object({
  id: Type.String(),
  email: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});

export const TenantMembership = Type.Object({ id: Type.String(), name: Type.String(), role: RoleSchema });

export const Account = Type.Object(
  {
    user: User,
    tenants: Type.Array(TenantMembership),
    currentTenantId: Nullable(Type.String()),
    csrfToken: Type.String({ description: 'Send it as X-CSRF-Token on every POST, PUT, PATCH and DELETE made with the session cookie' }),
  },
  { description: 'The signed-in user, their tenants and roles, the current tenant and the CSRF token' },
);

export const SwitchTenantBody = Type.Object({ tenantId: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export const SignedOut = Type.Object({ sessionsEnded: Type.Integer() });

export const SetupStatus = Type.Object({
  open: Type.Boolean({ description: 'True while no account exists: POST /setup with the token printed at start' }),
});

export const SetupBody = Type.Object(
  {
    token: Token,
    email: Email,
    password: NewPassword,
    tenantName: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Create this tenant, owned by the new account' })),
    claimTenants: Type.Optional(Type.Boolean({ description: 'true: the new account owns every tenant created with the CLI' })),
  },
  { additionalProperties: false },
);

export const AcceptInvitationBody = Type.Object(
  { token: Token, password: NewPassword },
  { additionalProperties: false },
);

export const TenantParams = Type.Object({ id: Type.String({ maxLength: 200 }) });
export const InvitationParams = Type.Object({ id: Type.String({ maxLength: 200 }), invitationId: Type.String({ maxLength: 200 }) });
export const MemberParams = Type.Object({ id: Type.String({ maxLength: 200 }), userId: Type.String({ maxLength: 200 }) });

export const Member = Type.Object({
  userId: Type.String(),
  email: Type.String(),
  role: RoleSchema,
  since: Type.String({ format: 'date-time' }),
});

export const Invitation = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: RoleSchema,
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
});

export const MemberList = Type.Object({ data: Type.Array(Member), invitations: Type.Array(Invitation, { description: 'Pending (not accepted, not expired)' }) });

export const InviteBody = Type.Object({ email: Email, role: RoleSchema }, { additionalProperties: false });
export const ChangeRoleBody = Type.Object({ role: RoleSchema }, { additionalProperties: false });
