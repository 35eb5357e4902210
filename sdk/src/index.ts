import createFetchClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths } from './schema.js';
export { verifyWebhook, WebhookVerificationError, type VerifyOptions, type WebhookEvent } from './webhooks.js';

type JsonBody<Op, Code extends number> = Op extends { responses: { [K in Code]: { content: { 'application/json': infer B } } } } ? B : never;
type RequestBody<Op> = Op extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type Query<Op> = Op extends { parameters: { query: infer Q } } ? Q : never;
/** List queries with the server's defaults filled in (page 1, …): every field optional. */
type ListQuery<Op> = Partial<Query<Op>>;

export type Campaign = JsonBody<operations['getCampaign'], 200>;
export type CampaignStatus = Campaign['status'];
export type CampaignCounters = Campaign['counters'];
export type CampaignPage = JsonBody<operations['listCampaigns'], 200>;
export type CampaignMessagePage = JsonBody<operations['listCampaignMessages'], 200>;
export type CampaignMessage = CampaignMessagePage['data'][number];
export type CreateCampaignBody = RequestBody<operations['createCampaign']>;
export type BulkContactsBody = RequestBody<operations['bulkUpsertContacts']>;
export type BulkContactsResult = JsonBody<operations['bulkUpsertContacts'], 200>;
export type ErrorResponse = components['schemas']['ErrorResponse'];

export type SendEmailBody = RequestBody<operations['sendEmail']>;
export type EmailBatchBody = RequestBody<operations['sendEmailBatch']>;
export type EmailLogQuery = ListQuery<operations['listEmailLogs']>;
export type LocaleCoverage = JsonBody<operations['getLocaleCoverage'], 200>;
export type ScheduleCampaignBody = RequestBody<operations['scheduleCampaign']>;
export type UpdateCampaignBody = RequestBody<operations['updateCampaign']>;
export type TestSendBody = RequestBody<operations['testSendCampaign']>;

export type Contact = JsonBody<operations['getContact'], 200>;
export type ContactPage = JsonBody<operations['listContacts'], 200>;
export type UpsertContactBody = RequestBody<operations['upsertContact']>;
export type UpdateContactBody = RequestBody<operations['updateContact']>;
export type ImportResult = JsonBody<operations['importContacts'], 200>;
export type ContactSearchQuery = Omit<ListQuery<operations['listContacts']>, 'q'>;
export type ContactMessagePage = JsonBody<operations['listContactMessages'], 200>;
export type ContactMessage = ContactMessagePage['data'][number];
export type AudienceFilter = NonNullable<RequestBody<operations['countAudience']>['filter']>;

export type Me = JsonBody<operations['getMe'], 200>;
export type MemberList = JsonBody<operations['listMembers'], 200>;
export type InviteMemberBody = RequestBody<operations['inviteMember']>;
export type Invitation = JsonBody<operations['inviteMember'], 201>;
export type Member = JsonBody<operations['changeMemberRole'], 200>;
export type MemberRole = RequestBody<operations['changeMemberRole']>['role'];
export type ApiKeyList = JsonBody<operations['listApiKeys'], 200>;
export type ApiKey = JsonBody<operations['revokeApiKey'], 200>;
export type CreateApiKeyBody = RequestBody<operations['createApiKey']>;
export type CreatedApiKey = JsonBody<operations['createApiKey'], 201>;

export type Template = JsonBody<operations['getTemplate'], 200>;
export type TemplatePage = JsonBody<operations['listTemplates'], 200>;
export type CreateTemplateBody = RequestBody<operations['createTemplate']>;
export type TemplateVersion = JsonBody<operations['getTemplateVersion'], 200>;
export type CreateTemplateVersionBody = RequestBody<operations['createTemplateVersion']>;
export type UpdateTemplateVersionBody = RequestBody<operations['updateTemplateVersion']>;
export type PreviewBody = RequestBody<operations['previewTemplateVersion']>;
export type Preview = JsonBody<operations['previewTemplateVersion'], 200>;

export type Suppression = JsonBody<operations['createSuppression'], 200>;
export type SuppressionReason = Suppression['reason'];
export type SuppressionPage = JsonBody<operations['listSuppressions'], 200>;

export type Project = JsonBody<operations['getProject'], 200>;
export type CreateProjectBody = RequestBody<operations['createProject']>;
export type UpdateProjectBody = RequestBody<operations['updateProject']>;
export type ProjectVerification = JsonBody<operations['verifyProject'], 200>;

export type Usage = JsonBody<operations['getUsage'], 200>;

