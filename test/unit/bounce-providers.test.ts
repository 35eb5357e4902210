import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bounceKey, createBounceToken } from '../../src/delivery/bounce-address.js';
import { relayMetadataHeaders, relayProviderOf } from '../../src/delivery/relay-metadata.js';
import { authenticateMailgun, parseMailgun } from '../../src/inbound/providers/mailgun.js';
import { authenticatePostmark, parsePostmark, passwordHashOf } from '../../src/inbound/providers/postmark.js';
import { providerEffectOf, type ProviderReport } from '../../src/inbound/providers/provider-report.js';
import { targetOf } from '../../src/inbound/providers/bounce-provider.service.js';

const sample = (name: string): Record<string, any> => JSON.parse(readFileSync(new URL(`../fixtures/providers/${name}.json`, import.meta.url), 'utf8'));
const KEY = bounceKey('unit-test-secret');
const TENANT = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const OTHER = '0190a1b2-c3d4-7e5f-8a9b-ffffffffffff';

describe('Postmark adapter', () => {
  it('reads a bounce webhook as Postmark documents it', () => {
    expect(parsePostmark(sample('postmark-hard-bounce'))).toEqual({
      kind: 'report',
      report: { kind: 'hard', email: 'john@example.com', diagnostic: 'Test bounce details' },
    });
  });

  it('takes our token from Metadata["mc-token"] and the SMTP status from Details', () => {
    const body = { ...sample('postmark-hard-bounce'), Metadata: { 'mc-token': 'abc234' }, Details: "smtp;550 5.1.1 The email account that you tried to reach does not exist." };
    expect(parsePostmark(body)).toMatchObject({ kind: 'report', report: { kind: 'hard', token: 'abc234', status: { basic: 550, enhanced: '5.1.1' } } });
  });

  it.each([
    ['SoftBounce', 'soft'],
    ['DnsError', 'soft'],
    ['Transient', 'delayed'],
    ['BadEmailAddress', 'hard'],
    ['SpamComplaint', 'complaint'],
  ])('Type %s → %s', (type, kind) => {
    expect(parsePostmark({ ...sample('postmark-hard-bounce'), Type: type })).toMatchObject({ kind: 'report', report: { kind } });
  });

  it('reads a spam-complaint webhook', () => {
    expect(parsePostmark(sample('postmark-spam-complaint'))).toEqual({ kind: 'report', report: { kind: 'complaint', email: 'john@example.com' } });
  });

  it('keeps bounce types that say nothing about the address (Blocked, AutoResponder…), and bounces naming no address', () => {
    for (const type of ['Blocked', 'AutoResponder', 'Unsubscribe', 'ManuallyDeactivated', 'Unknown']) {
      expect(parsePostmark({ ...sample('postmark-hard-bounce'), Type: type })).toMatchObject({ kind: 'unsupported', email: 'john@example.com' });
    }
    expect(parsePostmark({ ...sample('postmark-hard-bounce'), Email: '' })).toMatchObject({ kind: 'unsupported', email: null });
  });

  it('ignores other record types, and refuses what is not a Postmark webhook', () => {
    for (const recordType of ['Delivery', 'Open', 'Click', 'SubscriptionChange']) expect(parsePostmark({ RecordType: recordType })).toMatchObject({ kind: 'ignored' });
    for (const body of [null, undefined, 'Bounce', 42, [], [{ RecordType: 'Bounce' }], {}, { RecordType: 7 }]) expect(parsePostmark(body)).toMatchObject({ kind: 'invalid' });
  });

  it('verifies basic authentication against the stored hash', () => {
    const secrets = { username: 'mailingcore', passwordHash: passwordHashOf('s3cret-pass') };
    const basic = (value: string) => `Basic ${Buffer.from(value).toString('base64')}`;
    expect(authenticatePostmark(basic('mailingcore:s3cret-pass'), secrets)).toEqual({ ok: true });
    expect(authenticatePostmark(`basic   ${Buffer.from('mailingcore:s3cret-pass').toString('base64')}`, secrets)).toEqual({ ok: true });
    for (const header of [basic('mailingcore:wrong'), basic('someone:s3cret-pass'), basic('mailingcore'), basic(''), 'Basic !!!', 'Bearer x', '', undefined]) {
      expect(authenticatePostmark(header, secrets).ok, String(header)).toBe(false);
    }
    expect(authenticatePostmark(basic('mailingcore:s3cret-pass'), {}).ok).toBe(false);
  });
});

