import { domainToASCII } from 'node:url';

/**
 * Addresses are stored trimmed with the domain lower-cased. The local part is
 * kept as written: RFC 5321 lets a server treat it case-sensitively, so
 * `Ana@x.com` and `ana@x.com` are two contacts (and two suppressions).
 * Syntax: a dot-atom local part (no quoted strings) and a host name with at
 * least two labels. International domain names are accepted in Unicode or
 * in their xn-- form and stored in the ASCII (xn--, lower-case) form, so
 * `ana@münchen.de` and `ana@xn--mnchen-3ya.de` are one address.
 */
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const NEEDS_IDNA = /[^\x00-\x7f]|xn--/i;

export const MAX_EMAIL_LENGTH = 254;

/** The domain in its ASCII form (UTS #46 via url.domainToASCII), lower-cased; '' when it is not a valid IDN. */
function asciiDomain(domain: string): string {
  return NEEDS_IDNA.test(domain) ? domainToASCII(domain) : domain.toLowerCase();
}

export function normaliseEmail(input: string): string | undefined {
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_EMAIL_LENGTH) return undefined;
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || at > 64) return undefined;
  const local = trimmed.slice(0, at);
  if (!LOCAL_PART.test(local)) return undefined;
  const domain = asciiDomain(trimmed.slice(at + 1));
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return undefined;
  const tld = labels[labels.length - 1]!;
  if (/^\d+$/.test(tld)) return undefined;
  const email = `${local}@${domain}`;
  return email.length > MAX_EMAIL_LENGTH ? undefined : email;
}
