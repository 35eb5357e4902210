import type { FastifyReply } from 'fastify';
import { SESSION_COOKIE } from '../http/csrf.js';
import { accountOf, type App } from '../http/types.js';
import { AppError } from '../shared/errors.js';
import { ErrorResponse } from '../shared/schema.js';
import { AcceptInvitationBody, Account, SetupBody, SetupStatus, SignedOut, SignInBody, SwitchTenantBody } from './account.schemas.js';
import type { AccountService, SignedIn } from './account.service.js';
import type { SessionService } from './session.service.js';

const tags = ['accounts'];
const publicPost = { public: true, checkOrigin: true } as const;
const session = { session: true } as const;
const SESSION_SECURITY = 'Needs a signed-in session (the `mc_session` cookie); POSTs also need `X-CSRF-Token`. Not for API keys.';

/**
 * Accounts for the dashboard (docs/ACCOUNTS.md): sign-in and out, the
 * signed-in user, the tenant switch, first-run setup, accepting an
 * invitation. The cookie is httpOnly, SameSite=Lax, Path=/, and Secure when
 * PUBLIC_URL is https.
 */
export function accountRoutes(app: App, deps: { accounts: AccountService; sessions: SessionService; publicUrl: string }): void {
  const { accounts, sessions } = deps;
  const secure = new URL(deps.publicUrl).protocol === 'https:';

  const signedIn = (reply: FastifyReply, result: SignedIn, status: number) => {
    reply.setCookie(SESSION_COOKIE, result.session.token, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      secure,
      expires: new Date(result.session.expiresAt),
    });
    const { session: _session, ...view } = result;
    return reply.status(status).send(view);
  };

  app.post(
    '/auth/sign-in',
    {
      config: publicPost,
      schema: {
        operationId: 'signIn',
        summary: 'Sign in',
        description:
          'Starts a session: the answer sets the `mc_session` cookie and carries the CSRF token. A wrong address or password is one answer, ' +
          '401 `INVALID_CREDENTIALS`. After 5 failures in a row for an address (20 from one IP) each further one locks it for twice as long ' +
          '(1 s, 2 s, 4 s … up to 15 min): 429 `TOO_MANY_ATTEMPTS` with `Retry-After`.',
        tags,
        security: [],
        body: SignInBody,
        response: { 200: Account, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 429: ErrorResponse },
      },
    },
    async (request, reply) => {
      try {
        return signedIn(reply, await accounts.signIn({ ...request.body, ip: request.ip }), 200);
      } catch (error) {
        if (error instanceof AppError && typeof error.extra?.retryAfter === 'number') reply.header('Retry-After', String(error.extra.retryAfter));
        throw error;
      }
    },
  );

  app.post(
    '/auth/sign-out',
    {
      config: session,
      schema: {
        operationId: 'signOut',
        summary: 'Sign out (this session)',
        description: `Ends this session and clears the cookie. ${SESSION_SECURITY}`,
        tags,
        response: { 200: SignedOut, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request, reply) => {
      await sessions.end(accountOf(request).sessionId);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { sessionsEnded: 1 };
    },
  );

  app.post(
    '/auth/sign-out-everywhere',
    {
      config: session,
      schema: {
        operationId: 'signOutEverywhere',
        summary: 'Sign out everywhere',
        description: `Ends every session of the signed-in user, this one included. ${SESSION_SECURITY}`,
        tags,
        response: { 200: SignedOut, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request, reply) => {
      const ended = await sessions.endAll(accountOf(request).userId);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { sessionsEnded: ended };
    },
  );

  app.get(
    '/me',
    {
      config: session,
      schema: {
        operationId: 'getMe',
        summary: 'The signed-in user',
        description: `The user, their tenants with their role in each, the current tenant and the CSRF token. ${SESSION_SECURITY}`,
        tags,
        response: { 200: Account, 401: ErrorResponse },
      },
    },
    async (request) => accounts.me(accountOf(request)),
  );

  app.post(
    '/me/tenant',
    {
      config: session,
      schema: {
        operationId: 'switchTenant',
        summary: 'Switch the current tenant',
        description: `Requests without X-Tenant-Id work in the session's current tenant. 403 \`TENANT_MISMATCH\` unless the user is a member. ${SESSION_SECURITY}`,
        tags,
        body: SwitchTenantBody,
        response: { 200: Account, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request) => accounts.switchTenant(accountOf(request), request.body.tenantId),
  );

  app.get(
    '/auth/setup',
    {
      config: { public: true },
      schema: {
        operationId: 'getSetupStatus',
        summary: 'Is first-run setup open?',
        description: 'Open while no account exists; `mailingcore start` then prints a one-time link `PUBLIC_URL/setup?token=…` (the dashboard\'s setup page, which posts to POST /setup).',
        tags,
        response: { 200: SetupStatus },
      },
    },
    async () => ({ open: await accounts.setupOpen() }),
  );

  app.post(
    '/setup',
    {
      config: publicPost,
      schema: {
        operationId: 'completeSetup',
        summary: 'First-run setup',
        description:
          'Only while no account exists, with the token of the link printed at start (it works once; each start prints a new one): creates the first ' +
          'owner and either a tenant (`tenantName`) or ownership of every tenant created with the CLI (`claimTenants: true`), and signs them in. ' +
          '403 `INVALID_SETUP_TOKEN`; 409 `SETUP_DONE` once an account exists; 422 `NO_TENANTS` when there is nothing to claim.',
        tags,
        security: [],
        body: SetupBody,
        response: { 201: Account, 400: ErrorResponse, 403: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse },
      },
    },
    async (request, reply) => signedIn(reply, await accounts.setup(request.body), 201),
  );

  app.post(
    '/invitations/accept',
    {
      config: publicPost,
      schema: {
        operationId: 'acceptInvitation',
        summary: 'Accept an invitation',
        description:
          'With the token of the emailed link (`PUBLIC_URL/invite?token=…`; single use, 7 days): creates the account with this password — or, when the ' +
          'address has one, joins with its password — and signs in. 404 `INVITATION_NOT_FOUND`, 410 `INVITATION_USED` / `INVITATION_EXPIRED`, ' +
          '401 `INVALID_CREDENTIALS` (existing account, wrong password).',
        tags,
        security: [],
        body: AcceptInvitationBody,
        response: { 200: Account, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 410: ErrorResponse },
      },
    },
    async (request, reply) => signedIn(reply, await accounts.acceptInvitation(request.body), 200),
  );
}
