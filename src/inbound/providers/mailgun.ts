import { createHmac, timingSafeEqual } from 'node:crypto';
import { enhancedCodeOf } from '../../delivery/bounce-classification.js';
import { refusalIn } from '../report-parser.js';
import { addressOf, objectAt, stringAt, textOf, type BounceProviderAdapter, type ParsedProviderEvent, type ProviderAuth, type ProviderReport } from './provider-report.js';

/** How far a Mailgun signature's timestamp may be from our clock. */
export const MAILGUN_MAX_SKEW_MS = 5 * 60_000;

/**
 * Mailgun signs every webhook: `signature.signature` is the hex
 * HMAC-SHA256, keyed with the domain's webhook signing key, of
 * `signature.timestamp` followed by `signature.token`
 * (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks).
 * The timestamp must be within five minutes of now; the token is returned
 * so the caller refuses it the second time (replay).
 */
export function authenticateMailgun(body: unknown, signingKey: string | undefined, now: Date): ProviderAuth {
  const signature = objectAt(body, 'signature');
  const timestamp = stringAt(signature, 'timestamp') ?? numberText(signature?.['timestamp']);
  const token = stringAt(signature, 'token');
  const given = stringAt(signature, 'signature');
  if (!timestamp || !token || !given) return { ok: false, reason: 'the Mailgun signature is missing' };
  if (!signingKey) return { ok: false, reason: 'no signing key' };
  if (!/^\d{1,12}$/.test(timestamp) || token.length > 200 || !/^[0-9a-f]{64}$/i.test(given)) return { ok: false, reason: 'the Mailgun signature is malformed' };
  const expected = createHmac('sha256', signingKey).update(timestamp + token).digest();
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) return { ok: false, reason: 'the Mailgun signature does not verify' };
  if (Math.abs(now.getTime() - Number(timestamp) * 1000) > MAILGUN_MAX_SKEW_MS) return { ok: false, reason: 'the Mailgun signature is too old (or from the future)' };
  return { ok: true, replayToken: token };
}

const numberText = (value: unknown) => (typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined);

/**
 * A Mailgun webhook body (pure): `event-data.event` `failed` (`severity`
 * `permanent` → hard, `temporary` → delayed; `delivery-status` `{code,
 * message, description}`), or `complained`; `recipient`,
 * `message.headers["message-id"]` (our Message-ID: Mailgun keeps it) and
 * `user-variables.mc_token` (from the `X-Mailgun-Variables` header the
 * builder adds when the project relays through Mailgun). A failure because
 * the address is on Mailgun's own list is reported as such
 * (`suppress-bounce` → hard, `suppress-complaint` → complaint).
 */
export function parseMailgun(body: unknown): ParsedProviderEvent {
  const data = objectAt(body, 'event-data');
  const event = stringAt(data, 'event');
  if (!data || event === undefined) return { kind: 'invalid', reason: 'not a Mailgun webhook: no event-data.event' };
  if (event !== 'failed' && event !== 'complained') return { kind: 'ignored', reason: `Mailgun ${event.slice(0, 40)} event` };
  const email = addressOf(stringAt(data, 'recipient'));
  const token = stringAt(objectAt(data, 'user-variables'), 'mc_token')?.trim();
  const messageId = stringAt(objectAt(objectAt(data, 'message'), 'headers'), 'message-id')?.trim().slice(0, 500);
  const reference = { ...(token ? { token } : {}), ...(messageId ? { messageId } : {}) };
  const reason = stringAt(data, 'reason');
  const severity = stringAt(data, 'severity');
  let kind: ProviderReport['kind'] | undefined;
  if (event === 'complained' || reason === 'suppress-complaint') kind = 'complaint';
  else if (reason === 'suppress-unsubscribe') kind = undefined;
  else if (severity === 'permanent') kind = 'hard';
  else if (severity === 'temporary') kind = 'delayed';
  if (!kind || !email) {
    const why = !email ? `Mailgun ${event} names no address` : `Mailgun ${event} (${(reason ?? severity ?? 'no severity').slice(0, 40)}): not a bounce of the address`;
    return { kind: 'unsupported', email: email ?? null, reason: why, ...reference };
  }
  if (kind === 'complaint') return { kind: 'report', report: { kind, email, ...reference } };
  const status = objectAt(data, 'delivery-status');
  const code = typeof status?.['code'] === 'number' && Number.isInteger(status['code']) ? status['code'] : undefined;
  const message = textOf(stringAt(status, 'message'));
  const description = textOf(stringAt(status, 'description'));
  const enhanced = enhancedCodeOf(message) ?? refusalIn(`${message ?? ''}\n${description ?? ''}`)?.enhanced;
  const smtp = code !== undefined && code >= 400 && code < 600 ? code : undefined;
  const diagnostic = textOf([code, message || description].filter((p) => p !== undefined && p !== '').join(' '));
  return {
    kind: 'report',
    report: {
      kind,
      email,
      ...(smtp !== undefined || enhanced ? { status: { ...(smtp !== undefined ? { basic: smtp } : {}), ...(enhanced ? { enhanced } : {}) } } : {}),
      ...(diagnostic ? { diagnostic } : {}),
      ...reference,
    },
  };
}

export const mailgunAdapter: BounceProviderAdapter = {
  name: 'mailgun',
  authenticate: (request, secrets, now) => authenticateMailgun(request.body, secrets.signingKey, now),
  parse: parseMailgun,
};