export type EventPage = JsonBody<operations['listEvents'], 200>;
export type LoggedEvent = EventPage['data'][number];
export type WebhookEndpoint = JsonBody<operations['getWebhookEndpoint'], 200>;
export type CreatedWebhookEndpoint = JsonBody<operations['createWebhookEndpoint'], 201>;
export type CreateWebhookEndpointBody = RequestBody<operations['createWebhookEndpoint']>;
export type UpdateWebhookEndpointBody = RequestBody<operations['updateWebhookEndpoint']>;
export type WebhookEndpointPage = JsonBody<operations['listWebhookEndpoints'], 200>;
export type WebhookDelivery = JsonBody<operations['testWebhookEndpoint'], 200>;
export type WebhookDeliveryPage = JsonBody<operations['listWebhookDeliveries'], 200>;

/** A campaign is done when nothing more will happen to it. */
export const FINAL_STATUSES: readonly CampaignStatus[] = ['SENT', 'CANCELLED'];

export interface RetryOptions {
  /** Retries after the first attempt (default 3; 0 disables retrying). */
  retries?: number;
  /** First backoff delay when the server gives no Retry-After (default 250 ms; doubled each retry, with jitter). */
  baseDelayMs?: number;
  /** Upper bound of any wait, Retry-After included (default 30 s). */
  maxDelayMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

export interface ClientConfig {
  /** e.g. http://127.0.0.1:3000 */
  baseUrl: string;
  /** mc_live_… or mc_test_… */
  apiKey: string;
  tenantId: string;
  /** Retries of a failed request (429, 5xx, network error); default 3. */
  retries?: number;
  retry?: Omit<RetryOptions, 'retries'>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof globalThis.fetch;
}

/** An API error answer (or a network failure, status 0), thrown by the convenience wrappers. */
export class MailingCoreError extends Error {
  override readonly name = 'MailingCoreError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body?: ErrorResponse | unknown,
  ) {
    super(message);
  }
}

/** A fresh Idempotency-Key: send the same one again to make a retried create/send safe. */
export function idempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * May this request be sent again? Idempotent methods always; POST and PATCH
 * only with an Idempotency-Key (the server then replays the first answer).
 */
export function isRetryable(request: Request): boolean {
  return IDEMPOTENT_METHODS.has(request.method.toUpperCase()) || request.headers.has('idempotency-key');
}

/** Retry-After in milliseconds (delta-seconds or an HTTP date), or undefined when absent or malformed. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** 429 QUOTA_EXCEEDED will not go away by waiting: only RATE_LIMITED-style 429s and 5xx are retried. */
async function isTransient(response: Response): Promise<boolean> {
  if (response.status >= 500) return true;
  if (response.status !== 429) return false;
  try {
    const body = (await response.clone().json()) as { code?: unknown };
    return body?.code !== 'QUOTA_EXCEEDED';
  } catch {
    return true;
  }
}

/**
 * Wraps fetch with bounded retries on 429 and 5xx (and network errors):
 * waits Retry-After when the server gives one, else exponential backoff with
 * jitter. A POST/PATCH without Idempotency-Key is never retried.
 */
export function retryingFetch(
  baseFetch: (input: Request) => Promise<Response>,
  options: RetryOptions = {},
): (input: Request) => Promise<Response> {
  const retries = Math.max(0, Math.floor(options.retries ?? 3));
  const baseDelayMs = options.baseDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? defaultSleep;
  return async (request: Request) => {
    const retryable = retries > 0 && isRetryable(request);
    // Keep a pristine copy: a request body can be read only once.
    const template = retryable ? request.clone() : request;
    for (let attempt = 0; ; attempt++) {
      const current = attempt === 0 ? request : template.clone();
      const last = !retryable || attempt >= retries;
      const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2));
      let response: Response;
      try {
        response = await baseFetch(current);
      } catch (error) {
        if (last || current.signal.aborted) throw error;
        await sleep(backoff);
        continue;
      }
      if (last || !(await isTransient(response))) return response;
      const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
      await response.body?.cancel().catch(() => {});
      await sleep(Math.min(maxDelayMs, retryAfter ?? backoff));
    }
  };
}

export interface IdempotencyOptions {
  /** Sent as Idempotency-Key; a fresh one is generated when omitted, so retries stay safe. */
  idempotencyKey?: string;
}

export interface WaitOptions {
  /** Poll interval (default 1000 ms). */
  intervalMs?: number;
  /** Give up after this long (default 5 minutes). */
  timeoutMs?: number;
  /** Called with each polled state. */
  onProgress?: (campaign: Campaign) => void;
  signal?: AbortSignal;
}

