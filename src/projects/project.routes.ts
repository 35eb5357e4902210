import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { ErrorResponse, IdParams } from '../shared/schema.js';
import { CreateProjectBody, ListProjectsQuery, Project, ProjectPage, UpdateProjectBody, VerifyResult } from './project.schemas.js';
import type { ProjectService } from './project.service.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const read = { scope: 'projects:read' } as const;
const write = { scope: 'projects:write' } as const;
const tags = ['projects'];

export function projectRoutes(app: App, { projects }: { projects: ProjectService }): void {
  app.post(
    '/projects',
    {
      config: write,
      schema: {
        operationId: 'createProject',
        summary: 'Create an SMTP project',
        description:
          'The password is encrypted at rest and never returned. 422 `HOST_NOT_ALLOWED` when `smtp.host` is (or resolves to) ' +
          'an address outbound connections may not reach: loopback, private, link-local, CGNAT, multicast, reserved.',
        tags,
        body: CreateProjectBody,
        response: { 201: Project, ...errors, 422: ErrorResponse },
      },
    },
    async (request, reply) => reply.status(201).send(await projects.create(tenantOf(request), request.body)),
  );

  app.get(
    '/projects',
    {
      config: read,
      schema: {
        operationId: 'listProjects',
        summary: 'List SMTP projects',
        tags,
        querystring: ListProjectsQuery,
        response: { 200: ProjectPage, ...errors },
      },
    },
    async (request) => projects.list(tenantOf(request), request.query),
  );

  app.get(
    '/projects/:id',
    {
      config: read,
      schema: {
        operationId: 'getProject',
        summary: 'Get an SMTP project',
        tags,
        params: IdParams,
        response: { 200: Project, ...errors },
      },
    },
    async (request) => projects.get(tenantOf(request), request.params.id),
  );

  app.patch(
    '/projects/:id',
    {
      config: write,
      schema: {
        operationId: 'updateProject',
        summary: 'Update an SMTP project',
        description:
          'Partial update; an omitted password is kept, `null` removes it. Changing `smtp.host`, `smtp.port` or `smtp.secure` ' +
          'of a project with a password needs `smtp.pass` again (400 `PASSWORD_REQUIRED`); 422 `HOST_NOT_ALLOWED` as on create.',
        tags,
        params: IdParams,
        body: UpdateProjectBody,
        response: { 200: Project, ...errors, 422: ErrorResponse },
      },
    },
    async (request) => projects.update(tenantOf(request), request.params.id, request.body),
  );

  app.delete(
    '/projects/:id',
    {
      config: write,
      schema: {
        operationId: 'deleteProject',
        summary: 'Delete an SMTP project',
        description: '409 `CONFLICT` while a DRAFT, SCHEDULED or SENDING campaign uses it.',
        tags,
        params: IdParams,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      await projects.delete(tenantOf(request), request.params.id);
      return reply.status(204).send();
    },
  );

  // Opens an outbound connection with the stored credentials: a write-scope action, not a read.
  app.post(
    '/projects/:id/verify',
    {
      config: write,
      schema: {
        operationId: 'verifyProject',
        summary: 'Verify SMTP settings',
        description:
          'Connects to the server with the stored credentials: `{ok: true}` or `{ok: false, error}`, the error one short ' +
          'phrase (`connection refused`, `timeout`, `TLS failed`, `authentication failed`, `not an SMTP server`, ' +
          '`host not allowed`, …), never the server\'s own text.',
        tags,
        params: IdParams,
        response: { 200: VerifyResult, ...errors },
      },
    },
    async (request) => projects.verify(tenantOf(request), request.params.id),
  );
}
