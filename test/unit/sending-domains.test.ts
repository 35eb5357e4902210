import { describe, expect, it } from 'vitest';
import { parseDnsServers } from '../../src/config.js';
import { signingKeyFor, type SigningKey } from '../../src/delivery/dkim.js';
import {
  buildRecords,
  checkDkim,
  checkDmarc,
  checkReturnPath,
  checkReturnPathSpf,
  checkSpf,
  dmarcFallbackHost,
  domainStatus,
  nextSelector,
  parseTags,
  type Check,
} from '../../src/domains/dns-checks.js';
import type { DnsAnswer } from '../../src/net/dns-lookup.js';
import { checkDomainName, domainOfAddress, organisationalDomain } from '../../src/shared/domain-name.js';

const found = (...records: string[]): DnsAnswer<string> => ({ kind: 'found', records });
const missing: DnsAnswer<string> = { kind: 'missing' };
const broken: DnsAnswer<string> = { kind: 'error', reason: 'ETIMEOUT looking up x' };
const VALID: Check = { status: 'VALID', reason: null };

describe('domain names', () => {
  it('stores IDNs as punycode, lower case, without the trailing dot', () => {
    expect(checkDomainName(' Bücher.Example. ')).toEqual({ ok: true, name: 'xn--bcher-kva.example' });
    expect(checkDomainName('news.acme.co.uk')).toEqual({ ok: true, name: 'news.acme.co.uk' });
  });

  it('refuses public suffixes (ICANN and private), IPs, single labels and junk', () => {
    expect(checkDomainName('co.uk')).toMatchObject({ ok: false, code: 'PUBLIC_SUFFIX' });
    expect(checkDomainName('github.io')).toMatchObject({ ok: false, code: 'PUBLIC_SUFFIX' });
    for (const name of ['', 'com', '10.0.0.1', 'a b.example', '-x.example', `${'a'.repeat(64)}.example`, 'a..b']) {
      expect(checkDomainName(name), name).toMatchObject({ ok: false, code: 'INVALID_DOMAIN' });
    }
  });

  it('finds the organisational domain by the Public Suffix List, not the last two labels', () => {
    expect(organisationalDomain('news.acme.co.uk')).toBe('acme.co.uk');
    expect(organisationalDomain('a.b.example.com')).toBe('example.com');
    expect(organisationalDomain('me.github.io')).toBe('me.github.io');
    expect(domainOfAddress('Ana@Bücher.Example')).toBe('xn--bcher-kva.example');
    expect(domainOfAddress('nobody')).toBeNull();
  });
});

describe('which key signs', () => {
  const keys: SigningKey[] = [
    { domain: 'acme.co.uk', selector: 'mc1', privateKey: 'k1' },
    { domain: 'news.other.example', selector: 'mc2', privateKey: 'k2' },
  ];
  it('the From domain, else its organisational domain; nothing otherwise', () => {
    expect(signingKeyFor('a@acme.co.uk', keys)?.privateKey).toBe('k1');
    expect(signingKeyFor('a@mail.news.acme.co.uk', keys)?.privateKey).toBe('k1');
    expect(signingKeyFor('a@news.other.example', keys)?.privateKey).toBe('k2');
    expect(signingKeyFor('a@other.example', keys)).toBeUndefined(); // a subdomain's key never signs its parent
    expect(signingKeyFor('a@x.news.other.example', keys)).toBeUndefined(); // organisational domain is other.example
    expect(signingKeyFor('a@co.uk', keys)).toBeUndefined();
    expect(signingKeyFor('a@acme.co.uk', [])).toBeUndefined();
  });
});