type FetchResult = { data?: unknown; error?: unknown; response: Response };

/** The data of a typed call, or a MailingCoreError built from its error answer. */
export async function unwrap<R extends FetchResult>(call: Promise<R>): Promise<NonNullable<R['data']>> {
  const result = await call;
  if (result.error !== undefined || !result.response.ok) {
    const body = result.error as Partial<ErrorResponse> | undefined;
    throw new MailingCoreError(
      result.response.status,
      typeof body?.code === 'string' ? body.code : `HTTP_${result.response.status}`,
      typeof body?.message === 'string' ? body.message : result.response.statusText || 'request failed',
      body,
    );
  }
  return result.data as NonNullable<R['data']>;
}

export type MailingCoreClient = Client<paths> & {
  campaigns: ReturnType<typeof campaignHelpers>;
  contacts: ReturnType<typeof contactHelpers>;
  templates: ReturnType<typeof templateHelpers>;
  suppressions: ReturnType<typeof suppressionHelpers>;
  projects: ReturnType<typeof projectHelpers>;
  usage: ReturnType<typeof usageHelpers>;
  events: ReturnType<typeof eventHelpers>;
  webhooks: ReturnType<typeof webhookHelpers>;
  domains: ReturnType<typeof domainHelpers>;
  emails: ReturnType<typeof emailHelpers>;
  audience: ReturnType<typeof audienceHelpers>;
  members: ReturnType<typeof memberHelpers>;
  apiKeys: ReturnType<typeof apiKeyHelpers>;
  /** GET /me: the signed-in user, their tenants and roles. Answers a cookie session only (pass a `fetch` that sends it); an API key gets 401. */
  me: () => Promise<Me>;
};

/** Sends a request the typed paths cannot describe (a streamed body); same headers, retries and errors. */
type RawFetch = (path: string, init: RequestInit & { duplex?: 'half' }) => Promise<Response>;

/**
 * A typed client of the MailingCore API: `client.GET('/campaigns/{id}', { params: { path: { id } } })`
 * and every other path of the OpenAPI document, plus helpers that return the data or throw a
 * MailingCoreError: `client.campaigns`, `contacts`, `templates`, `suppressions`, `projects`, `usage`, `events`, `webhooks`, `domains`, `emails`,
 * `audience`, `members`, `apiKeys` (scope `keys:manage`) and `me()`.
 */
export function createClient(config: ClientConfig): MailingCoreClient {
  const baseFetch = config.fetch ?? globalThis.fetch;
  const baseUrl = config.baseUrl.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${config.apiKey}`, 'x-tenant-id': config.tenantId };
  const fetch = retryingFetch((request) => baseFetch(request), { ...config.retry, retries: config.retries ?? 3 });
  const api = createFetchClient<paths>({ baseUrl, headers, fetch });
  const raw: RawFetch = (path, init) =>
    fetch(new Request(`${baseUrl}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } }));
  return Object.assign(api, {
    campaigns: campaignHelpers(api),
    contacts: contactHelpers(api, raw),
    templates: templateHelpers(api),
    suppressions: suppressionHelpers(api),
    projects: projectHelpers(api),
    usage: usageHelpers(api),
    events: eventHelpers(api),
    webhooks: webhookHelpers(api),
    domains: domainHelpers(api),
    emails: emailHelpers(api, raw),
    audience: audienceHelpers(api),
    members: memberHelpers(api),
    apiKeys: apiKeyHelpers(api),
    me: () => unwrap(api.GET('/me')),
  });
}

/** Resolves on a 2xx without a body (204): openapi-fetch reports data undefined, which is success here. */
async function noContent(call: Promise<FetchResult>): Promise<void> {
  await unwrap(call).catch((error: unknown) => {
    if (!(error instanceof MailingCoreError) || error.status >= 300) throw error;
  });
}

function audienceHelpers(api: Client<paths>) {
  return {
    /** How many contacts a campaign with this audience filter would reach now (opt-in rule and suppressions applied). */
    count: async (filter: AudienceFilter | null = null): Promise<number> =>
      (await unwrap(api.POST('/audience/count', { body: { filter } }))).count,
  };
}

