import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { AppError } from '../shared/errors.js';
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
    {
      config: write,
      schema: {
        operationId: 'createTemplate',
        summary: 'Create a template',
        description: 'With its first DRAFT version.',
        tags,
        body: CreateTemplateBody,
        response: { 201: Template, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await templates.create(tenantOf(request), request.body)),
  );

  app.get(
    '/templates',
    {
      config: read,
      schema: {
        operationId: 'listTemplates',
        summary: 'List templates',
        tags,
        querystring: ListQuery,
        response: { 200: TemplatePage, ...errors },
      },
    },
    async (request) => templates.list(tenantOf(request), request.query),
  );

  app.get(
    '/templates/:id',
    {
      config: read,
      schema: {
        operationId: 'getTemplate',
        summary: 'Get a template',
        description: 'With all its versions, oldest first.',
        tags,
        params: IdParams,
        response: { 200: Template, ...errors },
      },
    },
    async (request) => templates.get(tenantOf(request), request.params.id),
  );

  app.post(
    '/templates/:id/versions',
    {
      config: write,
      schema: {
        operationId: 'createTemplateVersion',
        summary: 'Create a template version',
        description: 'A new DRAFT version; `localeGroupId` makes it a locale variant of another version.',
        tags,
        params: IdParams,
        body: CreateVersionBody,
        response: { 201: TemplateVersion, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await templates.createVersion(tenantOf(request), request.params.id, request.body)),
  );

  app.get(
    '/templates/:id/versions',
    {
      config: read,
      schema: {
        operationId: 'listTemplateVersions',
        summary: 'List the versions of a template',
        tags,
        params: IdParams,
        querystring: ListQuery,
        response: { 200: VersionPage, ...errors },
      },
    },
    async (request) => templates.listVersions(tenantOf(request), request.params.id, request.query),
  );

  app.get(
    '/templates/:id/versions/:versionId',
    {
      config: read,
      schema: {
        operationId: 'getTemplateVersion',
        summary: 'Get a template version',
        tags,
        params: VersionParams,
        response: { 200: TemplateVersion, ...errors },
      },
    },
    async (request) => templates.getVersion(tenantOf(request), request.params.id, request.params.versionId),
  );

  app.patch(
    '/templates/:id/versions/:versionId',
    {
      config: write,
      schema: {
        operationId: 'updateTemplateVersion',
        summary: 'Update a draft version',
        description: 'DRAFT only: a PUBLISHED version answers 409 `INVALID_STATE`.',
        tags,
        params: VersionParams,
        body: UpdateVersionBody,
        response: { 200: TemplateVersion, ...errors },
      },
    },
    async (request) =>
      templates.updateVersion(tenantOf(request), request.params.id, request.params.versionId, request.body),
  );

  app.post(
    '/templates/:id/versions/:versionId/publish',
    {
      config: write,
      schema: {
        operationId: 'publishTemplateVersion',
        summary: 'Publish a version',
        description: 'Checks the Liquid syntax (422 `TEMPLATE_SYNTAX`), inlines CSS and derives the text part.',
        tags,
        params: VersionParams,
        response: { 200: PublishResult, ...errors },
      },
    },
    async (request) => templates.publish(tenantOf(request), request.params.id, request.params.versionId),
  );

  app.post(
    '/templates/:id/versions/:versionId/unpublish',
    {
      config: write,
      schema: {
        operationId: 'unpublishTemplateVersion',
        summary: 'Unpublish a version',
        description: 'Back to DRAFT; messages already queued keep the version they resolved.',
        tags,
        params: VersionParams,
        response: { 200: PublishResult, ...errors },
      },
    },
    async (request) => templates.unpublish(tenantOf(request), request.params.id, request.params.versionId),
  );

  app.post(
    '/templates/:id/versions/:versionId/preview',
    {
      config: read,
      schema: {
        operationId: 'previewTemplateVersion',
        summary: 'Preview a version',
        description:
          "Renders subject, HTML and text with a contact's data or sample data; any status; the body is optional. With `contactId` the key needs `contacts:read` as well (403 `INSUFFICIENT_SCOPE`).",
        tags,
        params: VersionParams,
        body: PreviewBody,
        response: { 200: Preview, ...errors },
      },
      // No body at all means "preview with no data" (curl -X POST with nothing else).
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      // A contact's data is returned in the preview: reading it takes the contacts:read scope too.
      if (request.body.contactId !== undefined && !request.principal!.scopes.has('contacts:read')) {
        throw new AppError(403, 'INSUFFICIENT_SCOPE', 'Previewing with contactId needs the contacts:read scope as well', undefined, {
          requiredScope: 'contacts:read',
        });
      }
      return templates.preview(tenantOf(request), request.params.id, request.params.versionId, request.body);
    },
  );
}
