import type { Role, Schemas } from './api';

/**
 * The API-key scopes each role holds — the same table as src/auth/roles.ts
 * (docs/ACCOUNTS.md). The UI uses it only to hide what a role cannot do and
 * to offer a key only scopes the signed-in person holds; the API enforces it.
 */
export type Scope = Schemas['/tenants/{id}/api-keys']['post']['requestBody']['content']['application/json']['scopes'][number];

// Every scope once: a scope added to the API and missing here fails `tsc`.
const ALL: Record<Scope, true> = {
  'campaigns:read': true,
  'campaigns:write': true,
  'campaigns:send': true,
  'contacts:read': true,
  'contacts:write': true,
  'templates:read': true,
  'templates:write': true,
  'suppressions:read': true,
  'suppressions:write': true,
  'projects:read': true,
  'projects:write': true,
  'events:read': true,
  'webhooks:manage': true,
  'domains:read': true,
  'domains:write': true,
  'email:send': true,
  'email:read': true,
  'keys:manage': true,
  'members:manage': true,
};
export const SCOPES = Object.keys(ALL) as Scope[];

const READ = SCOPES.filter((scope) => scope.endsWith(':read'));
const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  owner: SCOPES,
  admin: SCOPES,
  editor: [...READ, 'contacts:write', 'templates:write', 'campaigns:write'],
  viewer: READ,
};

export const scopesOf = (role: Role | undefined): readonly Scope[] => (role ? ROLE_SCOPES[role] : []);
export const can = (role: Role | undefined, scope: Scope): boolean => scopesOf(role).includes(scope);
