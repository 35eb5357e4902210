import { createHash, timingSafeEqual } from 'node:crypto';
import { refusalIn } from '../report-parser.js';
import { addressOf, objectAt, stringAt, textOf, type BounceProviderAdapter, type ParsedProviderEvent, type ProviderAuth, type ProviderReport } from './provider-report.js';

/** The SHA-256 of a basic-auth password, hex: what is stored. */
export const passwordHashOf = (password: string): string => createHash('sha256').update(password, 'utf8').digest('hex');

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Postmark signs nothing: its webhooks carry the basic-auth credentials of
 * the URL they were configured with (`https://user:pass@host/…`). Both
 * parts are compared in constant time (as SHA-256 digests, so their lengths
 * say nothing either).
 */
export function authenticatePostmark(authorization: string | undefined, secrets: { username?: string; passwordHash?: string }): ProviderAuth {
  const match = /^Basic\s+([A-Za-z0-9+/=]{1,1024})\s*$/i.exec(authorization ?? '');
  if (!match) return { ok: false, reason: 'basic authentication is missing' };
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || !secrets.username || !secrets.passwordHash || !/^[0-9a-f]{64}$/.test(secrets.passwordHash)) return { ok: false, reason: 'wrong credentials' };
  const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), digest(secrets.username));
  const passOk = timingSafeEqual(digest(decoded.slice(colon + 1)), Buffer.from(secrets.passwordHash, 'hex'));
  return userOk && passOk ? { ok: true } : { ok: false, reason: 'wrong credentials' };
}

/** Postmark bounce `Type`s we act on (https://postmarkapp.com/developer/api/bounce-api#bounce-types); every other type is kept, not acted on. */
const KINDS: Record<string, ProviderReport['kind']> = {
  HardBounce: 'hard',
  BadEmailAddress: 'hard',
  SoftBounce: 'soft',
  DnsError: 'soft',
  Transient: 'delayed',
  SpamComplaint: 'complaint',
};

/**
 * A Postmark webhook body (pure): `RecordType: "Bounce"` (its `Type`:
 * HardBounce, SoftBounce, Transient, …; `Email`, `Details`, `MessageID`,
 * `Metadata`) or `"SpamComplaint"`. Postmark's `MessageID` is its own, not
 * ours: the message is named by `Metadata["mc-token"]`, which the builder
 * adds as `X-PM-Metadata-mc-token` when the project relays through Postmark.
 * Other record types (Delivery, Open, Click, SubscriptionChange) are ignored.
 */
export function parsePostmark(body: unknown): ParsedProviderEvent {
  const recordType = stringAt(body, 'RecordType');
  if (recordType === undefined) return { kind: 'invalid', reason: 'not a Postmark webhook: no RecordType' };
  if (recordType !== 'Bounce' && recordType !== 'SpamComplaint') return { kind: 'ignored', reason: `Postmark ${recordType.slice(0, 40)} record` };
  const type = recordType === 'SpamComplaint' ? 'SpamComplaint' : (stringAt(body, 'Type') ?? 'Unknown');
  const email = addressOf(stringAt(body, 'Email'));
  const token = stringAt(objectAt(body, 'Metadata'), 'mc-token')?.trim();
  const reference = token ? { token } : {};
  const kind = KINDS[type];
  if (!kind || !email) {
    const reason = !email ? `Postmark ${type.slice(0, 40)} names no address` : `Postmark ${type.slice(0, 40)}: not a bounce of the address`;
    return { kind: 'unsupported', email: email ?? null, reason, ...reference };
  }
  const details = textOf(stringAt(body, 'Details')) ?? textOf(stringAt(body, 'Description'));
  const refusal = kind === 'hard' || kind === 'soft' ? refusalIn(details ?? '') : null;
  const status = refusal ? { ...(refusal.basic !== undefined ? { basic: refusal.basic } : {}), ...(refusal.enhanced ? { enhanced: refusal.enhanced } : {}) } : undefined;
  return {
    kind: 'report',
    report: { kind, email, ...(status ? { status } : {}), ...(details && kind !== 'complaint' ? { diagnostic: details } : {}), ...reference },
  };
}

export const postmarkAdapter: BounceProviderAdapter = {
  name: 'postmark',
  authenticate: (request, secrets) => authenticatePostmark(request.authorization, secrets),
  parse: parsePostmark,
};
