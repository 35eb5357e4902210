/**
 * What a sending domain must publish, and what `verify` makes of what DNS
 * answers: pure functions over the answers, so every rule is unit-tested
 * without a DNS server (I/O is in net/dns-lookup.ts and the service).
 */
import type { DnsAnswer } from '../net/dns-lookup.js';
import { organisationalDomain } from '../shared/domain-name.js';

export type CheckStatus = 'VALID' | 'PENDING' | 'FAILED';

export interface Check {
  status: CheckStatus;
  /** Why it is not VALID; null when it is. */
  reason: string | null;
}


export type RecordPurpose = 'dkim' | 'nextDkim' | 'spf' | 'dmarc' | 'returnPath' | 'returnPathSpf';

export interface DnsRecord {
  purpose: RecordPurpose;
  type: 'TXT' | 'MX';
  host: string;
  value: string;
  status: CheckStatus;
}

export interface DomainChecks {
  spf: Check;
  dkim: Check;
  dmarc: Check;
  returnPath: Check;
  /** SPF at the return-path host (the envelope sender's domain); absent from checks stored before it was checked. */
  returnPathSpf?: Check;
  /** The key a rotation moves to, while one is under way. */
  nextDkim?: Check;
}

const VALID: Check = { status: 'VALID', reason: null };
const pending = (reason: string): Check => ({ status: 'PENDING', reason });
const failed = (reason: string): Check => ({ status: 'FAILED', reason });

export const dkimHost = (name: string, selector: string) => `${selector}._domainkey.${name}`;
export const dmarcHost = (name: string) => `_dmarc.${name}`;
export const returnPathHost = (name: string) => `bounces.${name}`;
export const dkimValue = (publicKey: string) => `v=DKIM1; k=rsa; p=${publicKey}`;
export const SPF_SUGGESTION = 'v=spf1 mx ~all';
/**
 * SPF for the return-path host: whatever `<name>` authorises. Receivers
 * check SPF against the envelope sender's domain, and MailingCore never
 * delivers to a recipient's MX itself: mail leaves through an SMTP relay
 * (SMTP_URL or the project's server), whose addresses `<name>`'s SPF lists
 * already. Including it keeps one list to maintain (a new relay is added
 * once). The inbound host (the MX) sends nothing and needs no place in it.
 */
export const returnPathSpfValue = (name: string) => `v=spf1 include:${name} ~all`;
export const DMARC_SUGGESTION = 'v=DMARC1; p=none; adkim=r; aspf=r';

export interface RecordsInput {
  name: string;
  selector: string;
  publicKey: string;
  next: { selector: string; publicKey: string } | null;
  /** The mail server bounces to `bounces.<name>` go to (the return path's MX: BOUNCE_MX_HOST, else the host of PUBLIC_URL). */
  returnPathTarget: string;
  checks: DomainChecks | null;
}

/** The records to publish, each with the status the last verify gave it (PENDING before any). */
export function buildRecords(input: RecordsInput): DnsRecord[] {
  const status = (check: Check | undefined): CheckStatus => check?.status ?? 'PENDING';
  const records: DnsRecord[] = [
    { purpose: 'dkim', type: 'TXT', host: dkimHost(input.name, input.selector), value: dkimValue(input.publicKey), status: status(input.checks?.dkim) },
  ];
  if (input.next) {
    records.push({
      purpose: 'nextDkim',
      type: 'TXT',
      host: dkimHost(input.name, input.next.selector),
      value: dkimValue(input.next.publicKey),
      status: status(input.checks?.nextDkim),
    });
  }
  records.push(
    { purpose: 'spf', type: 'TXT', host: input.name, value: SPF_SUGGESTION, status: status(input.checks?.spf) },
    { purpose: 'dmarc', type: 'TXT', host: dmarcHost(input.name), value: DMARC_SUGGESTION, status: status(input.checks?.dmarc) },
    { purpose: 'returnPath', type: 'MX', host: returnPathHost(input.name), value: `10 ${input.returnPathTarget}`, status: status(input.checks?.returnPath) },
    { purpose: 'returnPathSpf', type: 'TXT', host: returnPathHost(input.name), value: returnPathSpfValue(input.name), status: status(input.checks?.returnPathSpf) },
  );
  return records;
}

/** `k=v; k=v` tags (DKIM, DMARC); null when a tag is malformed or repeated. */
export function parseTags(record: string): Map<string, string> | null {
  const tags = new Map<string, string>();
  for (const part of record.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    const key = part.slice(0, eq).trim().toLowerCase();
    if (!/^[a-z][a-z0-9_]*$/.test(key) || tags.has(key)) return null;
    tags.set(key, part.slice(eq + 1).trim());
  }
  return tags;
}

const lookupFailed = (what: string, answer: { reason: string }) => pending(`${what}: DNS look-up failed (${answer.reason})`);