function memberHelpers(api: Client<paths>) {
  const tenant = (tenantId: string) => ({ params: { path: { id: tenantId } } });
  const member = (tenantId: string, userId: string) => ({ params: { path: { id: tenantId, userId } } });
  return {
    /** The tenant's members and pending invitations (scope `members:manage`). */
    list: (tenantId: string) => unwrap(api.GET('/tenants/{id}/members', tenant(tenantId))),
    /** Invites by email (a one-time link, valid 7 days); 409 ALREADY_MEMBER. */
    invite: (tenantId: string, body: InviteMemberBody) => unwrap(api.POST('/tenants/{id}/members', { ...tenant(tenantId), body })),
    /** Changes a member's role; only an owner changes an owner, the last owner stays (409 LAST_OWNER). */
    update: (tenantId: string, userId: string, body: { role: MemberRole }) =>
      unwrap(api.PATCH('/tenants/{id}/members/{userId}', { ...member(tenantId, userId), body })),
    remove: (tenantId: string, userId: string) => noContent(api.DELETE('/tenants/{id}/members/{userId}', member(tenantId, userId))),
  };
}

function apiKeyHelpers(api: Client<paths>) {
  const tenant = (tenantId: string) => ({ params: { path: { id: tenantId } } });
  return {
    /** Prefixes, scopes and last use; never a secret (scope `keys:manage`). */
    list: (tenantId: string) => unwrap(api.GET('/tenants/{id}/api-keys', tenant(tenantId))),
    /** The secret is in this answer only; never a scope the caller lacks (403 SCOPE_ESCALATION). */
    create: (tenantId: string, body: CreateApiKeyBody) => unwrap(api.POST('/tenants/{id}/api-keys', { ...tenant(tenantId), body })),
    revoke: (tenantId: string, keyId: string) =>
      unwrap(api.DELETE('/tenants/{id}/api-keys/{keyId}', { params: { path: { id: tenantId, keyId } } })),
  };
}

function campaignHelpers(api: Client<paths>) {
  const get = (id: string) => unwrap(api.GET('/campaigns/{id}', { params: { path: { id } } }));
  return {
    create: (body: CreateCampaignBody, options: IdempotencyOptions = {}) =>
      unwrap(
        api.POST('/campaigns', {
          params: { header: { 'Idempotency-Key': options.idempotencyKey ?? idempotencyKey() } },
          body,
        }),
      ),
    get,
    list: (query: { status?: CampaignStatus; page?: number; limit?: number } = {}) =>
      unwrap(api.GET('/campaigns', { params: { query: { page: 1, limit: 20, ...query } } })),
    /** DRAFT/SCHEDULED → SENDING (202); poll with waitUntilDone. `force`: send even though the pre-send check fails (422 PREFLIGHT_FAILED). */
    send: (id: string, options: IdempotencyOptions & { force?: boolean } = {}) =>
      unwrap(
        api.POST('/campaigns/{id}/send', {
          params: {
            path: { id },
            header: { 'Idempotency-Key': options.idempotencyKey ?? idempotencyKey() },
            ...(options.force ? { query: { force: true } } : {}),
          },
        }),
      ),
    /** The pre-send check: `{checks, ok}`. */
    preflight: (id: string) => unwrap(api.GET('/campaigns/{id}/preflight', { params: { path: { id } } })),
    update: (id: string, body: UpdateCampaignBody) => unwrap(api.PATCH('/campaigns/{id}', { params: { path: { id } }, body })),
    /** DRAFT → SCHEDULED; `scheduledAt` local to `timezone` when given. */
    schedule: (id: string, body: ScheduleCampaignBody) => unwrap(api.POST('/campaigns/{id}/schedule', { params: { path: { id } }, body })),
    cancel: (id: string) => unwrap(api.POST('/campaigns/{id}/cancel', { params: { path: { id } } })),
    /** A [Test] copy to the given addresses, now (uncounted in quota). */
    test: (id: string, body: TestSendBody) => unwrap(api.POST('/campaigns/{id}/test', { params: { path: { id } }, body })),
    /** The audience by locale, and whether a published variant covers each (check it before send). */
    localeCoverage: (id: string) => unwrap(api.GET('/campaigns/{id}/locale-coverage', { params: { path: { id } } })),
    /** The audience's non-null locales without a variant of their own: they get the base version. */
    uncoveredLocales: async (id: string): Promise<LocaleCoverage> =>
      (await unwrap(api.GET('/campaigns/{id}/locale-coverage', { params: { path: { id } } }))).filter(
        (row) => row.locale !== null && !row.hasTemplate && row.count > 0,
      ),
    retryFailed: (id: string) => unwrap(api.POST('/campaigns/{id}/retry-failed', { params: { path: { id } } })),
    /** SENDING → PAUSED: nothing more is sent, queued messages wait (the circuit breaker pauses the same way). */
    pause: (id: string) => unwrap(api.POST('/campaigns/{id}/pause', { params: { path: { id } } })),
    /** PAUSED → SENDING: the waiting messages are due at once. */
    resume: (id: string) => unwrap(api.POST('/campaigns/{id}/resume', { params: { path: { id } } })),
    /** Sent, bounces, opens (human and machine), clicks per link, rates, per locale and over time (docs/TRACKING.md). */
    stats: (id: string) => unwrap(api.GET('/campaigns/{id}/stats', { params: { path: { id } } })),
    messages: (id: string, query: { status?: CampaignMessage['status']; page?: number; limit?: number } = {}) =>
      unwrap(api.GET('/campaigns/{id}/messages', { params: { path: { id }, query: { page: 1, limit: 50, ...query } } })),
    /** Polls until the campaign is SENT or CANCELLED; rejects on timeout. */
    waitUntilDone: async (id: string, options: WaitOptions = {}): Promise<Campaign> => {
      const intervalMs = options.intervalMs ?? 1000;
      const deadline = Date.now() + (options.timeoutMs ?? 300_000);
      for (;;) {
        options.signal?.throwIfAborted();
        const campaign = await get(id);
        options.onProgress?.(campaign);
        if (FINAL_STATUSES.includes(campaign.status)) return campaign;
        if (Date.now() + intervalMs > deadline) {
          throw new MailingCoreError(0, 'TIMEOUT', `campaign ${id} still ${campaign.status} after ${options.timeoutMs ?? 300_000} ms`);
        }
        await defaultSleep(intervalMs);
      }
    },
  };
}

