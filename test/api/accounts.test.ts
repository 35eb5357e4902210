import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS } from '../../src/accounts/password.js';
import { DEFAULT_THROTTLE } from '../../src/accounts/sign-in-throttle.js';
import { hashToken } from '../../src/accounts/tokens.js';
import { errorBody, useTestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { publishedTemplate } from '../helpers/flow.js';
import { invitationToken, memberFrom, memberOf, PASSWORD, sessionCookieOf, signIn } from '../helpers/accounts.js';

const PUBLIC_URL = 'http://127.0.0.1:3000';

describe.each(DIALECTS)('first-run setup (%s)', (dialect) => {
  // The production cost, which a stored hash must name (the other files hash at TEST_PASSWORD_PARAMS).
  const ctx = useTestApp(dialect, { passwordParams: DEFAULT_PARAMS });

  it('is open with a one-time token printed at start; the next start invalidates it; a second setup is refused', async () => {
    expect((await ctx.request('GET', '/auth/setup')).json()).toEqual({ open: true });
    const first = await ctx.container.accounts.issueSetupLink();
    const second = await ctx.container.accounts.issueSetupLink();
    expect(second).toMatch(/^http:\/\/127\.0\.0\.1:3000\/setup\?token=mcu_[0-9A-Za-z]{43}$/);
    const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;
    const cli = await ctx.container.tenants.create({ name: 'Made with the CLI' });

    const body = { email: 'Owner@Example.test', password: PASSWORD, claimTenants: true };
    const stale = await ctx.request('POST', '/setup', { body: { ...body, token: tokenOf(first!) } });
    expect(stale.statusCode).toBe(403);
    expect(errorBody(stale).code).toBe('INVALID_SETUP_TOKEN');
    const forged = await ctx.request('POST', '/setup', { body: { ...body, token: `mcu_${'A'.repeat(43)}` } });
    expect(forged.statusCode).toBe(403);
    const both = await ctx.request('POST', '/setup', { body: { ...body, tenantName: 'X', token: tokenOf(second!) } });
    expect(both.statusCode).toBe(400);
    const weak = await ctx.request('POST', '/setup', { body: { ...body, password: 'short', token: tokenOf(second!) } });
    expect(weak.statusCode).toBe(400);
    const foreign = await ctx.request('POST', '/setup', { body: { ...body, token: tokenOf(second!) }, headers: { origin: 'https://evil.test' } });
    expect(foreign.statusCode).toBe(403);
    expect(await ctx.count('users')).toBe(0);

    const done = await ctx.request('POST', '/setup', { body: { ...body, token: tokenOf(second!) }, headers: { origin: PUBLIC_URL } });
    expect(done.statusCode, done.body).toBe(201);
    const account = done.json();
    expect(account.user.email).toBe('owner@example.test');
    expect(account.tenants).toEqual([{ id: cli.tenant.id, name: 'Made with the CLI', role: 'owner' }]);
    expect(account.currentTenantId).toBe(cli.tenant.id);
    const setCookie = String(done.headers['set-cookie']);
    expect(setCookie).toMatch(/mc_session=mcs_/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toMatch(/Secure/); // PUBLIC_URL is http here

    expect((await ctx.request('GET', '/auth/setup')).json()).toEqual({ open: false });
    const again = await ctx.request('POST', '/setup', { body: { ...body, email: 'second@example.test', token: tokenOf(second!) } });
    expect(again.statusCode).toBe(409);
    expect(errorBody(again).code).toBe('SETUP_DONE');
    expect(await ctx.container.accounts.issueSetupLink()).toBeUndefined();

    // The new owner works in the claimed tenant with the cookie alone.
    const owner = memberFrom(done, cli.tenant.id);
    const campaigns = await ctx.request('GET', '/campaigns', { headers: owner.cookieOnly });
    expect(campaigns.statusCode, campaigns.body).toBe(200);
  });

  it('stores only hashes of the session token and the password', async () => {
    const rows = await ctx.container.database.db.selectFrom('sessions').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    const users = await ctx.container.database.db.selectFrom('users').selectAll().execute();
    expect(users[0]!.password_hash).toMatch(/^scrypt\$N=32768,r=8,p=1\$/);
    expect(JSON.stringify(users)).not.toContain(PASSWORD);
  });
});

describe.each(DIALECTS)('setup with a new tenant (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  it('creates the first owner and a tenant; one of two racing setups wins', async () => {
    const link = await ctx.container.accounts.issueSetupLink();
    const token = new URL(link!).searchParams.get('token')!;
    const [a, b] = await Promise.all([
      ctx.request('POST', '/setup', { body: { token, email: 'a@example.test', password: PASSWORD, tenantName: 'Acme' } }),
      ctx.request('POST', '/setup', { body: { token, email: 'b@example.test', password: PASSWORD, tenantName: 'Beta' } }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([201, 403]);
    expect(await ctx.count('users')).toBe(1);
    expect(await ctx.count('tenants')).toBe(1);
    const won = a.statusCode === 201 ? a : b;
    expect(won.json().tenants[0]).toMatchObject({ role: 'owner' });
  });
});

describe.each(DIALECTS)('accounts and sessions (%s)', (dialect) => {
  const outboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailingcore-accounts-'));
  const ctx = useTestApp(dialect, { delivery: { outboxDir, publicUrl: PUBLIC_URL } });
  afterAll(() => fs.rmSync(outboxDir, { recursive: true, force: true }));

  it('signs in and out; /me; a wrong password and an unknown user get one and the same answer', async () => {
    const tenant = await ctx.newTenant('Signin');
    const member = await memberOf(ctx, tenant, 'editor', 'Ed@Signin.test');
    const me = await ctx.request('GET', '/me', { headers: member.cookieOnly });
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json()).toMatchObject({
      user: { email: 'ed@signin.test' },
      tenants: [{ id: tenant.tenantId, name: 'Signin', role: 'editor' }],
      currentTenantId: tenant.tenantId,
      csrfToken: member.csrfToken,
    });

    const wrong = await signIn(ctx, 'ed@signin.test', 'not the password at all');
    const unknown = await signIn(ctx, 'nobody@signin.test', 'not the password at all');
    const malformed = await signIn(ctx, 'not an address', 'x');
    for (const res of [wrong, unknown, malformed]) {
      expect(res.statusCode).toBe(401);
      expect(errorBody(res)).toMatchObject({ code: 'INVALID_CREDENTIALS', message: 'Wrong email or password' });
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    // Case and spaces in the address do not matter.
    expect((await signIn(ctx, '  ED@signin.TEST ')).statusCode).toBe(200);

    const out = await ctx.request('POST', '/auth/sign-out', { headers: member.headers });
    expect(out.statusCode, out.body).toBe(200);
    expect(String(out.headers['set-cookie'])).toMatch(/mc_session=;/);
    const after = await ctx.request('GET', '/me', { headers: member.cookieOnly });
    expect(after.statusCode).toBe(401);
    expect(errorBody(after).code).toBe('UNAUTHORIZED');
    // An API key is not a session.
    const withKey = await ctx.request('GET', '/me', { tenant });
    expect(withKey.statusCode).toBe(401);
  });

  it('signs out everywhere', async () => {
    const tenant = await ctx.newTenant();
    const one = await memberOf(ctx, tenant, 'viewer', 'every@where.test');
    const two = memberFrom(await signIn(ctx, 'every@where.test'), tenant.tenantId);
    expect((await ctx.request('GET', '/campaigns', { headers: two.cookieOnly })).statusCode).toBe(200);
    const res = await ctx.request('POST', '/auth/sign-out-everywhere', { headers: one.headers });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ sessionsEnded: 2 });
    for (const m of [one, two]) expect((await ctx.request('GET', '/campaigns', { headers: m.cookieOnly })).statusCode).toBe(401);
  });

  it('refuses expired (idle and absolute), forged and revoked session cookies', async () => {
    const tenant = await ctx.newTenant();
    const idle = await memberOf(ctx, tenant, 'viewer');
    const get = (headers: Record<string, string>) => ctx.request('GET', '/campaigns', { headers });
    expect((await get(idle.cookieOnly)).statusCode).toBe(200);
    ctx.clock.advance(11 * 3600_000);
    expect((await get(idle.cookieOnly)).statusCode).toBe(200); // seen again: the idle clock restarts
    ctx.clock.advance(12 * 3600_000 + 1000);
    expect((await get(idle.cookieOnly)).statusCode).toBe(401);

    const absolute = await memberOf(ctx, tenant, 'viewer');
    // Seen every 11 hours (never idle 12 h): still refused once 30 days have passed since sign-in.
    let elapsed = 0;
    while (elapsed + 11 * 3600_000 < 30 * 24 * 3600_000) {
      ctx.clock.advance(11 * 3600_000);
      elapsed += 11 * 3600_000;
      expect((await get(absolute.cookieOnly)).statusCode, `after ${elapsed / 3600_000} h`).toBe(200);
    }
    ctx.clock.advance(30 * 24 * 3600_000 - elapsed);
    expect((await get(absolute.cookieOnly)).statusCode).toBe(401);

    const forged = [`mcs_${'A'.repeat(43)}`, 'garbage', `${absolute.cookie}x`];
    for (const value of forged) {
      const res = await get({ cookie: `mc_session=${value}` });
      expect(res.statusCode, value).toBe(401);
      expect(errorBody(res).code).toBe('UNAUTHORIZED');
    }
    const revoked = await memberOf(ctx, tenant, 'viewer');
    await ctx.container.database.db
      .updateTable('sessions')
      .set({ revoked_at: ctx.clock.now.toISOString() })
      .where('token_hash', '=', hashToken(revoked.cookie))
      .execute();
    expect((await get(revoked.cookieOnly)).statusCode).toBe(401);
    // Ended sessions go at the user's next sign-in: only live ones stay.
    const before = await ctx.count('sessions');
    memberFrom(await signIn(ctx, revoked.email), tenant.tenantId);
    expect(await ctx.count('sessions')).toBe(before);
  });

  it('refuses cookie requests that change state without the CSRF token or from another origin; API keys need none', async () => {
    const tenant = await ctx.newTenant();
    const admin = await memberOf(ctx, tenant, 'admin');
    const body = { name: 'CSRF' };
    const attempts: [string, Record<string, string>][] = [
      ['no token', { ...admin.cookieOnly }],
      ['wrong token', { ...admin.cookieOnly, 'x-csrf-token': 'nope' }],
      ['another session\'s token', { ...admin.cookieOnly, 'x-csrf-token': (await memberOf(ctx, tenant, 'admin')).csrfToken }],
      ['foreign origin', { ...admin.headers, origin: 'https://evil.test' }],
      ['foreign referer', { ...admin.headers, referer: 'https://evil.test/page' }],
    ];
    for (const [name, headers] of attempts) {
      const res = await ctx.request('POST', '/contacts/bulk', { headers, body: { contacts: [{ email: 'x@csrf.test' }] } });
      expect(res.statusCode, name).toBe(403);
      expect(errorBody(res).code, name).toBe('CSRF_FAILED');
      const campaign = await ctx.request('POST', '/campaigns', { headers, body });
      expect(campaign.statusCode, name).toBe(403);
    }
    expect(await ctx.count('campaigns')).toBe(0);
    const ok = await ctx.request('POST', '/campaigns', { headers: { ...admin.headers, origin: PUBLIC_URL }, body });
    expect(ok.statusCode, ok.body).toBe(201);
    const viaKey = await ctx.request('POST', '/campaigns', { tenant, body, headers: { origin: 'https://evil.test' } });
    expect(viaKey.statusCode, viaKey.body).toBe(201);
    // A GET needs no token.
    expect((await ctx.request('GET', '/campaigns', { headers: admin.cookieOnly })).statusCode).toBe(200);
    // Sign-in from another site is refused too (login CSRF).
    expect((await signIn(ctx, admin.email, PASSWORD, { origin: 'https://evil.test' })).statusCode).toBe(403);
  });

  it('roles: a viewer reads only; an editor drafts and test-sends but cannot send; an admin sends', async () => {
    const tenant = await ctx.newTenant('Roles');
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const viewer = await memberOf(ctx, tenant, 'viewer');
    const editor = await memberOf(ctx, tenant, 'editor');
    const admin = await memberOf(ctx, tenant, 'admin');

    expect((await ctx.request('GET', '/campaigns', { headers: viewer.headers })).statusCode).toBe(200);
    const viewerDraft = await ctx.request('POST', '/campaigns', { headers: viewer.headers, body: { name: 'V' } });
    expect(viewerDraft.statusCode).toBe(403);
    expect(errorBody(viewerDraft)).toMatchObject({ code: 'INSUFFICIENT_SCOPE', requiredScope: 'campaigns:write' });

    const draft = await ctx.request('POST', '/campaigns', { headers: editor.headers, body: { name: 'Editor draft', templateVersionId: baseVersionId } });
    expect(draft.statusCode, draft.body).toBe(201);
    const id = draft.json().id as string;
    expect((await ctx.request('PATCH', `/campaigns/${id}`, { headers: editor.headers, body: { name: 'Edited' } })).statusCode).toBe(200);
    const test = await ctx.request('POST', `/campaigns/${id}/test`, { headers: editor.headers, body: { emails: ['qa@roles.test'] } });
    expect(test.statusCode, test.body).toBe(200);
    for (const m of [viewer, editor]) {
      for (const action of ['send', 'schedule', 'cancel']) {
        const res = await ctx.request('POST', `/campaigns/${id}/${action}`, {
          headers: m.headers,
          body: action === 'schedule' ? { scheduledAt: '2099-01-01T00:00:00Z' } : undefined,
        });
        expect(res.statusCode, `${action}: ${res.body}`).toBe(403);
        expect(errorBody(res)).toMatchObject({ code: 'INSUFFICIENT_SCOPE', requiredScope: 'campaigns:send' });
      }
    }
    const sent = await ctx.request('POST', `/campaigns/${id}/send?force=true`, { headers: admin.headers });
    expect(sent.statusCode, sent.body).toBe(202);
  });

  it("the tenant's own key holds every scope, the new ones included", async () => {
    const tenant = await ctx.newTenant();
    const [first] = await ctx.container.apiKeys.list(tenant.tenantId);
    expect(first!.scopes).toEqual(expect.arrayContaining(['campaigns:send', 'keys:manage', 'members:manage']));
  });

  it('a removed member\'s next request fails; a demoted one loses the rights at once', async () => {
    const tenant = await ctx.newTenant();
    const owner = await memberOf(ctx, tenant, 'owner');
    const editor = await memberOf(ctx, tenant, 'editor');
    expect((await ctx.request('GET', '/contacts', { headers: editor.headers })).statusCode).toBe(200);
    const demote = await ctx.request('PATCH', `/tenants/${tenant.tenantId}/members/${editor.userId}`, { headers: owner.headers, body: { role: 'viewer' } });
    expect(demote.statusCode, demote.body).toBe(200);
    expect((await ctx.request('PUT', '/contacts', { headers: editor.headers, body: { email: 'a@demoted.test' } })).statusCode).toBe(403);
    const removed = await ctx.request('DELETE', `/tenants/${tenant.tenantId}/members/${editor.userId}`, { headers: owner.headers });
    expect(removed.statusCode, removed.body).toBe(204);
    const next = await ctx.request('GET', '/contacts', { headers: editor.headers });
    expect(next.statusCode).toBe(403);
    expect(errorBody(next).code).toBe('TENANT_MISMATCH');
  });

  it('switches tenant; X-Tenant-Id of a tenant the user is not a member of is refused', async () => {
    const a = await ctx.newTenant('Alpha');
    const b = await ctx.newTenant('Beta');
    const c = await ctx.newTenant('Gamma');
    await ctx.container.accounts.createUser({ email: 'two@tenants.test', password: PASSWORD, tenantId: a.tenantId, role: 'viewer' });
    await ctx.container.accounts.createUser({ email: 'two@tenants.test', tenantId: b.tenantId, role: 'admin' });
    const m = memberFrom(await signIn(ctx, 'two@tenants.test'), a.tenantId);
    const me = (await ctx.request('GET', '/me', { headers: m.cookieOnly })).json();
    expect(me.tenants.map((t: { role: string }) => t.role).sort()).toEqual(['admin', 'viewer']);
    const current = me.currentTenantId as string;
    const other = current === a.tenantId ? b.tenantId : a.tenantId;

    const switched = await ctx.request('POST', '/me/tenant', { headers: m.headers, body: { tenantId: other } });
    expect(switched.statusCode, switched.body).toBe(200);
    expect(switched.json().currentTenantId).toBe(other);
    expect((await ctx.request('GET', '/me', { headers: m.cookieOnly })).json().currentTenantId).toBe(other);

    const notMine = await ctx.request('POST', '/me/tenant', { headers: m.headers, body: { tenantId: c.tenantId } });
    expect(notMine.statusCode).toBe(403);
    expect(errorBody(notMine).code).toBe('TENANT_MISMATCH');
    const header = await ctx.request('GET', '/campaigns', { headers: { ...m.cookieOnly, 'x-tenant-id': c.tenantId } });
    expect(header.statusCode).toBe(403);
    expect(errorBody(header).code).toBe('TENANT_MISMATCH');
    // In B (admin) a campaign may be made; in A (viewer) not.
    const inB = await ctx.request('POST', '/campaigns', { headers: { ...m.headers, 'x-tenant-id': b.tenantId }, body: { name: 'B' } });
    expect(inB.statusCode, inB.body).toBe(201);
    const inA = await ctx.request('POST', '/campaigns', { headers: { ...m.headers, 'x-tenant-id': a.tenantId }, body: { name: 'A' } });
    expect(inA.statusCode).toBe(403);
  });

  it('members: an admin cannot change or remove an owner; the last owner stays', async () => {
    const tenant = await ctx.newTenant();
    const owner = await memberOf(ctx, tenant, 'owner');
    const admin = await memberOf(ctx, tenant, 'admin');
    const url = (userId: string) => `/tenants/${tenant.tenantId}/members/${userId}`;
    for (const [method, body] of [['PATCH', { role: 'viewer' }], ['DELETE', undefined]] as const) {
      const res = await ctx.request(method, url(owner.userId), { headers: admin.headers, body });
      expect(res.statusCode, res.body).toBe(403);
      expect(errorBody(res).code).toBe('OWNER_PROTECTED');
    }
    const promote = await ctx.request('PATCH', url(admin.userId), { headers: admin.headers, body: { role: 'owner' } });
    expect(errorBody(promote).code).toBe('OWNER_PROTECTED');
    // The tenant's own API key acts as an admin.
    expect((await ctx.request('DELETE', url(owner.userId), { tenant })).statusCode).toBe(403);

    for (const [method, body] of [['PATCH', { role: 'admin' }], ['DELETE', undefined]] as const) {
      const res = await ctx.request(method, url(owner.userId), { headers: owner.headers, body });
      expect(res.statusCode, res.body).toBe(409);
      expect(errorBody(res).code).toBe('LAST_OWNER');
    }
    // With a second owner, the first may step down.
    expect((await ctx.request('PATCH', url(admin.userId), { headers: owner.headers, body: { role: 'owner' } })).statusCode).toBe(200);
    expect((await ctx.request('PATCH', url(owner.userId), { headers: owner.headers, body: { role: 'viewer' } })).statusCode).toBe(200);
    const list = await ctx.request('GET', `/tenants/${tenant.tenantId}/members`, { headers: admin.headers });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().data.map((m: { role: string }) => m.role).sort()).toEqual(['owner', 'viewer']);
    expect((await ctx.request('PATCH', url('not-an-id'), { headers: admin.headers, body: { role: 'viewer' } })).statusCode).toBe(404);
    // A tenant without an owner (made with the CLI, never claimed): its members can still be changed.
    const ownerless = await ctx.newTenant('Ownerless');
    const editor = await memberOf(ctx, ownerless, 'editor');
    const changed = await ctx.request('PATCH', `/tenants/${ownerless.tenantId}/members/${editor.userId}`, { tenant: ownerless, body: { role: 'viewer' } });
    expect(changed.statusCode, changed.body).toBe(200);
    expect((await ctx.request('PATCH', url(admin.userId), { headers: admin.headers, body: { role: 'god' } })).statusCode).toBe(400);
  });

  it('invitations: emailed link, accepted once, expired refused, forged refused', async () => {
    const tenant = await ctx.newTenant('Invites');
    const admin = await memberOf(ctx, tenant, 'admin', 'boss@invites.test');
    const invite = await ctx.request('POST', `/tenants/${tenant.tenantId}/members`, { headers: admin.headers, body: { email: 'New@Invites.test', role: 'editor' } });
    expect(invite.statusCode, invite.body).toBe(201);
    const invitation = invite.json();
    expect(invitation).toMatchObject({ email: 'new@invites.test', role: 'editor' });
    const mail = await invitationToken(outboxDir, invitation.id);
    expect(mail.to).toBe('new@invites.test');
    expect(mail.text).toContain(`${PUBLIC_URL}/invite?token=`);
    expect(mail.text).toContain('boss@invites.test');
    expect((await ctx.request('GET', `/tenants/${tenant.tenantId}/members`, { headers: admin.headers })).json().invitations).toHaveLength(1);

    expect((await ctx.request('POST', '/invitations/accept', { body: { token: mail.token, password: 'short' } })).statusCode).toBe(400);
    const accepted = await ctx.request('POST', '/invitations/accept', { body: { token: mail.token, password: PASSWORD } });
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toMatchObject({ user: { email: 'new@invites.test' }, currentTenantId: tenant.tenantId, tenants: [{ role: 'editor' }] });
    const editor = memberFrom(accepted, tenant.tenantId);
    expect((await ctx.request('GET', '/contacts', { headers: editor.cookieOnly })).statusCode).toBe(200);

    const reused = await ctx.request('POST', '/invitations/accept', { body: { token: mail.token, password: PASSWORD } });
    expect(reused.statusCode).toBe(410);
    expect(errorBody(reused).code).toBe('INVITATION_USED');
    const forged = await ctx.request('POST', '/invitations/accept', { body: { token: `mci_${'B'.repeat(43)}`, password: PASSWORD } });
    expect(forged.statusCode).toBe(404);
    const junk = await ctx.request('POST', '/invitations/accept', { body: { token: '../../etc', password: PASSWORD } });
    expect(junk.statusCode).toBe(404);

    const again = await ctx.request('POST', `/tenants/${tenant.tenantId}/members`, { headers: admin.headers, body: { email: 'new@invites.test', role: 'viewer' } });
    expect(again.statusCode).toBe(409);
    // An admin cannot invite an owner.
    const asOwner = await ctx.request('POST', `/tenants/${tenant.tenantId}/members`, { headers: admin.headers, body: { email: 'o@invites.test', role: 'owner' } });
    expect(asOwner.statusCode).toBe(403);
    const late = await ctx.request('POST', `/tenants/${tenant.tenantId}/members`, { headers: admin.headers, body: { email: 'late@invites.test', role: 'viewer' } });
    const lateToken = (await invitationToken(outboxDir, late.json().id)).token;
    ctx.clock.advance(7 * 24 * 3600_000 + 1000);
    const expired = await ctx.request('POST', '/invitations/accept', { body: { token: lateToken, password: PASSWORD } });
    expect(expired.statusCode).toBe(410);
    expect(errorBody(expired).code).toBe('INVITATION_EXPIRED');
  });

  it('invitations: resent with a new link (the old one refused), cancelled (its link refused); owners\' invitations only by an owner', async () => {
    const tenant = await ctx.newTenant('Resend');
    const owner = await memberOf(ctx, tenant, 'owner');
    const admin = await memberOf(ctx, tenant, 'admin');
    const invite = async (email: string, role: string) => {
      const res = await ctx.request('POST', `/tenants/${tenant.tenantId}/members`, { headers: admin.headers, body: { email, role } });
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { id: string; expiresAt: string };
    };
    const url = (id: string, resend = false) => `/tenants/${tenant.tenantId}/invitations/${id}${resend ? '/resend' : ''}`;
    const first = await invite('again@resend.test', 'editor');
    const oldToken = (await invitationToken(outboxDir, first.id)).token;

    ctx.clock.advance(60_000);
    const resent = await ctx.request('POST', url(first.id, true), { headers: admin.headers });
    expect(resent.statusCode, resent.body).toBe(200);
    expect(resent.json()).toMatchObject({ id: first.id, email: 'again@resend.test', role: 'editor' });
    expect(Date.parse(resent.json().expiresAt) - Date.parse(first.expiresAt)).toBe(60_000);
    const mail = await invitationToken(outboxDir, first.id);
    expect(mail.token).not.toBe(oldToken);
    expect(mail.to).toBe('again@resend.test');
    const old = await ctx.request('POST', '/invitations/accept', { body: { token: oldToken, password: PASSWORD } });
    expect(old.statusCode).toBe(404);
    expect(errorBody(old).code).toBe('INVITATION_NOT_FOUND');
    const accepted = await ctx.request('POST', '/invitations/accept', { body: { token: mail.token, password: PASSWORD } });
    expect(accepted.statusCode, accepted.body).toBe(200);
    // Accepted: neither resent nor cancelled any more (and off the pending list).
    expect((await ctx.request('POST', url(first.id, true), { headers: admin.headers })).statusCode).toBe(404);
    expect((await ctx.request('DELETE', url(first.id), { headers: admin.headers })).statusCode).toBe(404);

    const second = await invite('never@resend.test', 'viewer');
    const secondToken = (await invitationToken(outboxDir, second.id)).token;
    const cancelled = await ctx.request('DELETE', url(second.id), { headers: admin.headers });
    expect(cancelled.statusCode, cancelled.body).toBe(204);
    expect((await ctx.request('POST', '/invitations/accept', { body: { token: secondToken, password: PASSWORD } })).statusCode).toBe(404);
    expect((await ctx.request('DELETE', url(second.id), { headers: admin.headers })).statusCode).toBe(404);
    const list = await ctx.request('GET', `/tenants/${tenant.tenantId}/members`, { headers: admin.headers });
    expect(list.json().invitations).toEqual([]);

    // An owner's invitation: an admin (or a key, acting as one) may neither resend nor cancel it; an owner may.
    const ownerInvite = await ctx.request('POST', `/tenants/${tenant.tenantId}/members`, { headers: owner.headers, body: { email: 'co@resend.test', role: 'owner' } });
    expect(ownerInvite.statusCode, ownerInvite.body).toBe(201);
    const ownerId = ownerInvite.json().id as string;
    for (const [method, target] of [['POST', url(ownerId, true)], ['DELETE', url(ownerId)]] as const) {
      const res = await ctx.request(method, target, { headers: admin.headers });
      expect(res.statusCode, res.body).toBe(403);
      expect(errorBody(res).code).toBe('OWNER_PROTECTED');
      expect((await ctx.request(method, target, { tenant })).statusCode).toBe(403);
    }
    expect((await ctx.request('POST', url(ownerId, true), { headers: owner.headers })).statusCode).toBe(200);
    expect((await ctx.request('DELETE', url(ownerId), { headers: owner.headers })).statusCode).toBe(204);

    // Another tenant's invitation is unknown here; an editor lacks members:manage; junk ids are 404.
    const other = await ctx.newTenant('Resend elsewhere');
    const foreign = await ctx.request('POST', `/tenants/${other.tenantId}/members`, { tenant: other, body: { email: 'x@elsewhere.test', role: 'viewer' } });
    expect((await ctx.request('DELETE', url(foreign.json().id), { headers: admin.headers })).statusCode).toBe(404);
    expect((await ctx.request('POST', url(foreign.json().id, true), { headers: admin.headers })).statusCode).toBe(404);
    const editor = await memberOf(ctx, tenant, 'editor');
    const third = await invite('third@resend.test', 'viewer');
    expect((await ctx.request('DELETE', url(third.id), { headers: editor.headers })).statusCode).toBe(403);
    expect((await ctx.request('DELETE', url('not-an-id'), { headers: admin.headers })).statusCode).toBe(404);
  });

  it('API keys: listed without secrets, created once with scopes the caller holds, revoked; no escalation', async () => {
    const tenant = await ctx.newTenant();
    const base = `/tenants/${tenant.tenantId}/api-keys`;
    const created = await ctx.request('POST', base, { tenant, body: { name: 'ci', scopes: ['contacts:read', 'contacts:write'] } });
    expect(created.statusCode, created.body).toBe(201);
    const key = created.json();
    expect(key.apiKey).toMatch(/^mc_live_/);
    const headers = { authorization: `Bearer ${key.apiKey}`, 'x-tenant-id': tenant.tenantId };
    expect((await ctx.request('GET', '/contacts', { headers })).statusCode).toBe(200);

    const list = await ctx.request('GET', base, { tenant });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(key.apiKey);
    expect(list.json().data.map((k: { id: string }) => k.id)).toContain(key.id);

    // A key with keys:manage but not campaigns:send cannot mint one that has it.
    const manager = await tenant.keyWith(['keys:manage', 'contacts:read']);
    const escalate = await ctx.request('POST', base, { headers: manager.headers, body: { scopes: ['contacts:read', 'campaigns:send'] } });
    expect(escalate.statusCode).toBe(403);
    expect(errorBody(escalate)).toMatchObject({ code: 'SCOPE_ESCALATION', scopes: ['campaigns:send'] });
    const testKey = await tenant.keyWith(['keys:manage', 'contacts:read'], 'test');
    const live = await ctx.request('POST', base, { headers: testKey.headers, body: { scopes: ['contacts:read'], mode: 'live' } });
    expect(errorBody(live).code).toBe('SCOPE_ESCALATION');
    // An admin member may create keys with any scope; a viewer may not manage keys at all.
    const admin = await memberOf(ctx, tenant, 'admin');
    expect((await ctx.request('POST', base, { headers: admin.headers, body: { scopes: ['campaigns:send'] } })).statusCode).toBe(201);
    const viewer = await memberOf(ctx, tenant, 'viewer');
    expect((await ctx.request('GET', base, { headers: viewer.headers })).statusCode).toBe(403);

    const revoked = await ctx.request('DELETE', `${base}/${key.id}`, { headers: admin.headers });
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(revoked.json().revokedAt).not.toBeNull();
    expect((await ctx.request('GET', '/contacts', { headers })).statusCode).toBe(401);
    expect((await ctx.request('DELETE', `${base}/not-an-id`, { tenant })).statusCode).toBe(404);
    expect((await ctx.request('POST', base, { tenant, body: { scopes: ['root'] } })).statusCode).toBe(400);
    expect((await ctx.request('POST', base, { tenant, body: { scopes: [] } })).statusCode).toBe(400);
  });

  it("another tenant's members and keys are unreachable", async () => {
    const a = await ctx.newTenant('A');
    const b = await ctx.newTenant('B');
    const bOwner = await memberOf(ctx, b, 'owner');
    const [bKey] = await ctx.container.apiKeys.list(b.tenantId);
    const aAdmin = await memberOf(ctx, a, 'admin');
    for (const caller of [{ tenant: a }, { headers: aAdmin.headers }]) {
      const attempts: [string, string, unknown?][] = [
        ['GET', `/tenants/${b.tenantId}/members`],
        ['POST', `/tenants/${b.tenantId}/members`, { email: 'spy@a.test', role: 'admin' }],
        ['PATCH', `/tenants/${b.tenantId}/members/${bOwner.userId}`, { role: 'viewer' }],
        ['DELETE', `/tenants/${b.tenantId}/members/${bOwner.userId}`],
        ['GET', `/tenants/${b.tenantId}/api-keys`],
        ['POST', `/tenants/${b.tenantId}/api-keys`, { scopes: ['contacts:read'] }],
        ['DELETE', `/tenants/${b.tenantId}/api-keys/${bKey!.id}`],
        ['DELETE', `/tenants/${a.tenantId}/api-keys/${bKey!.id}`],
      ];
      for (const [method, url, body] of attempts) {
        const res = await ctx.request(method as 'GET', url, { ...caller, body });
        expect(res.statusCode, `${method} ${url}`).toBe(404);
      }
    }
    expect((await ctx.container.apiKeys.list(b.tenantId)).every((k) => k.revokedAt === null)).toBe(true);
    expect((await ctx.request('GET', `/tenants/${b.tenantId}/members`, { headers: bOwner.headers })).json().data).toHaveLength(1);
  });
});

