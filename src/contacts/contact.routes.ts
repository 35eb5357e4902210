import type { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { AppError } from '../shared/errors.js';
import { ErrorResponse, IdParams } from '../shared/schema.js';
import { IMPORT_MEDIA_TYPES, type ContactImporter } from './contact.import.js';
import {
  BulkContactsBody,
  BulkResult,
  Contact,
  ContactList,
  ContactMessageList,
  ContactMessagesQuery,
  ImportResult,
  ListContactsQuery,
  PatchContactBody,
  UpsertContactBody,
} from './contact.schemas.js';
import type { ContactService } from './contact.service.js';
import type { ContactMessages } from './contact-messages.service.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const read = { scope: 'contacts:read' } as const;
const write = { scope: 'contacts:write' } as const;

/** 1000 contacts with full 8 KiB attribute objects. */
const BULK_BODY_LIMIT = 10 * 1024 * 1024;
/** Import bodies are streamed, never buffered; the limit only documents that there is none in practice. */
const IMPORT_BODY_LIMIT = 2 ** 31;

export function contactRoutes(
  app: App,
  {
    contacts,
    contactImporter,
    contactMessages,
  }: { contacts: ContactService; contactImporter: ContactImporter; contactMessages: ContactMessages },
): void {
  app.put(
    '/contacts',
    {
      config: { ...write, idempotent: true },
      schema: {
        operationId: 'upsertContact',
        summary: 'Create or update a contact',
        description: 'Matched by `externalId`, else by email; 409 `CONFLICT` when the two point at different contacts.',
        tags: ['contacts'],
        body: UpsertContactBody,
        response: { 200: Contact, ...errors },
      },
    },
    async (request) => contacts.upsert(tenantOf(request), request.body),
  );

  app.post(
    '/contacts/bulk',
    {
      config: { ...write, idempotent: true },
      bodyLimit: BULK_BODY_LIMIT,
      schema: {
        operationId: 'bulkUpsertContacts',
        summary: 'Create or update contacts in bulk',
        description: '1–1000 contacts, each upserted like `PUT /contacts`; one result per item.',
        tags: ['contacts'],
        body: BulkContactsBody,
        response: { 200: BulkResult, ...errors },
      },
    },
    async (request) => contacts.bulk(tenantOf(request), request.body),
  );

  app.get(
    '/contacts',
    {
      config: read,
      schema: {
        operationId: 'listContacts',
        summary: 'List or search contacts',
        description:
          'Page-numbered (newest first) or, with `cursor`, cursor-paginated (oldest first). `q` searches: email or externalId starting with it (case-insensitive for ASCII letters), combined with the other filters.',
        tags: ['contacts'],
        querystring: ListContactsQuery,
        response: { 200: ContactList, ...errors },
      },
    },
    async (request) => contacts.list(tenantOf(request), request.query),
  );

  app.get(
    '/contacts/:id',
    {
      config: read,
      schema: {
        operationId: 'getContact',
        summary: 'Get a contact',
        description: 'By id or externalId.',
        tags: ['contacts'],
        params: IdParams,
        response: { 200: Contact, ...errors },
      },
    },
    async (request) => contacts.get(tenantOf(request), request.params.id),
  );

  app.get(
    '/contacts/:id/messages',
    {
      config: read,
      schema: {
        operationId: 'listContactMessages',
        summary: "A contact's messages",
        description:
          'The campaign messages (campaign id and name) and transactional emails (email id and subject) of a contact, newest first. The contact by id or externalId; 404 for an erased contact.',
        tags: ['contacts'],
        params: IdParams,
        querystring: ContactMessagesQuery,
        response: { 200: ContactMessageList, ...errors },
      },
    },
    async (request) => contactMessages.list(tenantOf(request), request.params.id, request.query),
  );

  app.patch(
    '/contacts/:id',
    {
      config: write,
      schema: {
        operationId: 'updateContact',
        summary: 'Update a contact',
        description: 'Partial update; `null` clears an optional field.',
        tags: ['contacts'],
        params: IdParams,
        body: PatchContactBody,
        response: { 200: Contact, ...errors },
      },
    },
    async (request) => contacts.patch(tenantOf(request), request.params.id, request.body),
  );

  // Its own plugin scope, so that only this route accepts CSV / NDJSON bodies,
  // handed over as the raw request stream.
  app.register(async (scope) => {
    scope.addContentTypeParser(Object.keys(IMPORT_MEDIA_TYPES), (_request, payload, done) => done(null, payload));
    scope.post(
      '/contacts/import',
      {
        config: write,
        bodyLimit: IMPORT_BODY_LIMIT,
        schema: {
          operationId: 'importContacts',
          summary: 'Import contacts (CSV or NDJSON)',
          description: 'Streams a `text/csv` or `application/x-ndjson` body of any size; rows are upserted like `PUT /contacts`.',
          tags: ['contacts'],
          docsBody: {
            content: {
              'text/csv': {
                schema: { type: 'string', description: 'Header row first; email, externalId, locale, optIn, projectId, …; other columns become attributes' },
                example: 'email,locale,optIn,first_name\nana@example.com,es,true,Ana\n',
              },
              'application/x-ndjson': {
                schema: { type: 'string', description: 'One PUT /contacts body per line' },
                example: '{"email":"ana@example.com","locale":"es","optIn":true}\n',
              },
            },
          },
          response: { 200: ImportResult, ...errors, 415: ErrorResponse },
        },
      },
      async (request) => {
        const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        const format = IMPORT_MEDIA_TYPES[mediaType];
        if (!format) {
          throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the import as text/csv or application/x-ndjson');
        }
        return contactImporter.run(tenantOf(request), format, request.body as Readable);
      },
    );
  });
}