export interface ImportProgress {
  /** Bytes read from the source so far. */
  bytes: number;
  /** Data rows read so far (non-empty lines, the CSV header excluded). */
  rows: number;
  /** Rows per second since the start. */
  rowsPerSecond: number;
}

export interface ImportOptions {
  /** `csv` or `ndjson`; for a file path, taken from its extension (.csv, .ndjson, .jsonl) when omitted. */
  format?: 'csv' | 'ndjson';
  /** Called as the source streams (at most every 100 ms, and once at the end). */
  onProgress?: (progress: ImportProgress) => void;
  signal?: AbortSignal;
}

export type ImportSource = string | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

const IMPORT_TYPES = { csv: 'text/csv', ndjson: 'application/x-ndjson' } as const;

function importFormat(source: ImportSource, format: ImportOptions['format']): 'csv' | 'ndjson' {
  if (format) return format;
  if (typeof source === 'string') {
    const lower = source.toLowerCase();
    if (lower.endsWith('.csv')) return 'csv';
    if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  }
  throw new MailingCoreError(0, 'UNSUPPORTED_FILE', 'pass { format: "csv" | "ndjson" } (or a .csv, .ndjson or .jsonl file)');
}

async function* chunksOf(source: ImportSource): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  if (typeof source === 'string') {
    const { createReadStream } = await import('node:fs');
    for await (const chunk of createReadStream(source)) yield chunk as Uint8Array;
    return;
  }
  if (source instanceof ReadableStream) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) yield typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
}

/** The source as a request body, counting bytes and rows on the way. */
function countingStream(source: ImportSource, header: boolean, onProgress?: ImportOptions['onProgress']): ReadableStream<Uint8Array> {
  const started = Date.now();
  let bytes = 0;
  let lines = 0;
  let pending = false;
  let reported = 0;
  const report = (force: boolean) => {
    if (!onProgress || (!force && Date.now() - reported < 100)) return;
    reported = Date.now();
    const rows = Math.max(0, lines - (header ? 1 : 0));
    const seconds = (Date.now() - started) / 1000;
    onProgress({ bytes, rows, rowsPerSecond: seconds > 0 ? rows / seconds : 0 });
  };
  const iterator = chunksOf(source);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) {
        if (pending) lines++;
        pending = false;
        report(true);
        controller.close();
        return;
      }
      bytes += value.length;
      for (const byte of value) {
        if (byte === 0x0a) {
          if (pending) lines++;
          pending = false;
        } else if (byte !== 0x0d && byte !== 0x20 && byte !== 0x09) pending = true;
      }
      report(false);
      controller.enqueue(value);
    },
    async cancel() {
      await iterator.return(undefined);
    },
  });
}