describe.each(DIALECTS)('sign-in rate limit (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  it('locks an account after 5 failures with growing backoff (429 Retry-After), and an IP after 20', async () => {
    const tenant = await ctx.newTenant();
    await ctx.container.accounts.createUser({ email: 'target@limit.test', password: PASSWORD, tenantId: tenant.tenantId, role: 'viewer' });
    for (let i = 0; i < 5; i++) expect((await signIn(ctx, 'target@limit.test', 'wrong password!')).statusCode).toBe(401);
    expect((await signIn(ctx, 'target@limit.test', 'wrong password!')).statusCode).toBe(401); // the 6th: locks 1 s
    const locked = await signIn(ctx, 'target@limit.test');
    expect(locked.statusCode).toBe(429);
    expect(errorBody(locked).code).toBe('TOO_MANY_ATTEMPTS');
    expect(locked.headers['retry-after']).toBe('1');
    ctx.clock.advance(1000);
    expect((await signIn(ctx, 'target@limit.test', 'wrong password!')).statusCode).toBe(401); // the 7th: locks 2 s
    expect((await signIn(ctx, 'target@limit.test')).headers['retry-after']).toBe('2');
    ctx.clock.advance(2000);
    expect((await signIn(ctx, 'target@limit.test')).statusCode).toBe(200); // the right password, once unlocked

    // Per IP: many addresses from one client.
    for (let i = 0; i < 21; i++) await signIn(ctx, `guess${i}@limit.test`, 'wrong password!');
    const ipLocked = await signIn(ctx, 'target@limit.test');
    expect(ipLocked.statusCode).toBe(429);
    expect(Number(ipLocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // An unknown address is throttled like a known one (no enumeration through 429s).
    ctx.clock.advance(3600_000 * 2);
    expect((await signIn(ctx, 'target@limit.test')).statusCode).toBe(200);
    const cookie = sessionCookieOf(await signIn(ctx, 'target@limit.test'));
    expect(cookie).toMatch(/^mcs_/);
  });
});