describe('DNS checks', () => {
  const KEY = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtest';

  it('DKIM: our key VALID; missing or unreachable PENDING; another key, several records, revoked or malformed FAILED', () => {
    const host = 'mc1._domainkey.acme.example';
    expect(checkDkim(host, found(`v=DKIM1; k=rsa; p=${KEY}`), KEY)).toEqual(VALID);
    expect(checkDkim(host, found(`k=rsa; p=${KEY.slice(0, 20)} ${KEY.slice(20)}`), KEY)).toEqual(VALID);
    expect(checkDkim(host, missing, KEY)).toMatchObject({ status: 'PENDING', reason: expect.stringContaining('DKIM record missing') });
    expect(checkDkim(host, broken, KEY)).toMatchObject({ status: 'PENDING', reason: expect.stringContaining('ETIMEOUT') });
    expect(checkDkim(host, found('v=DKIM1; p=AAAA'), KEY).reason).toContain('DKIM key mismatch');
    expect(checkDkim(host, found('v=DKIM1; p='), KEY).reason).toContain('revoked');
    expect(checkDkim(host, found('a', 'b'), KEY).reason).toContain('several TXT records');
    expect(checkDkim(host, found('v=DKIM1; k=ed25519; p=x'), KEY).reason).toContain('k=ed25519');
    expect(checkDkim(host, found('garbage'), KEY).status).toBe('FAILED');
  });

  it('SPF: exactly one record, known terms, at most 10 look-ups, never +all', () => {
    expect(checkSpf('a.example', found('v=spf1 mx ip4:192.0.2.0/24 include:_spf.example.net ~all', 'google-site-verification=x'))).toEqual(VALID);
    expect(checkSpf('a.example', found('v=spf1 redirect=_spf.example.net'))).toEqual(VALID);
    expect(checkSpf('a.example', found('something else')).status).toBe('PENDING');
    expect(checkSpf('a.example', missing).status).toBe('PENDING');
    expect(checkSpf('a.example', found('v=spf1 mx ~all', 'v=spf1 -all')).reason).toContain('several SPF records');
    expect(checkSpf('a.example', found('v=spf1 +all')).reason).toContain('lets anyone send');
    expect(checkSpf('a.example', found('v=spf1 mx all')).status).toBe('FAILED');
    expect(checkSpf('a.example', found('v=spf1 mx bogus:1 ~all')).reason).toContain('unknown term');
    const many = Array.from({ length: 11 }, (_, i) => `include:s${i}.example`).join(' ');
    expect(checkSpf('a.example', found(`v=spf1 ${many} -all`)).reason).toContain('11 DNS look-ups');
  });

  it('DMARC: one record with p=; p=none counts; the policy carries the alignment modes', () => {
    expect(checkDmarc('_dmarc.a.example', found('v=DMARC1; p=none'))).toEqual({
      check: VALID,
      policy: { host: '_dmarc.a.example', p: 'none', adkim: 'r', aspf: 'r' },
    });
    expect(checkDmarc('_dmarc.a.example', found('v=DMARC1; p=reject; aspf=s')).policy?.aspf).toBe('s');
    expect(checkDmarc('_dmarc.a.example', found('v=DMARC1; rua=mailto:x@a.example')).check.reason).toContain('p= missing');
    expect(checkDmarc('_dmarc.a.example', found('v=DMARC1; p=maybe')).check.status).toBe('FAILED');
    expect(checkDmarc('_dmarc.a.example', found('v=DMARC1; p=none', 'v=DMARC1; p=reject')).check.reason).toContain('several DMARC records');
    expect(checkDmarc('_dmarc.a.example', missing).check.status).toBe('PENDING');
    expect(checkDmarc('_dmarc.a.example', broken).check.status).toBe('PENDING');
    expect(dmarcFallbackHost('news.acme.co.uk')).toBe('_dmarc.acme.co.uk');
    expect(dmarcFallbackHost('acme.co.uk')).toBeNull();
  });

  it('return path: our MX at bounces.<name>, impossible to align under aspf=s', () => {
    const mx = (exchange: string): DnsAnswer<{ exchange: string }> => ({ kind: 'found', records: [{ exchange }] });
    expect(checkReturnPath('a.example', mx('Mail.MC.example.'), 'mail.mc.example', null)).toEqual(VALID);
    expect(checkReturnPath('a.example', mx('elsewhere.example'), 'mail.mc.example', null).reason).toContain('points to elsewhere.example');
    expect(checkReturnPath('a.example', { kind: 'missing' }, 'mail.mc.example', null).status).toBe('PENDING');
    const strict = { host: '_dmarc.a.example', p: 'reject', adkim: 'r' as const, aspf: 's' as const };
    expect(checkReturnPath('a.example', mx('mail.mc.example'), 'mail.mc.example', strict).reason).toContain('alignment impossible');
  });

  it("the return path's SPF (bounces.<name>): the SPF rules; an include of <name> needs <name>'s one SPF record, within 10 look-ups together", () => {
    const spf = found('v=spf1 mx include:_spf.relay.example ~all');
    expect(checkReturnPathSpf('a.example', found('v=spf1 include:a.example ~all'), spf)).toEqual(VALID);
    expect(checkReturnPathSpf('a.example', found('v=spf1 include:A.example. -all'), spf)).toEqual(VALID);
    // A record of its own that does not include <name>: judged alone.
    expect(checkReturnPathSpf('a.example', found('v=spf1 ip4:192.0.2.10 ~all'), missing)).toEqual(VALID);
    expect(checkReturnPathSpf('a.example', missing, spf)).toMatchObject({ status: 'PENDING', reason: expect.stringContaining('no "v=spf1" TXT record at bounces.a.example') });
    expect(checkReturnPathSpf('a.example', found('google-site-verification=x'), spf)).toMatchObject({ status: 'PENDING' });
    expect(checkReturnPathSpf('a.example', broken, spf)).toMatchObject({ status: 'PENDING', reason: expect.stringContaining('DNS look-up failed (ETIMEOUT') });
    expect(checkReturnPathSpf('a.example', found('v=spf1 include:a.example ~all', 'v=spf1 -all'), spf).reason).toContain('several SPF records at bounces.a.example');
    expect(checkReturnPathSpf('a.example', found('v=spf1 include:a.example +all'), spf).reason).toContain('lets anyone send');
    // The include of <name> read through the answer at <name>.
    expect(checkReturnPathSpf('a.example', found('v=spf1 include:a.example ~all'), missing)).toMatchObject({ status: 'FAILED', reason: expect.stringContaining('which has no SPF record: receivers answer permerror') });
    expect(checkReturnPathSpf('a.example', found('v=spf1 include:a.example ~all'), found('v=spf1 mx -all', 'v=spf1 a -all')).reason).toContain('which has several SPF records');
    expect(checkReturnPathSpf('a.example', found('v=spf1 include:a.example ~all'), found('v=spf1 bogus ~all')).reason).toContain('includes a.example: the SPF record at a.example has an unknown term');
    expect(checkReturnPathSpf('a.example', found('v=spf1 include:a.example ~all'), broken)).toMatchObject({ status: 'PENDING', reason: expect.stringContaining('could not be read: DNS look-up failed') });
    const nine = `v=spf1 ${Array.from({ length: 9 }, (_, i) => `include:r${i}.example`).join(' ')} ~all`;
    expect(checkSpf('a.example', found(nine))).toEqual(VALID);
    expect(checkReturnPathSpf('a.example', found('v=spf1 include:a.example ~all'), found(nine))).toMatchObject({ status: 'VALID' });
    expect(checkReturnPathSpf('a.example', found('v=spf1 a include:a.example ~all'), found(nine)).reason).toContain('need 11 DNS look-ups together');
  });

  it('a domain is VERIFIED with DKIM and SPF or the return path; FAILED when something is wrong; PENDING otherwise', () => {
    const pending: Check = { status: 'PENDING', reason: 'x' };
    const failed: Check = { status: 'FAILED', reason: 'x' };
    expect(domainStatus({ dkim: VALID, spf: VALID, dmarc: pending, returnPath: pending })).toBe('VERIFIED');
    expect(domainStatus({ dkim: VALID, spf: failed, dmarc: VALID, returnPath: VALID })).toBe('VERIFIED');
    expect(domainStatus({ dkim: VALID, spf: pending, dmarc: VALID, returnPath: pending })).toBe('PENDING');
    expect(domainStatus({ dkim: failed, spf: VALID, dmarc: VALID, returnPath: VALID })).toBe('FAILED');
    // The return path's SPF never un-verifies a domain (mail stays signed); a broken one makes an unverified domain FAILED.
    expect(domainStatus({ dkim: VALID, spf: VALID, dmarc: VALID, returnPath: VALID, returnPathSpf: failed })).toBe('VERIFIED');
    expect(domainStatus({ dkim: pending, spf: VALID, dmarc: VALID, returnPath: VALID, returnPathSpf: failed })).toBe('FAILED');
    expect(domainStatus({ dkim: pending, spf: VALID, dmarc: VALID, returnPath: VALID, returnPathSpf: pending })).toBe('PENDING');
  });

  it('builds the records to publish; a rotation adds the next key; selectors count up', () => {
    const records = buildRecords({
      name: 'a.example',
      selector: 'mc1',
      publicKey: 'K1',
      next: { selector: 'mc2', publicKey: 'K2' },
      returnPathTarget: 'mail.mc.example',
      checks: null,
    });
    expect(records.map((r) => `${r.purpose} ${r.type} ${r.host} ${r.value} ${r.status}`)).toEqual([
      'dkim TXT mc1._domainkey.a.example v=DKIM1; k=rsa; p=K1 PENDING',
      'nextDkim TXT mc2._domainkey.a.example v=DKIM1; k=rsa; p=K2 PENDING',
      'spf TXT a.example v=spf1 mx ~all PENDING',
      'dmarc TXT _dmarc.a.example v=DMARC1; p=none; adkim=r; aspf=r PENDING',
      'returnPath MX bounces.a.example 10 mail.mc.example PENDING',
      'returnPathSpf TXT bounces.a.example v=spf1 include:a.example ~all PENDING',
    ]);
    expect([nextSelector('mc1'), nextSelector('mc9'), nextSelector('s2024'), nextSelector('default')]).toEqual(['mc2', 'mc10', 's2025', 'default2']);
    expect(parseTags('v=DKIM1; p=a; p=b')).toBeNull();
  });
});

describe('DNS_SERVERS', () => {
  it('takes IPs with optional ports; refuses names and bad ports', () => {
    expect(parseDnsServers(undefined)).toBeUndefined();
    expect(parseDnsServers(' 1.1.1.1, 127.0.0.1:5353 ,[::1]:53, ::1 ')).toEqual(['1.1.1.1', '127.0.0.1:5353', '[::1]:53', '::1']);
    expect(() => parseDnsServers('dns.example')).toThrow(/DNS_SERVERS/);
    expect(() => parseDnsServers('1.1.1.1:99999')).toThrow(/DNS_SERVERS/);
  });
});