function contactHelpers(api: Client<paths>, raw: RawFetch) {
  return {
    /** Creates or updates one contact (matched by externalId, else email). */
    upsert: (body: UpsertContactBody, options: IdempotencyOptions = {}) =>
      unwrap(
        api.PUT('/contacts', {
          params: { header: { 'Idempotency-Key': options.idempotencyKey ?? idempotencyKey() } },
          body,
        }),
      ),
    /** Upserts up to 1000 contacts in one call. */
    bulk: (contacts: BulkContactsBody['contacts'], options: IdempotencyOptions = {}) =>
      unwrap(
        api.POST('/contacts/bulk', {
          params: { header: { 'Idempotency-Key': options.idempotencyKey ?? idempotencyKey() } },
          body: { contacts },
        }),
      ),
    get: (id: string) => unwrap(api.GET('/contacts/{id}', { params: { path: { id } } })),
    list: (query: ListQuery<operations['listContacts']> = {}) =>
      unwrap(api.GET('/contacts', { params: { query: { page: 1, limit: 50, ...query } } })),
    /** Contacts whose email or externalId starts with `q` (case-insensitive), with the list's other filters and paging. */
    search: (q: string, query: ContactSearchQuery = {}) =>
      unwrap(api.GET('/contacts', { params: { query: { page: 1, limit: 50, ...query, q } } })),
    /** The contact's messages (campaign and transactional), newest first; by id or externalId. */
    messages: (id: string, query: ListQuery<operations['listContactMessages']> = {}) =>
      unwrap(api.GET('/contacts/{id}/messages', { params: { path: { id }, query: { page: 1, limit: 20, ...query } } })),
    update: (id: string, body: UpdateContactBody) => unwrap(api.PATCH('/contacts/{id}', { params: { path: { id } }, body })),
    /** GDPR erasure: deletes the contact, keeps its address suppressed. */
    erase: async (id: string): Promise<void> => {
      await unwrap(api.DELETE('/contacts/{id}', { params: { path: { id } } })).catch((error: unknown) => {
        // 204 has no body: openapi-fetch reports data undefined, which is success here.
        if (!(error instanceof MailingCoreError) || error.status >= 300) throw error;
      });
    },
    /**
     * Streams a CSV or NDJSON source of any size to POST /contacts/import: a file path, a web
     * ReadableStream or any async iterable of bytes/strings. Resolves with the import summary
     * (rows that failed are listed in `errors`, not thrown). Not retried: a stream is read once.
     */
    import: async (source: ImportSource, options: ImportOptions = {}): Promise<ImportResult> => {
      const format = importFormat(source, options.format);
      let response: Response;
      try {
        response = await raw('/contacts/import', {
          method: 'POST',
          headers: { 'content-type': IMPORT_TYPES[format] },
          body: countingStream(source, format === 'csv', options.onProgress),
          duplex: 'half',
          signal: options.signal,
        });
      } catch (error) {
        if (error instanceof MailingCoreError) throw error;
        throw new MailingCoreError(0, 'NETWORK_ERROR', (error as Error).message);
      }
      const text = await response.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      if (!response.ok) {
        const err = (body ?? {}) as Partial<ErrorResponse>;
        throw new MailingCoreError(response.status, err.code ?? `HTTP_${response.status}`, err.message ?? response.statusText, body);
      }
      return body as ImportResult;
    },
  };
}

function templateHelpers(api: Client<paths>) {
  return {
    /** A template and its first (draft) version. */
    create: (body: CreateTemplateBody) => unwrap(api.POST('/templates', { body })),
    get: (id: string) => unwrap(api.GET('/templates/{id}', { params: { path: { id } } })),
    list: (query: ListQuery<operations['listTemplates']> = {}) =>
      unwrap(api.GET('/templates', { params: { query: { page: 1, limit: 20, ...query } } })),
    /** A new version; pass `localeGroupId` (the base version's id) and `locale` to make it a locale variant. */
    createVersion: (templateId: string, body: CreateTemplateVersionBody) =>
      unwrap(api.POST('/templates/{id}/versions', { params: { path: { id: templateId } }, body })),
    versions: (templateId: string, query: ListQuery<operations['listTemplateVersions']> = {}) =>
      unwrap(api.GET('/templates/{id}/versions', { params: { path: { id: templateId }, query: { page: 1, limit: 20, ...query } } })),
    getVersion: (templateId: string, versionId: string) =>
      unwrap(api.GET('/templates/{id}/versions/{versionId}', { params: { path: { id: templateId, versionId } } })),
    updateVersion: (templateId: string, versionId: string, body: UpdateTemplateVersionBody) =>
      unwrap(api.PATCH('/templates/{id}/versions/{versionId}', { params: { path: { id: templateId, versionId } }, body })),
    /** Checks the Liquid syntax, inlines CSS, derives the text part; campaigns may then use it. */
    publish: (templateId: string, versionId: string) =>
      unwrap(api.POST('/templates/{id}/versions/{versionId}/publish', { params: { path: { id: templateId, versionId } } })),
    unpublish: (templateId: string, versionId: string) =>
      unwrap(api.POST('/templates/{id}/versions/{versionId}/unpublish', { params: { path: { id: templateId, versionId } } })),
    /** Renders a version with a contact's data (`contactId`) or given `data`. */
    preview: (templateId: string, versionId: string, body: PreviewBody = {}) =>
      unwrap(api.POST('/templates/{id}/versions/{versionId}/preview', { params: { path: { id: templateId, versionId } }, body })),
  };
}