describe.each(DIALECTS)('behind a trusted proxy (%s)', (dialect) => {
  // inject() connects from 127.0.0.1: the proxy here. Three free failures per address keep the test short.
  const signInThrottle = { ip: { ...DEFAULT_THROTTLE.ip, free: 3 } };
  const behind = useTestApp(dialect, { trustProxy: ['127.0.0.1'], signInThrottle });
  const direct = useTestApp(dialect, { signInThrottle });

  it('counts sign-in failures per client address from X-Forwarded-For only when TRUST_PROXY names the proxy', async () => {
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    for (let i = 0; i < 4; i++) await signIn(behind, `guess${i}@proxy.test`, 'wrong password!', from('203.0.113.7'));
    expect((await signIn(behind, 'someone@proxy.test', 'wrong password!', from('203.0.113.7'))).statusCode).toBe(429);
    // Another client behind the same proxy is not locked out by the first one's guesses.
    expect((await signIn(behind, 'someone@proxy.test', 'wrong password!', from('198.51.100.9'))).statusCode).toBe(401);

    // Without TRUST_PROXY the header is the client's say-so: every guess counts against the socket's address.
    for (let i = 0; i < 4; i++) await signIn(direct, `guess${i}@proxy.test`, 'wrong password!', from(`203.0.113.${i}`));
    expect((await signIn(direct, 'someone@proxy.test', 'wrong password!', from('198.51.100.9'))).statusCode).toBe(429);
  });
});

