import fs from 'node:fs/promises';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { simpleParser } from 'mailparser';
import { expect } from 'vitest';
import type { MemberRole } from '../../src/db/enums.js';
import type { TestContext, TestTenant } from './app.js';

export const PASSWORD = 'correct horse battery staple';

/** A signed-in member as the test requests see them: the cookie and CSRF headers, and the tenant it is about. */
export interface Member extends TestTenant {
  userId: string;
  email: string;
  cookie: string;
  csrfToken: string;
  /** Cookie only: no CSRF header. */
  cookieOnly: Record<string, string>;
}

export function sessionCookieOf(res: LightMyRequestResponse): string {
  const cookie = res.cookies.find((c) => c.name === 'mc_session');
  if (!cookie) throw new Error(`no mc_session cookie in ${JSON.stringify(res.headers['set-cookie'])}`);
  return cookie.value;
}

export function memberFrom(res: LightMyRequestResponse, tenantId: string): Member {
  expect(res.statusCode, res.body).toBeLessThan(300);
  const body = res.json() as { user: { id: string; email: string }; csrfToken: string };
  const cookie = sessionCookieOf(res);
  const cookieOnly = { cookie: `mc_session=${cookie}` };
  return {
    tenantId,
    apiKey: '',
    userId: body.user.id,
    email: body.user.email,
    cookie,
    csrfToken: body.csrfToken,
    cookieOnly,
    headers: { ...cookieOnly, 'x-csrf-token': body.csrfToken },
    keyWith: () => {
      throw new Error('a member has no keys of its own');
    },
  };
}

export function signIn(ctx: TestContext, email: string, password = PASSWORD, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return ctx.request('POST', '/auth/sign-in', { body: { email, password }, headers });
}

let counter = 0;

/** A new account with `role` in the tenant (made as the CLI does), signed in. */
export async function memberOf(ctx: TestContext, tenant: { tenantId: string }, role: MemberRole, email?: string): Promise<Member> {
  const address = email ?? `${role}-${++counter}-${Date.now().toString(36)}@people.test`;
  await ctx.container.accounts.createUser({ email: address, password: PASSWORD, tenantId: tenant.tenantId, role });
  const res = await signIn(ctx, address);
  const member = memberFrom(res, tenant.tenantId);
  // The member works in this tenant: send X-Tenant-Id explicitly (they may belong to several).
  member.headers['x-tenant-id'] = tenant.tenantId;
  return member;
}

/** The invitation link captured as .eml for this invitation id: its token. */
export async function invitationToken(outboxDir: string, invitationId: string): Promise<{ token: string; to: string; text: string }> {
  const raw = await fs.readFile(path.join(outboxDir, 'invitations', `${invitationId}.eml`));
  const parsed = await simpleParser(raw);
  const text = parsed.text ?? '';
  const match = /\/invite\?token=(mci_[0-9A-Za-z]+)/.exec(text);
  if (!match) throw new Error(`no invitation link in ${text}`);
  const to = Array.isArray(parsed.to) ? parsed.to[0]!.text : parsed.to!.text;
  return { token: match[1]!, to, text };
}