function suppressionHelpers(api: Client<paths>) {
  return {
    /** Idempotent: an existing suppression keeps its reason and date, unless a complaint or bounce replaces an unsubscribe or manual one. */
    add: (email: string, reason: SuppressionReason = 'manual') => unwrap(api.POST('/suppressions', { body: { email, reason } })),
    list: (query: ListQuery<operations['listSuppressions']> = {}) =>
      unwrap(api.GET('/suppressions', { params: { query: { limit: 50, ...query } } })),
    remove: async (email: string): Promise<void> => {
      await unwrap(api.DELETE('/suppressions/{email}', { params: { path: { email } } })).catch((error: unknown) => {
        if (!(error instanceof MailingCoreError) || error.status >= 300) throw error;
      });
    },
  };
}

function emailHelpers(api: Client<paths>, raw: RawFetch) {
  return {
    /**
     * A transactional email, queued ahead of any campaign (202 `{id, status, queued}`). A retry with the
     * same `idempotencyKey` (generated when omitted, so the client's own retries are safe) answers the same id.
     * `sync`: a development aid that waits up to 10 s for a worker to record the outcome.
     */
    send: (body: SendEmailBody, options: IdempotencyOptions & { sync?: boolean } = {}) =>
      unwrap(
        api.POST('/emails/send', {
          body,
          headers: { 'Idempotency-Key': body.idempotencyKey ?? options.idempotencyKey ?? idempotencyKey() },
          ...(options.sync ? { params: { query: { sync: true } } } : {}),
        }),
      ),
    /** 1–100 emails in one request: one result per item (`{index, id, status}` or `{index, error}`), the valid ones queued together. */
    batch: (emails: EmailBatchBody['emails'], options: IdempotencyOptions = {}) =>
      unwrap(api.POST('/emails/batch', { body: { emails }, headers: { 'Idempotency-Key': options.idempotencyKey ?? idempotencyKey() } })),
    /** The tenant's transactional emails, newest first: filters `status`, `to`, `tag`, `since`, `until`. */
    logs: (query: EmailLogQuery = {}) => unwrap(api.GET('/emails/logs', { params: { query: { page: 1, limit: 20, ...query } } })),
    /** One email with its attempts and events. */
    get: (id: string) => unwrap(api.GET('/emails/{id}', { params: { path: { id } } })),
    /** The .eml of an email captured instead of sent (an `mc_test_` key, or no SMTP server). */
    raw: async (id: string): Promise<string> => {
      const response = await raw(`/emails/${encodeURIComponent(id)}/raw`, { method: 'GET' });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as Partial<ErrorResponse>;
        throw new MailingCoreError(response.status, body.code ?? `HTTP_${response.status}`, body.message ?? response.statusText, body);
      }
      return response.text();
    },
    scheduled: {
      list: (query: ListQuery<operations['listScheduledEmails']> = {}) =>
        unwrap(api.GET('/scheduled-emails', { params: { query: { page: 1, limit: 20, ...query } } })),
      /** Cancels a scheduled email that has not gone yet (409 once it is on its way); its quota is given back. */
      cancel: (id: string) => unwrap(api.DELETE('/scheduled-emails/{id}', { params: { path: { id } } })),
    },
  };
}

