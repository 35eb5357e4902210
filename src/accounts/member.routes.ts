import type { FastifyRequest } from 'fastify';
import { tenantInPath, type App } from '../http/types.js';
import { ErrorResponse } from '../shared/schema.js';
import { ChangeRoleBody, Invitation, InvitationParams, InviteBody, Member, MemberList, MemberParams, TenantParams } from './account.schemas.js';
import type { Actor, MemberService } from './member.service.js';

const tags = ['members'];
const manage = { scope: 'members:manage' } as const;
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };

/** An API key with members:manage acts as an admin. */
const actorOf = (request: FastifyRequest): Actor => ({
  role: request.principal?.member?.role ?? 'key',
  userId: request.principal?.member?.userId ?? null,
});

export function memberRoutes(app: App, { members }: { members: MemberService }): void {
  app.get(
    '/tenants/:id/members',
    {
      config: manage,
      schema: {
        operationId: 'listMembers',
        summary: "List the tenant's members and pending invitations",
        tags,
        params: TenantParams,
        response: { 200: MemberList, ...errors },
      },
    },
    async (request) => members.list(tenantInPath(request, request.params.id)),
  );

  app.post(
    '/tenants/:id/members',
    {
      config: manage,
      schema: {
        operationId: 'inviteMember',
        summary: 'Invite a member by email',
        description:
          'Sends an invitation email (through SMTP_URL, or captured as a .eml file) with a one-time link `PUBLIC_URL/invite?token=…` valid 7 days. ' +
          'Only an owner may invite an owner (403 `OWNER_PROTECTED`); 409 `ALREADY_MEMBER`.',
        tags,
        params: TenantParams,
        body: InviteBody,
        response: { 201: Invitation, ...errors, 409: ErrorResponse },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await members.invite(actorOf(request), tenantInPath(request, request.params.id), request.body)),
  );

  app.patch(
    '/tenants/:id/members/:userId',
    {
      config: manage,
      schema: {
        operationId: 'changeMemberRole',
        summary: "Change a member's role",
        description: 'Only an owner changes an owner or makes one (403 `OWNER_PROTECTED`); the last owner stays an owner (409 `LAST_OWNER`).',
        tags,
        params: MemberParams,
        body: ChangeRoleBody,
        response: { 200: Member, ...errors, 409: ErrorResponse },
      },
    },
    async (request) =>
      members.changeRole(actorOf(request), tenantInPath(request, request.params.id), request.params.userId, request.body.role),
  );

  app.delete(
    '/tenants/:id/members/:userId',
    {
      config: manage,
      schema: {
        operationId: 'removeMember',
        summary: 'Remove a member',
        description:
          "Their next request in this tenant fails (403 `TENANT_MISMATCH`). Only an owner removes an owner (403 `OWNER_PROTECTED`); the last owner stays (409 `LAST_OWNER`).",
        tags,
        params: MemberParams,
        response: { 204: { type: 'null' }, ...errors, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      await members.remove(actorOf(request), tenantInPath(request, request.params.id), request.params.userId);
      return reply.status(204).send();
    },
  );

  app.post(
    '/tenants/:id/invitations/:invitationId/resend',
    {
      config: manage,
      schema: {
        operationId: 'resendInvitation',
        summary: 'Send a pending invitation again with a new link',
        description:
          'Emails a new one-time link valid 7 days from now; the previous link stops working (404 `INVITATION_NOT_FOUND` when opened). ' +
          'Only an owner touches an invitation to be owner (403 `OWNER_PROTECTED`); an accepted or unknown invitation is 404.',
        tags,
        params: InvitationParams,
        response: { 200: Invitation, ...errors },
      },
    },
    async (request) =>
      members.resendInvitation(actorOf(request), tenantInPath(request, request.params.id), request.params.invitationId),
  );

  app.delete(
    '/tenants/:id/invitations/:invitationId',
    {
      config: manage,
      schema: {
        operationId: 'cancelInvitation',
        summary: 'Cancel a pending invitation',
        description:
          'Its link stops working. Only an owner cancels an invitation to be owner (403 `OWNER_PROTECTED`); an accepted or unknown invitation is 404.',
        tags,
        params: InvitationParams,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      await members.cancelInvitation(actorOf(request), tenantInPath(request, request.params.id), request.params.invitationId);
      return reply.status(204).send();
    },
  );
}
