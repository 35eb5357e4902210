import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { AppError } from '../shared/errors.js';
import { ErrorResponse, IdParams } from '../shared/schema.js';
import {
  Campaign,
  CampaignPage,
  CreateCampaignBody,
  ForceQuery,
  ListCampaignsQuery,
  ListMessagesQuery,
  LocaleCoverageResponse,
  MessagePage,
  MessageParams,
  PreflightResponse,
  RetryFailedResponse,
  ScheduleCampaignBody,
  TestSendBody,
  TestSendResponse,
  UpdateCampaignBody,
} from './campaign.schemas.js';
import type { CampaignSendService } from './campaign-send.service.js';
import type { LocaleCoverage } from './coverage.js';
import { formatSse, type CampaignProgress } from './campaign-progress.js';
import type { CampaignService } from './campaign.service.js';
import type { MessageLog } from './message-log.service.js';
import type { PreflightService } from './preflight.service.js';
import type { TestSendService } from './test-send.service.js';

const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  422: ErrorResponse,
  429: ErrorResponse,
};
const read = { scope: 'campaigns:read' } as const;
const write = { scope: 'campaigns:write' } as const;
/** Makes email go out or stop: separate from preparing (editors prepare, admins and owners send). */
const send = { scope: 'campaigns:send' } as const;

