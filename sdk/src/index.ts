import createFetchClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

type JsonBody<Op, Code extends number> = Op extends { responses: { [K in Code]: { content: { 'application/json': infer B } } } } ? B : never;
type RequestBody<Op> = Op extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;

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
};

/**
 * A typed client of the MailingCore API: `client.GET('/campaigns/{id}', { params: { path: { id } } })`
 * and every other path of the OpenAPI document, plus `client.campaigns.*` / `client.contacts.*` helpers.
 */
export function createClient(config: ClientConfig): MailingCoreClient {
  const baseFetch = config.fetch ?? globalThis.fetch;
  const api = createFetchClient<paths>({
    baseUrl: config.baseUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${config.apiKey}`, 'x-tenant-id': config.tenantId },
    fetch: retryingFetch((request) => baseFetch(request), { ...config.retry, retries: config.retries ?? 3 }),
  });
  return Object.assign(api, { campaigns: campaignHelpers(api), contacts: contactHelpers(api) });
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
    /** DRAFT/SCHEDULED → SENDING (202); poll with waitUntilDone. */
    send: (id: string, options: IdempotencyOptions = {}) =>
      unwrap(
        api.POST('/campaigns/{id}/send', {
          params: { path: { id }, header: { 'Idempotency-Key': options.idempotencyKey ?? idempotencyKey() } },
        }),
      ),
    cancel: (id: string) => unwrap(api.POST('/campaigns/{id}/cancel', { params: { path: { id } } })),
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

function contactHelpers(api: Client<paths>) {
  return {
    /** Upserts up to 1000 contacts in one call. */
    bulk: (contacts: BulkContactsBody['contacts'], options: IdempotencyOptions = {}) =>
      unwrap(
        api.POST('/contacts/bulk', {
          params: { header: { 'Idempotency-Key': options.idempotencyKey ?? idempotencyKey() } },
          body: { contacts },
        }),
      ),
  };
}
