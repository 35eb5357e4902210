import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { ErrorResponse, IdParams } from '../shared/schema.js';
import {
  BatchBody,
  BatchResult,
  EmailAccepted,
  EmailDetail,
  EmailLogPage,
  EmailLogQuery,
  ScheduledPage,
  ScheduledQuery,
  SendEmailBody,
  SendEmailQuery,
} from './email.schemas.js';
import type { EmailService } from './email.service.js';

const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  422: ErrorResponse,
  429: ErrorResponse,
};
const send = { scope: 'email:send' } as const;
const read = { scope: 'email:read' } as const;

/**
 * Transactional email (docs/SENDING.md, "Transactional email"): accepted,
 * rendered and queued here, sent by the priority lane of the workers.
 * `POST /emails/send` handles its idempotency key itself (a unique key per
 * tenant in transactional_emails), so the generic `Idempotency-Key`
 * middleware is not enabled on it.
 */
export function emailRoutes(app: App, { emails }: { emails: EmailService }): void {
  app.post(
    '/emails/send',
    {
      config: send,
      schema: {
        operationId: 'sendEmail',
        summary: 'Send a transactional email',
        description:
          'Checked, rendered and queued at once; a worker sends it ahead of any campaign. 202 `{id, status: "QUEUED", queued: true}` ' +
          '(`SCHEDULED` with `scheduledAt`). Raw `subject`/`htmlBody`/`textBody` are sent as given (not Liquid); `templateVersionId` renders a ' +
          "PUBLISHED version (locale routing; `variables` over the contact's attributes). 422 `SUPPRESSED_RECIPIENT`, `FROM_NOT_VERIFIED`, " +
          '`INVALID_REFERENCE`, `TEMPLATE_NOT_PUBLISHED`, `RENDER_FAILED`, `INVALID_SCHEDULE`; 429 `QUOTA_EXCEEDED`. `idempotencyKey` (or the ' +
          '`Idempotency-Key` header): the same request again answers the same id with `Idempotent-Replayed: true`, another request 409 ' +
          '`IDEMPOTENCY_KEY_REUSED`. `?sync=true` (development aid) waits up to 10 s for a worker to record the outcome: 200 with the final ' +
          'status, or 202 still queued. An `mc_test_` key captures the email instead of sending it (`GET /emails/{id}/raw`).',
        tags: ['emails'],
        querystring: SendEmailQuery,
        body: SendEmailBody,
        response: { 200: EmailAccepted, 202: EmailAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const answer = await emails.send(
        tenantOf(request),
        request.principal!.mode,
        request.body,
        request.headers['idempotency-key'],
        request.query.sync === true,
      );
      if (answer.replayed) reply.header('Idempotent-Replayed', 'true');
      return reply.status(answer.statusCode).send(answer.body);
    },
  );

  app.post(
    '/emails/batch',
    {
      config: { ...send, idempotent: true },
      schema: {
        operationId: 'sendEmailBatch',
        summary: 'Send up to 100 transactional emails',
        description:
          '`{emails: [...]}`, 1–100 items with the fields of `POST /emails/send`, each judged on its own. 200 with one result per item, ' +
          'in order: `{index, id, status}` when queued (or replayed by its `idempotencyKey`), `{index, error: {code, message, details}}` ' +
          'when refused; the valid items are queued in one transaction. 429 `QUOTA_EXCEEDED` (nothing queued) when the valid items together ' +
          'would pass the quota ceiling. The `Idempotency-Key` header replays the whole answer.',
        tags: ['emails'],
        body: BatchBody,
        response: { 200: BatchResult, ...errors },
      },
    },
    async (request) => emails.batch(tenantOf(request), request.principal!.mode, request.body.emails),
  );

  app.get(
    '/emails/logs',
    {
      config: read,
      schema: {
        operationId: 'listEmailLogs',
        summary: 'Transactional email logs',
        description:
          'Newest first, with the total. `status` is the queue status (SCHEDULED while a scheduled email waits); `messageId` the transport’s Message-ID once sent. ' +
          'Filters: `status`, `to` (exact address), `tag`, `since`/`until` (accepted at).',
        tags: ['emails'],
        querystring: EmailLogQuery,
        response: { 200: EmailLogPage, ...errors },
      },
    },
    async (request) => emails.logs(tenantOf(request), request.query),
  );

  app.get(
    '/emails/:id',
    {
      config: read,
      schema: {
        operationId: 'getEmail',
        summary: 'Get a transactional email',
        description: 'Its sender, status, attempts, last error, and its `email.*` events.',
        tags: ['emails'],
        params: IdParams,
        response: { 200: EmailDetail, ...errors },
      },
    },
    async (request) => emails.get(tenantOf(request), request.params.id),
  );

  app.get(
    '/emails/:id/raw',
    {
      config: read,
      schema: {
        operationId: 'getCapturedTransactionalEmail',
        summary: 'Get a captured transactional email',
        description: 'A captured email (an `mc_test_` key, or no SMTP transport) exactly as it would have been sent, as `message/rfc822`; 404 otherwise.',
        tags: ['emails'],
        params: IdParams,
        docsResponses: {
          200: { description: 'The email, headers included', content: { 'message/rfc822': { schema: { type: 'string' } } } },
          404: ErrorResponse,
        },
      },
    },
    async (request, reply) => reply.type('message/rfc822').send(await emails.raw(tenantOf(request), request.params.id)),
  );

  app.get(
    '/scheduled-emails',
    {
      config: read,
      schema: {
        operationId: 'listScheduledEmails',
        summary: 'Scheduled emails',
        description: 'Scheduled transactional emails that have not gone yet, soonest first.',
        tags: ['emails'],
        querystring: ScheduledQuery,
        response: { 200: ScheduledPage, ...errors },
      },
    },
    async (request) => emails.scheduled(tenantOf(request), request.query),
  );

  app.delete(
    '/scheduled-emails/:id',
    {
      config: send,
      schema: {
        operationId: 'cancelScheduledEmail',
        summary: 'Cancel a scheduled email',
        description:
          'A scheduled email that has not gone yet → CANCELLED, its quota given back. 409 `INVALID_STATE` once a worker took it or it was cancelled; 404 for an email that was not scheduled.',
        tags: ['emails'],
        params: IdParams,
        response: { 200: EmailAccepted, ...errors },
      },
    },
    async (request) => emails.cancelScheduled(tenantOf(request), request.params.id),
  );
}