describe('Mailgun adapter', () => {
  const signingKey = 'key-0123456789abcdef0123456789abcdef';
  const now = new Date('2026-11-30T12:00:00Z');
  const signed = (body: Record<string, any>, at = now, key = signingKey, token = 'f'.repeat(50)) => {
    const timestamp = String(Math.floor(at.getTime() / 1000));
    return { ...body, signature: { timestamp, token, signature: createHmac('sha256', key).update(timestamp + token).digest('hex') } };
  };

  it('reads a permanent failure as Mailgun documents it: hard, with its SMTP status and our Message-ID', () => {
    expect(parseMailgun(sample('mailgun-permanent-fail'))).toEqual({
      kind: 'report',
      report: {
        kind: 'hard',
        email: 'alice@example.com',
        status: { basic: 550, enhanced: '5.1.1' },
        diagnostic: '550 5.1.1 The email account that you tried to reach does not exist.',
        messageId: '20130503182626.18666.16540@sandbox.mgsend.net',
      },
    });
  });

  it('a temporary failure is a delay; a complaint is a complaint; the token comes from user-variables.mc_token', () => {
    expect(parseMailgun(sample('mailgun-temporary-fail'))).toMatchObject({ kind: 'report', report: { kind: 'delayed', status: { basic: 452, enhanced: '4.2.2' } } });
    const complained = sample('mailgun-complained');
    complained['event-data']['user-variables'] = { mc_token: 'abc234' };
    expect(parseMailgun(complained)).toEqual({
      kind: 'report',
      report: { kind: 'complaint', email: 'alice@example.com', token: 'abc234', messageId: '20110215055645.25246.63817@sandbox.mgsend.net' },
    });
  });

  it("Mailgun's own suppression list: suppress-bounce is hard (no SMTP code), suppress-complaint a complaint, suppress-unsubscribe kept", () => {
    const body = sample('mailgun-permanent-fail');
    body['event-data']['reason'] = 'suppress-bounce';
    body['event-data']['delivery-status'] = { code: 605, message: '', description: 'Not delivering to previously bounced address' };
    expect(parseMailgun(body)).toEqual({
      kind: 'report',
      report: { kind: 'hard', email: 'alice@example.com', diagnostic: '605 Not delivering to previously bounced address', messageId: '20130503182626.18666.16540@sandbox.mgsend.net' },
    });
    body['event-data']['reason'] = 'suppress-complaint';
    expect(parseMailgun(body)).toMatchObject({ kind: 'report', report: { kind: 'complaint' } });
    body['event-data']['reason'] = 'suppress-unsubscribe';
    expect(parseMailgun(body)).toMatchObject({ kind: 'unsupported', email: 'alice@example.com' });
  });

  it('ignores other events, and refuses what is not a Mailgun webhook', () => {
    for (const event of ['delivered', 'opened', 'clicked', 'unsubscribed', 'accepted']) expect(parseMailgun({ 'event-data': { event } })).toMatchObject({ kind: 'ignored' });
    for (const body of [null, 'x', [], {}, { 'event-data': [] }, { 'event-data': { event: 1 } }]) expect(parseMailgun(body)).toMatchObject({ kind: 'invalid' });
  });

  it('verifies the HMAC-SHA256 signature of timestamp + token, within five minutes', () => {
    const body = signed(sample('mailgun-complained'));
    expect(authenticateMailgun(body, signingKey, now)).toEqual({ ok: true, replayToken: 'f'.repeat(50) });
    expect(authenticateMailgun(body, signingKey, new Date(now.getTime() + 4 * 60_000)).ok).toBe(true);
    expect(authenticateMailgun(body, signingKey, new Date(now.getTime() + 6 * 60_000))).toMatchObject({ ok: false, reason: expect.stringContaining('too old') });
    expect(authenticateMailgun(body, signingKey, new Date(now.getTime() - 6 * 60_000)).ok).toBe(false);
    expect(authenticateMailgun(body, 'key-another', now)).toMatchObject({ ok: false, reason: expect.stringContaining('does not verify') });
    expect(authenticateMailgun({ ...body, signature: { ...body.signature, token: 'e'.repeat(50) } }, signingKey, now).ok).toBe(false);
    expect(authenticateMailgun({ ...body, signature: { ...body.signature, timestamp: String(Number(body.signature.timestamp) + 1) } }, signingKey, now).ok).toBe(false);
    // The documented sample's signature is for another key.
    expect(authenticateMailgun(sample('mailgun-permanent-fail'), signingKey, new Date(1529006854_000)).ok).toBe(false);
    for (const bad of [{}, { signature: null }, { signature: { timestamp: '1', token: 't' } }, { signature: { ...body.signature, signature: 'zz' } }, null, 'x', []]) {
      expect(authenticateMailgun(bad, signingKey, now).ok, JSON.stringify(bad)).toBe(false);
    }
    expect(authenticateMailgun(body, undefined, now).ok).toBe(false);
  });
});

