import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { ErrorResponse, IdParams } from '../shared/schema.js';
import {
  CreateTemplateBody,
  CreateVersionBody,
  ListQuery,
  Preview,
  PreviewBody,
  PublishResult,
  Template,
  TemplatePage,
  TemplateVersion,
  UpdateVersionBody,
  VersionPage,
  VersionParams,
} from './template.schemas.js';
import type { TemplateService } from './template.service.js';

const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  422: ErrorResponse,
};
const read = { scope: 'templates:read' } as const;
const write = { scope: 'templates:write' } as const;
const tags = ['templates'];

export function templateRoutes(app: App, { templates }: { templates: TemplateService }): void {
  app.post(
    '/templates',
    { config: write, schema: { tags, body: CreateTemplateBody, response: { 201: Template, ...errors } } },
    async (request, reply) => reply.status(201).send(await templates.create(tenantOf(request), request.body)),
  );

  app.get(
    '/templates',
    { config: read, schema: { tags, querystring: ListQuery, response: { 200: TemplatePage, ...errors } } },
    async (request) => templates.list(tenantOf(request), request.query),
  );

  app.get(
    '/templates/:id',
    { config: read, schema: { tags, params: IdParams, response: { 200: Template, ...errors } } },
    async (request) => templates.get(tenantOf(request), request.params.id),
  );

  app.post(
    '/templates/:id/versions',
    {
      config: write,
      schema: { tags, params: IdParams, body: CreateVersionBody, response: { 201: TemplateVersion, ...errors } },
    },
    async (request, reply) =>
      reply.status(201).send(await templates.createVersion(tenantOf(request), request.params.id, request.body)),
  );

  app.get(
    '/templates/:id/versions',
    {
      config: read,
      schema: { tags, params: IdParams, querystring: ListQuery, response: { 200: VersionPage, ...errors } },
    },
    async (request) => templates.listVersions(tenantOf(request), request.params.id, request.query),
  );

  app.get(
    '/templates/:id/versions/:versionId',
    { config: read, schema: { tags, params: VersionParams, response: { 200: TemplateVersion, ...errors } } },
    async (request) => templates.getVersion(tenantOf(request), request.params.id, request.params.versionId),
  );

  app.patch(
    '/templates/:id/versions/:versionId',
    {
      config: write,
      schema: { tags, params: VersionParams, body: UpdateVersionBody, response: { 200: TemplateVersion, ...errors } },
    },
    async (request) =>
      templates.updateVersion(tenantOf(request), request.params.id, request.params.versionId, request.body),
  );

  app.post(
    '/templates/:id/versions/:versionId/publish',
    { config: write, schema: { tags, params: VersionParams, response: { 200: PublishResult, ...errors } } },
    async (request) => templates.publish(tenantOf(request), request.params.id, request.params.versionId),
  );

  app.post(
    '/templates/:id/versions/:versionId/unpublish',
    { config: write, schema: { tags, params: VersionParams, response: { 200: PublishResult, ...errors } } },
    async (request) => templates.unpublish(tenantOf(request), request.params.id, request.params.versionId),
  );

  app.post(
    '/templates/:id/versions/:versionId/preview',
    {
      config: read,
      schema: { tags, params: VersionParams, body: PreviewBody, response: { 200: Preview, ...errors } },
      // No body at all means "preview with no data" (curl -X POST with nothing else).
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) =>
      templates.preview(tenantOf(request), request.params.id, request.params.versionId, request.body),
  );
}
