import { describe, expect, it } from 'vitest';
import { refuseMemberChange } from '../../src/accounts/member-rules.js';
import { ROLES, scopesOf } from '../../src/auth/roles.js';
import { SCOPES } from '../../src/auth/scopes.js';

describe('roles → scopes', () => {
  it('owner and admin hold every scope, the new ones included', () => {
    for (const role of ['owner', 'admin'] as const) expect([...scopesOf(role)].sort()).toEqual([...SCOPES].sort());
    expect(SCOPES).toEqual(expect.arrayContaining(['campaigns:send', 'keys:manage', 'members:manage']));
  });

  it('viewer holds exactly the :read scopes', () => {
    expect([...scopesOf('viewer')].sort()).toEqual(SCOPES.filter((s) => s.endsWith(':read')).sort());
  });

  it('editor prepares (contacts, templates, campaign drafts and test sends) but never sends nor manages people or keys', () => {
    const editor = scopesOf('editor');
    for (const scope of ['contacts:write', 'templates:write', 'campaigns:write', 'campaigns:read', 'contacts:read']) expect(editor.has(scope as never), scope).toBe(true);
    for (const scope of ['campaigns:send', 'keys:manage', 'members:manage', 'webhooks:manage', 'domains:write', 'projects:write', 'suppressions:write']) {
      expect(editor.has(scope as never), scope).toBe(false);
    }
  });

  it('each role holds what the roles below it hold', () => {
    for (let i = 1; i < ROLES.length; i++) {
      const above = scopesOf(ROLES[i - 1]!);
      for (const scope of scopesOf(ROLES[i]!)) expect(above.has(scope), `${ROLES[i - 1]} ⊇ ${ROLES[i]}: ${scope}`).toBe(true);
    }
  });
});

describe('who may change whom', () => {
  it('an owner may do anything; an admin or a key never touches or makes an owner', () => {
    expect(refuseMemberChange('owner', { targetRole: 'owner', newRole: 'viewer' })).toBeUndefined();
    expect(refuseMemberChange('owner', { newRole: 'owner' })).toBeUndefined();
    for (const actor of ['admin', 'key'] as const) {
      expect(refuseMemberChange(actor, { targetRole: 'owner' })?.code).toBe('OWNER_PROTECTED');
      expect(refuseMemberChange(actor, { targetRole: 'editor', newRole: 'owner' })?.code).toBe('OWNER_PROTECTED');
      expect(refuseMemberChange(actor, { newRole: 'owner' })?.statusCode).toBe(403);
      expect(refuseMemberChange(actor, { targetRole: 'admin', newRole: 'viewer' })).toBeUndefined();
      expect(refuseMemberChange(actor, { newRole: 'admin' })).toBeUndefined();
    }
  });
});