export function campaignRoutes(
  app: App,
  {
    campaigns,
    campaignSend,
    testSend,
    messageLog,
    localeCoverage,
    campaignProgress,
    preflight,
  }: {
    campaigns: CampaignService;
    campaignSend: CampaignSendService;
    testSend: TestSendService;
    messageLog: MessageLog;
    localeCoverage: LocaleCoverage;
    campaignProgress: CampaignProgress;
    preflight: PreflightService;
  },
): void {
  app.post(
    '/campaigns',
    {
      config: { ...write, idempotent: true },
      schema: {
        operationId: 'createCampaign',
        summary: 'Create a campaign',
        description: 'A DRAFT campaign: a template version sent to an audience filter.',
        tags: ['campaigns'],
        body: CreateCampaignBody,
        response: { 201: Campaign, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await campaigns.create(tenantOf(request), request.body)),
  );

  app.get(
    '/campaigns',
    {
      config: read,
      schema: {
        operationId: 'listCampaigns',
        summary: 'List campaigns',
        description: 'Newest first, optionally by status.',
        tags: ['campaigns'],
        querystring: ListCampaignsQuery,
        response: { 200: CampaignPage, ...errors },
      },
    },
    async (request) => campaigns.list(tenantOf(request), request.query),
  );

  app.get(
    '/campaigns/:id',
    {
      config: read,
      schema: {
        operationId: 'getCampaign',
        summary: 'Get a campaign',
        description: 'With its status and delivery counters.',
        tags: ['campaigns'],
        params: IdParams,
        response: { 200: Campaign, ...errors },
      },
    },
    async (request) => campaigns.get(tenantOf(request), request.params.id),
  );

  app.patch(
    '/campaigns/:id',
    {
      config: write,
      schema: {
        operationId: 'updateCampaign',
        summary: 'Update a draft campaign',
        description: 'Partial update with the create rules; `null` clears an optional field. DRAFT only (409 `INVALID_STATE` otherwise).',
        tags: ['campaigns'],
        params: IdParams,
        body: UpdateCampaignBody,
        response: { 200: Campaign, ...errors },
      },
    },
    async (request) => campaigns.update(tenantOf(request), request.params.id, request.body),
  );

  app.post(
    '/campaigns/:id/schedule',
    {
      config: send,
      schema: {
        operationId: 'scheduleCampaign',
        summary: 'Schedule a campaign',
        description:
          "DRAFT or SCHEDULED → SCHEDULED. A `scheduledAt` without offset is wall-clock time in `timezone` (the body's, else the campaign's, else UTC). 422 `PREFLIGHT_FAILED` when a pre-send check fails (see `GET /campaigns/{id}/preflight`), unless `force=true`.",
        tags: ['campaigns'],
        params: IdParams,
        querystring: ForceQuery,
        body: ScheduleCampaignBody,
        response: { 200: Campaign, ...errors },
      },
    },
    async (request) => campaigns.schedule(tenantOf(request), request.params.id, request.body, request.principal!.mode, request.query.force === true),
  );

  app.post(
    '/campaigns/:id/cancel',
    {
      config: send,
      schema: {
        operationId: 'cancelCampaign',
        summary: 'Cancel a campaign',
        description: "DRAFT, SCHEDULED, SENDING or PAUSED → CANCELLED; a sending or paused campaign's queued messages are cancelled with it. No body.",
        tags: ['campaigns'],
        params: IdParams,
        response: { 200: Campaign, ...errors },
      },
    },
    async (request) => campaigns.cancel(tenantOf(request), request.params.id),
  );

  app.post(
    '/campaigns/:id/pause',
    {
      config: send,
      schema: {
        operationId: 'pauseCampaign',
        summary: 'Pause a sending campaign',
        description:
          'SENDING → PAUSED (`pausedReason: "manual"`): nothing more is sent; queued messages wait and emails in flight go back to the queue. The circuit breaker pauses a campaign the same way when its hard-bounce or complaint rate passes the line. 409 from any other status. No body.',
        tags: ['campaigns'],
        params: IdParams,
        response: { 200: Campaign, ...errors },
      },
    },
    async (request) => campaigns.pause(tenantOf(request), request.params.id),
  );

  app.post(
    '/campaigns/:id/resume',
    {
      config: send,
      schema: {
        operationId: 'resumeCampaign',
        summary: 'Resume a paused campaign',
        description:
          'PAUSED → SENDING: its queued messages are due at once, each recipient still mailed at most once. After a circuit-breaker pause the breaker judges only what is sent from now on. 409 from any other status. No body.',
        tags: ['campaigns'],
        params: IdParams,
        response: { 200: Campaign, ...errors },
      },
    },
    async (request) => campaigns.resume(tenantOf(request), request.params.id),
  );

  app.post(
    '/campaigns/:id/send',
    {
      config: { ...send, idempotent: true },
      schema: {
        operationId: 'sendCampaign',
        summary: 'Send a campaign now',
        description:
          'DRAFT or SCHEDULED → SENDING; the fan-out and delivery run in the background (poll the campaign). 422 without a published template version; 429 `QUOTA_EXCEEDED` when the audience would pass the quota ceiling (checked first, never forced); 422 `PREFLIGHT_FAILED` (the failed checks in `details`) when a pre-send check fails, unless `force=true`.',
        tags: ['campaigns'],
        params: IdParams,
        querystring: ForceQuery,
        response: { 202: Campaign, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(202).send(await campaignSend.send(tenantOf(request), request.params.id, request.principal!.mode, request.query.force === true)),
  );

  app.post(
    '/campaigns/:id/test',
    {
      config: write,
      schema: {
        operationId: 'testSendCampaign',
        summary: 'Send test copies',
        description:
          'Synchronous `[Test]` copies to 1–5 addresses; status and counters are untouched; a draft template version may be tested. Each copy uses the variant of the address\'s contact locale, or of `locale` when given (400 if not a BCP 47 tag). Each address counts toward the monthly quota (429 `QUOTA_EXCEEDED` past 110 %) and toward the tenant\'s test sends of the hour (`TEST_SENDS_PER_HOUR`, default 50; 429 `TEST_SEND_LIMIT` with `Retry-After` beyond).',
        tags: ['campaigns'],
        params: IdParams,
        body: TestSendBody,
        response: { 200: TestSendResponse, ...errors },
      },
    },
    async (request, reply) => {
      try {
        return { results: await testSend.test(tenantOf(request), request.params.id, request.body.emails, request.principal!.mode, request.body.locale) };
      } catch (error) {
        if (error instanceof AppError && typeof error.extra?.retryAfter === 'number') reply.header('Retry-After', String(error.extra.retryAfter));
        throw error;
      }
    },
  );

  app.get(
    '/campaigns/:id/messages',
    {
      config: read,
      schema: {
        operationId: 'listCampaignMessages',
        summary: "List a campaign's messages",
        description: 'The per-recipient log: address, locale, status, attempts, last error.',
        tags: ['campaigns'],
        params: IdParams,
        querystring: ListMessagesQuery,
        response: { 200: MessagePage, ...errors },
      },
    },
    async (request) =>
      messageLog.list(tenantOf(request), request.params.id, request.query.status, {
        page: request.query.page,
        limit: request.query.limit,
      }),
  );

  app.get(
    '/campaigns/:id/messages/:messageId/raw',
    {
      config: read,
      schema: {
        operationId: 'getCapturedEmail',
        summary: 'Get a captured email',
        description: 'A captured email (no SMTP transport, or an `mc_test_` key) exactly as it would have been sent, as `message/rfc822`.',
        tags: ['campaigns'],
        params: MessageParams,
        docsResponses: {
          200: { description: 'The email, headers included', content: { 'message/rfc822': { schema: { type: 'string' } } } },
          404: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const raw = await messageLog.captured(tenantOf(request), request.params.id, request.params.messageId);
      return reply.type('message/rfc822').send(raw);
    },
  );

  app.addHook('preClose', (done) => {
    campaignProgress.closeAll();
    done();
  });
  app.get(
    '/campaigns/:id/progress',
    {
      config: read,
      schema: {
        operationId: 'streamCampaignProgress',
        summary: 'Follow a campaign live',
        description:
          'Server-Sent Events: a `progress` event with `{id, status, counters, at}` at once and every second while the campaign ' +
          'may still change, then one `done` event when it is SENT or CANCELLED, and the stream closes. A finished campaign gets ' +
          'its `done` event at once. At most 20 streams per tenant at a time (429 `TOO_MANY_STREAMS`).',
        tags: ['campaigns'],
        params: IdParams,
        docsResponses: {
          200: { description: 'The event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          404: ErrorResponse,
          429: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const stream = await campaignProgress.openStream(tenantOf(request), request.params.id);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        // The socket ends with the stream: an idle keep-alive socket left behind would hold a closing server open.
        connection: 'close',
      });
      // The client going away ends the stream (and frees its slot).
      raw.on('close', () => stream.close());
      request.raw.socket.on('close', () => stream.close());
      try {
        for await (const event of stream.events()) raw.write(formatSse(event));
      } catch (error) {
        request.log.error({ err: error }, 'progress stream failed');
      } finally {
        // Once flushed, the socket goes too: a client that never closes its side would otherwise hold a closing server open.
        raw.end(() => request.raw.socket.destroy());
      }
    },
  );

  app.post(
    '/campaigns/:id/retry-failed',
    {
      config: send,
      schema: {
        operationId: 'retryFailedMessages',
        summary: 'Retry failed messages',
        description:
          'FAILED messages (not bounced or suppressed addresses) go back to the queue and the campaign back to SENDING. An `mc_test_` key cannot retry a campaign started live (403 `TEST_KEY_LIVE_CAMPAIGN`).',
        tags: ['campaigns'],
        params: IdParams,
        response: { 200: RetryFailedResponse, ...errors },
      },
    },
    async (request) => campaignSend.retryFailed(tenantOf(request), request.params.id, request.principal!.mode),
  );

  app.get(
    '/campaigns/:id/locale-coverage',
    {
      config: read,
      schema: {
        operationId: 'getLocaleCoverage',
        summary: 'Locale coverage',
        description: 'Contacts the campaign would reach now, by locale, and whether a published variant covers each.',
        tags: ['campaigns'],
        params: IdParams,
        response: { 200: LocaleCoverageResponse, ...errors },
      },
    },
    async (request) => localeCoverage.forCampaign(tenantOf(request), request.params.id),
  );

  app.get(
    '/campaigns/:id/preflight',
    {
      config: read,
      schema: {
        operationId: 'getCampaignPreflight',
        summary: 'Pre-send check',
        description:
          'The checks send and schedule apply: From domain verified, an unsubscribe link in every variant (fail), one-click unsubscribe, locale coverage, sender project verified or delivering, a test send done. Only `fail` stops a send (422 `PREFLIGHT_FAILED`); `warn` does not.',
        tags: ['campaigns'],
        params: IdParams,
        response: { 200: PreflightResponse, ...errors },
      },
    },
    async (request) => preflight.report(tenantOf(request), request.params.id),
  );
}