describe('providerEffectOf: the same classification as a DSN', () => {
  const report = (r: Partial<ProviderReport>): ProviderReport => ({ kind: 'hard', email: 'a@b.test', ...r });
  it.each([
    [{ kind: 'hard' as const }, { kind: 'bounce', action: 'hard' }],
    [{ kind: 'soft' as const }, { kind: 'bounce', action: 'soft' }],
    [{ kind: 'hard' as const, status: { basic: 550, enhanced: '5.1.1' } }, { kind: 'bounce', action: 'hard' }],
    [{ kind: 'hard' as const, status: { basic: 552, enhanced: '5.2.2' } }, { kind: 'bounce', action: 'soft' }],
    [{ kind: 'soft' as const, status: { enhanced: '5.1.1' } }, { kind: 'bounce', action: 'hard' }],
    [{ kind: 'hard' as const, status: { basic: 550 } }, { kind: 'bounce', action: 'hard' }],
    [{ kind: 'delayed' as const, status: { basic: 550, enhanced: '5.1.1' } }, { kind: 'delayed', action: 'soft' }],
    [{ kind: 'complaint' as const }, { kind: 'complaint', action: 'complaint' }],
  ])('%j → %j', (r, expected) => {
    expect(providerEffectOf(report(r))).toMatchObject(expected);
  });

  it('policy, content and protocol refusals are not the address’s fault: no effect, kept', () => {
    expect(providerEffectOf(report({ status: { basic: 550, enhanced: '5.7.1' } }))).toMatchObject({ kind: null, reason: expect.stringContaining('blocked') });
    expect(providerEffectOf(report({ status: { basic: 554, enhanced: '5.6.0' } }))).toMatchObject({ kind: null });
  });
});

describe('targetOf: attribution within the integration’s tenant', () => {
  const token = createBounceToken(KEY, { tenantId: TENANT, messageId: 42 });
  it('our token names the message; the address must match it later', () => {
    expect(targetOf(TENANT, { email: 'a@b.test', token }, KEY)).toEqual({ tenantId: TENANT, messageId: 42, email: 'a@b.test' });
    expect(targetOf(TENANT, { email: 'a@b.test', token: token.toUpperCase() }, KEY)).toMatchObject({ messageId: 42 });
  });

  it("another tenant's token names nothing here, even with a Message-ID", () => {
    const theirs = createBounceToken(KEY, { tenantId: OTHER, messageId: 42 });
    expect(targetOf(TENANT, { email: 'a@b.test', token: theirs, messageId: `${OTHER}.42@x.test` }, KEY)).toEqual({ reason: "the token names another tenant's message" });
  });

  it('else our Message-ID, unsigned (checked against the message row: tenant, campaign and address)', () => {
    const campaign = '0190a1b2-c3d4-7e5f-8a9b-000000000001';
    expect(targetOf(TENANT, { email: 'a@b.test', messageId: `<${campaign}.7@news.acme.test>` }, KEY)).toEqual({
      tenantId: TENANT, messageId: 7, campaignId: campaign, email: 'a@b.test', unsigned: true,
    });
    expect(targetOf(TENANT, { email: 'a@b.test', token: 'forged', messageId: `${campaign}.7@news.acme.test` }, KEY)).toMatchObject({ messageId: 7, unsigned: true });
  });

  it('nothing of ours: unattributed', () => {
    expect(targetOf(TENANT, { email: 'a@b.test' }, KEY)).toHaveProperty('reason');
    expect(targetOf(TENANT, { email: 'a@b.test', messageId: '20130503182626.18666.16540@sandbox.mgsend.net' }, KEY)).toHaveProperty('reason');
    expect(targetOf(TENANT, { email: 'a@b.test', token: 'a'.repeat(55) }, KEY)).toHaveProperty('reason');
  });
});

describe('relay metadata: the token in the hosted relay’s header', () => {
  it('knows Postmark and Mailgun by the SMTP host, nothing else', () => {
    expect(relayProviderOf('smtp.postmarkapp.com')).toBe('postmark');
    expect(relayProviderOf('SMTP-Broadcasts.PostmarkApp.com.')).toBe('postmark');
    expect(relayProviderOf('smtp.mailgun.org')).toBe('mailgun');
    expect(relayProviderOf('smtp.eu.mailgun.org')).toBe('mailgun');
    for (const host of ['127.0.0.1', 'smtp.example.com', 'postmarkapp.com.evil.test', 'evilmailgun.org', '', null, undefined]) expect(relayProviderOf(host)).toBeUndefined();
  });

  it('writes the header each relay echoes, and nothing that is not a token', () => {
    const token = createBounceToken(KEY, { tenantId: TENANT, messageId: 1 });
    expect(relayMetadataHeaders('postmark', token)).toEqual({ 'X-PM-Metadata-mc-token': token });
    expect(relayMetadataHeaders('mailgun', token)).toEqual({ 'X-Mailgun-Variables': `{"mc_token":"${token}"}` });
    expect(relayMetadataHeaders('postmark', 'x\r\nBcc: a@b.test')).toEqual({});
    expect(relayMetadataHeaders(undefined, token)).toEqual({});
  });
});
