import { MEMBER_ROLES, type MemberRole } from '../db/enums.js';
import { SCOPES, type Scope } from './scopes.js';

/**
 * A member's role in a tenant, and the API-key scopes it stands for: one
 * permission check (the route's scope, http/authenticate.ts) serves keys and
 * signed-in members alike. Pure; the table is in docs/ACCOUNTS.md.
 *
 * - viewer: every `:read` scope.
 * - editor: prepares — contacts, templates, campaign drafts and test sends
 *   (`campaigns:write`); never `campaigns:send`.
 * - admin: every scope. What sets an admin apart from an owner is not a scope
 *   but a rule of the members service: an admin cannot change, remove or
 *   create an owner (and cannot delete the tenant, which no route does).
 * - owner: every scope, and the owner rules.
 */
export const ROLES = MEMBER_ROLES;
export type Role = MemberRole;

export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

const READ_SCOPES: readonly Scope[] = SCOPES.filter((scope) => scope.endsWith(':read'));

const EDITOR_WRITES: readonly Scope[] = ['contacts:write', 'templates:write', 'campaigns:write'];

const ROLE_SCOPES: Record<Role, ReadonlySet<Scope>> = {
  owner: new Set(SCOPES),
  admin: new Set(SCOPES),
  editor: new Set([...READ_SCOPES, ...EDITOR_WRITES]),
  viewer: new Set(READ_SCOPES),
};

/** The scopes a role grants (a set shared by every caller: do not change it). */
export const scopesOf = (role: Role): ReadonlySet<Scope> => ROLE_SCOPES[role];

/** Owners first: the order lists show members in. */
export const roleRank = (role: Role): number => ROLES.indexOf(role);