/** The DKIM record at `<selector>._domainkey.<name>` must carry exactly our public key. */
export function checkDkim(host: string, answer: DnsAnswer<string>, publicKey: string): Check {
  if (answer.kind === 'error') return lookupFailed(host, answer);
  if (answer.kind === 'missing' || answer.records.length === 0) return pending(`DKIM record missing: no TXT record at ${host}`);
  if (answer.records.length > 1) return failed(`several TXT records at ${host} (${answer.records.length}): publish only the DKIM record`);
  const tags = parseTags(answer.records[0]!);
  if (!tags) return failed(`the TXT record at ${host} is not a DKIM record (malformed tags)`);
  const version = tags.get('v');
  if (version !== undefined && version !== 'DKIM1') return failed(`the DKIM record at ${host} has v=${version}, expected DKIM1`);
  const keyType = tags.get('k');
  if (keyType !== undefined && keyType.toLowerCase() !== 'rsa') return failed(`the DKIM record at ${host} has k=${keyType}, expected rsa`);
  const published = tags.get('p');
  if (published === undefined) return failed(`the DKIM record at ${host} has no p= (public key)`);
  const key = published.replace(/\s+/g, '');
  if (key === '') return failed(`the DKIM record at ${host} has an empty p=: the key is revoked`);
  if (key !== publicKey) return failed(`DKIM key mismatch: the key published at ${host} is not this domain's key`);
  return VALID;
}

const SPF_MECHANISMS = new Set(['all', 'include', 'a', 'mx', 'ptr', 'ip4', 'ip6', 'exists']);
const SPF_LOOKUP_TERMS = new Set(['include', 'a', 'mx', 'ptr', 'exists', 'redirect']);
const isSpf = (record: string) => /^v=spf1(\s|$)/i.test(record.trim());

/** One SPF record at the domain (RFC 7208): parsable, at most 10 look-ups, not `+all`. */
export function checkSpf(name: string, answer: DnsAnswer<string>): Check {
  return judgeSpf(name, answer).check;
}

/** The check, and the one SPF record's terms when it is VALID (for the return path's include). */
function judgeSpf(name: string, answer: DnsAnswer<string>): { check: Check; terms?: string[]; lookups?: number } {
  if (answer.kind === 'error') return { check: lookupFailed(name, answer) };
  const records = answer.kind === 'found' ? answer.records.filter(isSpf) : [];
  if (records.length === 0) return { check: pending(`SPF record missing: no "v=spf1" TXT record at ${name}`) };
  if (records.length > 1) {
    return { check: failed(`several SPF records at ${name} (${records.length}): receivers treat that as a permanent error (RFC 7208 §4.5); merge them into one`) };
  }
  const terms = records[0]!.trim().split(/\s+/).slice(1);
  let lookups = 0;
  for (const term of terms) {
    const modifier = /^([a-z][a-z0-9_.-]*)=(.*)$/i.exec(term);
    if (modifier) {
      if (SPF_LOOKUP_TERMS.has(modifier[1]!.toLowerCase())) lookups++;
      continue;
    }
    const mechanism = /^([+\-~?]?)([a-z0-9]+)([:/].*)?$/i.exec(term);
    const kind = mechanism?.[2]?.toLowerCase();
    if (!mechanism || !kind || !SPF_MECHANISMS.has(kind)) return { check: failed(`the SPF record at ${name} has an unknown term "${term}"`) };
    if (SPF_LOOKUP_TERMS.has(kind)) lookups++;
    if (kind === 'all' && (mechanism[1] === '' || mechanism[1] === '+')) {
      return { check: failed(`the SPF record at ${name} ends in "${term}": it lets anyone send as ${name}; use ~all or -all`) };
    }
  }
  if (lookups > 10) return { check: failed(`the SPF record at ${name} needs ${lookups} DNS look-ups; receivers stop at 10 (RFC 7208 §4.6.4)`) };
  return { check: VALID, terms, lookups };
}

/**
 * SPF at the return-path host `bounces.<name>` (the envelope sender's
 * domain, which receivers check SPF against): the rules of `checkSpf`; and
 * when it includes `<name>` (the suggestion), `<name>` must have one SPF
 * record (else receivers answer permerror) and both together stay within
 * 10 look-ups. `nameAnswer` is the TXT answer at `<name>`, already asked for
 * the SPF check.
 */
