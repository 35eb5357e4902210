import { createHmac, timingSafeEqual } from 'node:crypto';

/** A webhook request's body, as MailingCore sends it. */
export interface WebhookEvent<Data = Record<string, unknown>> {
  /** The event id (the same event sent to two endpoints has one id; dedupe by the X-MailingCore-Delivery-Id header). */
  id: string;
  /** e.g. `email.sent`, `contact.unsubscribed`, `webhook.test`. */
  type: string;
  createdAt: string;
  tenantId: string;
  data: Data;
}

/** Why a webhook request was refused by verifyWebhook; `code` says which check failed. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly code: 'MISSING_SIGNATURE' | 'MALFORMED_SIGNATURE' | 'TIMESTAMP_OUT_OF_TOLERANCE' | 'SIGNATURE_MISMATCH' | 'INVALID_BODY',
    message: string,
  ) {
    super(message);
  }
}

export interface VerifyOptions {
  /** The current time in milliseconds (default Date.now()); for tests. */
  now?: number;
}

/**
 * Checks a webhook request and returns its event, or throws a
 * WebhookVerificationError. Pass the body exactly as received (the raw bytes
 * or their text — not a re-serialised object), the `X-MailingCore-Signature`
 * header (`t=<unix seconds>,v1=<hex>`) and the endpoint's secret. The
 * timestamp must be within `toleranceSeconds` of now, either way (replays of
 * an old request are refused), and one `v1` must equal HMAC-SHA256 of
 * `"<t>.<raw body>"` (compared in constant time).
 */
export function verifyWebhook<Data = Record<string, unknown>>(
  rawBody: string | Uint8Array,
  header: string | null | undefined,
  secret: string,
  toleranceSeconds = 300,
  options: VerifyOptions = {},
): WebhookEvent<Data> {
  // Mistakes in the call, not in the request: an empty secret would accept forged signatures, a NaN tolerance any age.
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('verifyWebhook: the endpoint secret is empty');
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) throw new TypeError('verifyWebhook: toleranceSeconds must be a finite number ≥ 0');
  if (!header) throw new WebhookVerificationError('MISSING_SIGNATURE', 'no X-MailingCore-Signature header');
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase());
  }
  if (timestamp === undefined || signatures.length === 0) {
    throw new WebhookVerificationError('MALFORMED_SIGNATURE', 'the signature header must look like t=<unix seconds>,v1=<hex HMAC-SHA256>');
  }
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
    throw new WebhookVerificationError(
      'TIMESTAMP_OUT_OF_TOLERANCE',
      `the signature's timestamp is ${nowSeconds - timestamp} s from now (tolerance ±${toleranceSeconds} s): a replayed or delayed request`,
    );
  }
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody);
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
  const matches = signatures.some((hex) => {
    const given = Buffer.from(hex, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError('SIGNATURE_MISMATCH', 'the signature does not match the body and secret');
  let event: unknown;
  try {
    event = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WebhookVerificationError('INVALID_BODY', 'the body is not JSON');
  }
  if (!event || typeof event !== 'object' || typeof (event as WebhookEvent).type !== 'string') {
    throw new WebhookVerificationError('INVALID_BODY', 'the body is not a MailingCore event');
  }
  return event as WebhookEvent<Data>;
}
