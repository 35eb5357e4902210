import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from '../../sdk/src/schema';
import type { MessageKey, Translate } from './i18n';

/**
 * The dashboard's API client: openapi-fetch over the types generated from our
 * own OpenAPI document (sdk/src/schema.d.ts, `npm run sdk:generate`), so a
 * path, a parameter or a body that the API does not have fails `tsc`.
 *
 * - the session cookie goes with every call (`credentials: 'same-origin'`);
 * - every POST, PUT, PATCH and DELETE carries `X-CSRF-Token` (from sign-in, setup or GET /me);
 * - a network failure becomes an ApiError of kind `unreachable`, an error answer
 *   one of kind `http` with the API's code, message and Retry-After.
 */

export type Schemas = paths;
export type Me = paths['/me']['get']['responses'][200]['content']['application/json'];
export type Campaign = paths['/campaigns/{id}']['get']['responses'][200]['content']['application/json'];
export type CampaignStatus = Campaign['status'];
export type Role = Me['tenants'][number]['role'];
export type Contact = paths['/contacts/{id}']['get']['responses'][200]['content']['application/json'];
export type ContactMessage = paths['/contacts/{id}/messages']['get']['responses'][200]['content']['application/json']['data'][number];
export type ImportResult = paths['/contacts/import']['post']['responses'][200]['content']['application/json'];
export type Template = paths['/templates/{id}']['get']['responses'][200]['content']['application/json'];
export type TemplateVersion = Template['versions'][number];

let csrfToken: string | undefined;
export const setCsrfToken = (token: string | undefined) => {
  csrfToken = token;
};

/** The session's CSRF token, for a request made without openapi-fetch (the import's XMLHttpRequest). */
export const currentCsrfToken = (): string | undefined => csrfToken;

const csrf: Middleware = {
  onRequest({ request }) {
    if (!['GET', 'HEAD', 'OPTIONS'].includes(request.method) && csrfToken) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' });
api.use(csrf);

export class ApiError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'http',
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
    readonly fields: string[] = [],
    /** The API's `details`: which field is wrong and why (shown next to the field). */
    readonly details: { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

interface ErrorBody {
  code?: string;
  message?: string;
  details?: { field?: string; message?: string }[];
}

/**
 * Runs an openapi-fetch call and returns its data, or throws an ApiError.
 * `call` is e.g. `() => api.GET('/campaigns', { params: { query } })`.
 */
export async function request<T>(call: () => Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call();
  } catch (error) {
    throw new ApiError('unreachable', 0, 'UNREACHABLE', error instanceof Error ? error.message : String(error));
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  throw errorOf(response.status, response.statusText, error, response.headers.get('retry-after'));
}

/** The ApiError for an error answer: its status, its JSON body (if any) and its Retry-After header. */
export function errorOf(status: number, statusText: string, error: unknown, retryAfterHeader: string | null): ApiError {
  // A proxy in front of a stopped server answers 502/503/504 with no JSON body.
  const body = (error ?? {}) as ErrorBody;
  if (!body.code && [502, 503, 504].includes(status)) return new ApiError('unreachable', status, 'UNREACHABLE', statusText);
  const retryAfter = Number(retryAfterHeader ?? '') || undefined;
  const fields = (body.details ?? []).map((d) => d.field ?? '').filter(Boolean);
  const details = (body.details ?? []).filter((d) => d.field).map((d) => ({ field: d.field!, message: d.message ?? '' }));
  return new ApiError('http', status, body.code ?? `HTTP_${status}`, body.message ?? statusText, retryAfter, fields, details);
}

const ALIASES: Record<string, MessageKey> = {
  INVITATION_USED: 'error.INVITATION_INVALID',
  INVITATION_NOT_FOUND: 'error.INVITATION_INVALID',
  INVITATION_EXPIRED: 'error.INVITATION_INVALID',
  CAMPAIGN_NOT_FOUND: 'error.NOT_FOUND',
  NOT_FOUND: 'error.NOT_FOUND',
};
const TRANSLATED = new Set<string>([
  'INVALID_CREDENTIALS', 'TOO_MANY_ATTEMPTS', 'RATE_LIMITED', 'INVALID_SETUP_TOKEN', 'SETUP_DONE', 'NO_TENANTS', 'UNAUTHORIZED', 'INSUFFICIENT_SCOPE',
  'VALIDATION_ERROR',
]);

// The settings pages' refusals (strings in messages/settings.ts).
for (const code of ['HOST_NOT_ALLOWED', 'PASSWORD_REQUIRED', 'OWNER_PROTECTED', 'LAST_OWNER', 'ALREADY_MEMBER', 'SCOPE_ESCALATION', 'CONFLICT']) TRANSLATED.add(code);

/** The message a person reads for an error, in the UI's language. */
export function errorMessage(error: unknown, t: Translate): string {
  if (!(error instanceof ApiError)) return t('error.generic', { status: '?', message: error instanceof Error ? error.message : String(error) });
  if (error.kind === 'unreachable') return t('error.unreachable');
  const alias = ALIASES[error.code];
  if (alias) return t(alias);
  if (TRANSLATED.has(error.code)) {
    return t(`error.${error.code}` as MessageKey, { seconds: error.retryAfter ?? 1, fields: error.fields.join(', ') || error.message });
  }
  return t('error.generic', { status: error.status, message: error.message });
}