export function checkReturnPathSpf(name: string, answer: DnsAnswer<string>, nameAnswer: DnsAnswer<string>): Check {
  const host = returnPathHost(name);
  const own = judgeSpf(host, answer);
  if (own.check.status !== 'VALID') return own.check;
  const includesName = own.terms!.some((term) => /^\+?include:(.+)$/i.exec(term)?.[1]?.toLowerCase().replace(/\.$/, '') === name);
  if (!includesName) return VALID;
  if (nameAnswer.kind === 'error') return pending(`the SPF record at ${host} includes ${name}, whose SPF record could not be read: DNS look-up failed (${nameAnswer.reason})`);
  const spfRecords = nameAnswer.kind === 'found' ? nameAnswer.records.filter(isSpf).length : 0;
  if (spfRecords !== 1) {
    const what = spfRecords === 0 ? 'no SPF record' : 'several SPF records';
    return failed(`the SPF record at ${host} includes ${name}, which has ${what}: receivers answer permerror; publish one SPF record at ${name}`);
  }
  const included = judgeSpf(name, nameAnswer);
  if (included.check.status !== 'VALID') return failed(`the SPF record at ${host} includes ${name}: ${included.check.reason}`);
  const lookups = own.lookups! + included.lookups!;
  if (lookups > 10) return failed(`the SPF record at ${host} and ${name}'s, which it includes, need ${lookups} DNS look-ups together; receivers stop at 10 (RFC 7208 §4.6.4)`);
  return VALID;
}

export interface DmarcPolicy {
  /** Where the record was found: `_dmarc.<name>`, or the organisational domain's. */
  host: string;
  p: string;
  adkim: 'r' | 's';
  aspf: 'r' | 's';
}

const isDmarc = (record: string) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(record.trim());

/** One DMARC record with a `p=` of none, quarantine or reject (p=none counts: it is a published policy). */
export function checkDmarc(host: string, answer: DnsAnswer<string>): { check: Check; policy: DmarcPolicy | null } {
  if (answer.kind === 'error') return { check: lookupFailed(host, answer), policy: null };
  const records = answer.kind === 'found' ? answer.records.filter(isDmarc) : [];
  if (records.length === 0) return { check: pending(`DMARC record missing: no "v=DMARC1" TXT record at ${host}`), policy: null };
  if (records.length > 1) return { check: failed(`several DMARC records at ${host} (${records.length}): receivers ignore them all; keep one`), policy: null };
  const tags = parseTags(records[0]!);
  if (!tags) return { check: failed(`the DMARC record at ${host} is malformed`), policy: null };
  const p = tags.get('p')?.toLowerCase();
  if (p === undefined || p === '') return { check: failed(`DMARC p= missing in the record at ${host}: add p=none, quarantine or reject`), policy: null };
  if (!['none', 'quarantine', 'reject'].includes(p)) return { check: failed(`the DMARC record at ${host} has p=${p}; expected none, quarantine or reject`), policy: null };
  const mode = (value: string | undefined): 'r' | 's' => (value?.toLowerCase() === 's' ? 's' : 'r');
  return { check: VALID, policy: { host, p, adkim: mode(tags.get('adkim')), aspf: mode(tags.get('aspf')) } };
}

/**
 * `bounces.<name>` must be an MX pointing at our bounce host; and it can
 * only align with From `<name>` under relaxed SPF alignment (aspf=r).
 */
export function checkReturnPath(name: string, answer: DnsAnswer<{ exchange: string }>, target: string, policy: DmarcPolicy | null): Check {
  const host = returnPathHost(name);
  if (policy?.aspf === 's') return failed(`alignment impossible: the DMARC record at ${policy.host} asks for strict SPF alignment (aspf=s), which ${host} never meets`);
  if (answer.kind === 'error') return lookupFailed(host, answer);
  if (answer.kind === 'missing' || answer.records.length === 0) return pending(`return-path record missing: no MX record at ${host}`);
  const wanted = target.toLowerCase().replace(/\.$/, '');
  const exchanges = answer.records.map((record) => record.exchange.toLowerCase().replace(/\.$/, ''));
  if (!exchanges.includes(wanted)) return failed(`the MX record at ${host} points to ${exchanges.join(', ')}, not ${wanted}`);
  return VALID;
}

/** Where DMARC is looked up when `_dmarc.<name>` has none: the organisational domain's (RFC 7489 §6.6.3); null when that is the same. */
export function dmarcFallbackHost(name: string): string | null {
  const organisational = organisationalDomain(name);
  return organisational === null || organisational === name ? null : dmarcHost(organisational);
}

/** A domain signs once DKIM is VALID and SPF or the return path is. */
export function domainStatus(checks: DomainChecks): 'VERIFIED' | 'FAILED' | 'PENDING' {
  if (checks.dkim.status === 'VALID' && (checks.spf.status === 'VALID' || checks.returnPath.status === 'VALID')) return 'VERIFIED';
  const all = [checks.dkim, checks.spf, checks.dmarc, checks.returnPath, ...(checks.returnPathSpf ? [checks.returnPathSpf] : [])];
  return all.some((check) => check.status === 'FAILED') ? 'FAILED' : 'PENDING';
}

/** The next selector of a rotation: `mc1` → `mc2`, `s2024` → `s2025`, `default` → `default2`. */
export function nextSelector(selector: string): string {
  const match = /^(.*?)(\d+)$/.exec(selector);
  return match ? `${match[1]}${Number(match[2]) + 1}` : `${selector}2`;
}