function domainHelpers(api: Client<paths>) {
  return {
    /** A sending domain with its DKIM key (the private half never leaves the server) and the DNS records to publish. */
    create: (name: string) => unwrap(api.POST('/domains', { body: { name } })),
    get: (id: string) => unwrap(api.GET('/domains/{id}', { params: { path: { id } } })),
    list: (query: ListQuery<operations['listDomains']> = {}) => unwrap(api.GET('/domains', { params: { query: { limit: 20, ...query } } })),
    /** Looks the records up now: SPF, DKIM, DMARC and return path, each VALID, PENDING or FAILED with the reason. */
    verify: (id: string) => unwrap(api.POST('/domains/{id}/verify', { params: { path: { id } } })),
    rotateDkim: (id: string) => unwrap(api.POST('/domains/{id}/rotate-dkim', { params: { path: { id } } })),
    remove: async (id: string): Promise<void> => {
      await unwrap(api.DELETE('/domains/{id}', { params: { path: { id } } })).catch((error: unknown) => {
        if (!(error instanceof MailingCoreError) || error.status >= 300) throw error;
      });
    },
    /** Bounce and complaint webhooks of a hosted relay (Postmark, Mailgun): the URL to paste in its console, credentials shown once. */
    bounceProviders: {
      create: (body: { provider: 'postmark' | 'mailgun'; signingKey?: string }) => unwrap(api.POST('/bounce-providers', { body })),
      list: () => unwrap(api.GET('/bounce-providers')),
      remove: async (id: string): Promise<void> => {
        await unwrap(api.DELETE('/bounce-providers/{id}', { params: { path: { id } } })).catch((error: unknown) => {
          if (!(error instanceof MailingCoreError) || error.status >= 300) throw error;
        });
      },
    },
  };
}

function projectHelpers(api: Client<paths>) {
  return {
    /** An SMTP project; its password is encrypted at rest and never returned. */
    create: (body: CreateProjectBody) => unwrap(api.POST('/projects', { body })),
    get: (id: string) => unwrap(api.GET('/projects/{id}', { params: { path: { id } } })),
    list: (query: ListQuery<operations['listProjects']> = {}) =>
      unwrap(api.GET('/projects', { params: { query: { page: 1, limit: 20, ...query } } })),
    update: (id: string, body: UpdateProjectBody) => unwrap(api.PATCH('/projects/{id}', { params: { path: { id } }, body })),
    /** Connects and logs in to the project's SMTP server: `{ ok: true }` or the server's error. */
    verify: (id: string) => unwrap(api.POST('/projects/{id}/verify', { params: { path: { id } } })),
  };
}

function usageHelpers(api: Client<paths>) {
  return {
    /** This month's sends against the tenant's quota. */
    get: () => unwrap(api.GET('/usage')),
  };
}

function eventHelpers(api: Client<paths>) {
  return {
    /** The event log, newest first (`order: 'asc'`: oldest first); pass `meta.nextCursor` back as `cursor` for the next page. */
    list: (query: ListQuery<operations['listEvents']> = {}) =>
      unwrap(api.GET('/events', { params: { query: { order: 'desc', limit: 50, ...query } } })),
  };
}

function webhookHelpers(api: Client<paths>) {
  const params = (id: string) => ({ params: { path: { id } } });
  return {
    /** Registers an endpoint; the answer's `secret` is shown this once: store it to verify deliveries (verifyWebhook). */
    create: (body: CreateWebhookEndpointBody) => unwrap(api.POST('/webhooks/endpoints', { body })),
    list: (query: ListQuery<operations['listWebhookEndpoints']> = {}) =>
      unwrap(api.GET('/webhooks/endpoints', { params: { query: { limit: 20, ...query } } })),
    get: (id: string) => unwrap(api.GET('/webhooks/endpoints/{id}', params(id))),
    update: (id: string, body: UpdateWebhookEndpointBody) => unwrap(api.PATCH('/webhooks/endpoints/{id}', { ...params(id), body })),
    /** Flips `enabled`; enabling again clears the failure clock. */
    toggle: (id: string) => unwrap(api.PATCH('/webhooks/endpoints/{id}/toggle', params(id))),
    remove: async (id: string): Promise<void> => {
      await unwrap(api.DELETE('/webhooks/endpoints/{id}', params(id))).catch((error: unknown) => {
        if (!(error instanceof MailingCoreError) || error.status >= 300) throw error;
      });
    },
    /** Sends a signed `webhook.test` event now; resolves with its delivery (`status`, `statusCode`, `responseBody`). */
    test: (id: string) => unwrap(api.POST('/webhooks/endpoints/{id}/test', params(id))),
    /** The endpoint's deliveries, newest first. */
    deliveries: (id: string, query: ListQuery<operations['listWebhookDeliveries']> = {}) =>
      unwrap(api.GET('/webhooks/endpoints/{id}/deliveries', { params: { path: { id }, query: { limit: 20, ...query } } })),
    /** Puts a failed (or backing-off) delivery back in the queue, due now. */
    retry: (id: string, deliveryId: string) =>
      unwrap(api.POST('/webhooks/endpoints/{id}/deliveries/{deliveryId}/retry', { params: { path: { id, deliveryId } } })),
  };
}
