/**
 * Hosted relays that report bounces by webhook (docs/DELIVERABILITY.md,
 * "Provider webhooks"): when a project's SMTP host is theirs, each campaign
 * email carries our signed message token in the relay's own metadata
 * header, which the relay strips before delivery and echoes in its bounce
 * and complaint webhooks. Pure.
 */
export type RelayProvider = 'postmark' | 'mailgun';

const RELAYS: { provider: RelayProvider; domain: string }[] = [
  { provider: 'postmark', domain: 'postmarkapp.com' }, // smtp.postmarkapp.com, smtp-broadcasts.postmarkapp.com
  { provider: 'mailgun', domain: 'mailgun.org' }, // smtp.mailgun.org, smtp.eu.mailgun.org
];

/** The relay an SMTP host belongs to, by its domain; undefined for any other host. */
export function relayProviderOf(host: string | null | undefined): RelayProvider | undefined {
  const name = host?.trim().toLowerCase().replace(/\.$/, '');
  if (!name) return undefined;
  return RELAYS.find((r) => name === r.domain || name.endsWith(`.${r.domain}`))?.provider;
}

/** A token is lower-case base32 (bounce-address.ts); anything else is never put in a header. */
const TOKEN = /^[a-z2-7]{1,100}$/;

/**
 * The relay's metadata header naming the message: Postmark's
 * `X-PM-Metadata-mc-token` (→ webhook `Metadata["mc-token"]`), Mailgun's
 * `X-Mailgun-Variables` JSON (→ `user-variables.mc_token`).
 */
export function relayMetadataHeaders(provider: RelayProvider | undefined, token: string): Record<string, string> {
  if (!provider || !TOKEN.test(token)) return {};
  return provider === 'postmark' ? { 'X-PM-Metadata-mc-token': token } : { 'X-Mailgun-Variables': JSON.stringify({ mc_token: token }) };
}
