import { domainToASCII } from 'node:url';
import { getDomain, parse } from 'tldts';

/** The Public Suffix List with its private section: `github.io` is a suffix, `me.github.io` registrable. */
const PSL = { allowPrivateDomains: true } as const;

export type DomainNameCheck = { ok: true; name: string } | { ok: false; code: 'INVALID_DOMAIN' | 'PUBLIC_SUFFIX'; message: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * A sending domain's name as stored: IDN to ASCII (punycode), lower case, no
 * trailing dot; a registrable domain or a subdomain of one — never an IP
 * address, a single label or a bare public suffix (`co.uk`, `github.io`).
 */
export function checkDomainName(input: string): DomainNameCheck {
  const trimmed = input.trim().replace(/\.$/, '');
  const ascii = trimmed === '' ? '' : domainToASCII(trimmed.toLowerCase());
  const invalid = (message: string): DomainNameCheck => ({ ok: false, code: 'INVALID_DOMAIN', message });
  if (ascii === '' || ascii.length > 253) return invalid(`"${input}" is not a domain name`);
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return invalid(`"${input}" is not a domain name`);
  const parsed = parse(ascii, PSL);
  if (parsed.isIp) return invalid('an IP address is not a sending domain');
  if (parsed.domain === null || parsed.publicSuffix === ascii) {
    return { ok: false, code: 'PUBLIC_SUFFIX', message: `"${ascii}" is a public suffix: use a domain registered under it` };
  }
  return { ok: true, name: ascii };
}

/** The organisational domain (RFC 7489 §3.2) of an ASCII host name, by the Public Suffix List; null when there is none. */
export function organisationalDomain(name: string): string | null {
  return getDomain(name.toLowerCase(), PSL);
}

/** The domain of an email address, lower case and ASCII (IDN to punycode); null when there is none. */
export function domainOfAddress(email: string): string | null {
  const at = email.lastIndexOf('@');
  if (at < 0) return null;
  const ascii = domainToASCII(email.slice(at + 1).trim().replace(/\.$/, '').toLowerCase());
  return ascii === '' ? null : ascii;
}