describe.each(DIALECTS)('behind https (%s)', (dialect) => {
  const ctx = useTestApp(dialect, { delivery: { publicUrl: 'https://mail.example.test' } });

  it('marks the session cookie Secure and takes requests from the https origin only', async () => {
    const link = await ctx.container.accounts.issueSetupLink();
    expect(link).toMatch(/^https:\/\/mail\.example\.test\/setup\?token=/);
    const token = new URL(link!).searchParams.get('token')!;
    const done = await ctx.request('POST', '/setup', {
      body: { token, email: 'tls@example.test', password: PASSWORD, tenantName: 'TLS' },
      headers: { origin: 'https://mail.example.test' },
    });
    expect(done.statusCode, done.body).toBe(201);
    expect(String(done.headers['set-cookie'])).toMatch(/; Secure/);
    const owner = memberFrom(done, done.json().currentTenantId);
    const plain = await ctx.request('POST', '/campaigns', { headers: { ...owner.headers, origin: 'http://mail.example.test' }, body: { name: 'x' } });
    expect(plain.statusCode).toBe(403);
    const ok = await ctx.request('POST', '/campaigns', { headers: { ...owner.headers, origin: 'https://mail.example.test' }, body: { name: 'x' } });
    expect(ok.statusCode, ok.body).toBe(201);
  });
});
