import type Mail from 'nodemailer/lib/mailer/index.js';
import { domainOfAddress, organisationalDomain } from '../shared/domain-name.js';

/** A verified sending domain's key, opened: what signs its mail. */
export interface SigningKey {
  /** The `d=`: the sending domain's name (ASCII). */
  domain: string;
  selector: string;
  /** PEM (PKCS#8). */
  privateKey: string;
  /** `bounces.<domain>`, when the last verify found its MX pointing at us: the VERP bounce domain of mail it signs. */
  returnPathHost?: string;
}

/** The headers signed (`h=`): what a receiver shows or acts on, the one-click unsubscribe included. */
export const SIGNED_HEADERS = [
  'From',
  'To',
  'Subject',
  'Date',
  'Message-ID',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
  'List-Id',
  'Feedback-ID',
  'Reply-To',
  'MIME-Version',
  'Content-Type',
] as const;

/**
 * The key that signs mail From this address: the verified domain that is
 * the address's domain, else the one that is its organisational domain
 * (mail From news.example.com is signed by example.com, which DMARC's
 * relaxed alignment accepts). Undefined: the mail goes unsigned.
 */
export function signingKeyFor(fromEmail: string, keys: readonly SigningKey[]): SigningKey | undefined {
  if (keys.length === 0) return undefined;
  const domain = domainOfAddress(fromEmail);
  if (!domain) return undefined;
  const exact = keys.find((key) => key.domain === domain);
  if (exact) return exact;
  const organisational = organisationalDomain(domain);
  return organisational === null ? undefined : keys.find((key) => key.domain === organisational);
}

/** Nodemailer's `dkim` option for a key: rsa-sha256, relaxed/relaxed (Nodemailer's only canonicalisation). */
export function dkimOption(key: SigningKey): NonNullable<Mail.Options['dkim']> {
  return { domainName: key.domain, keySelector: key.selector, privateKey: key.privateKey, headerFieldNames: SIGNED_HEADERS.join(':') };
}
