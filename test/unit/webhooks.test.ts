import { describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from '../../sdk/src/webhooks.js';
import { ConfigError, DEFAULTS, loadConfig, parseRetrySchedule } from '../../src/config.js';
import { OutboundPolicy } from '../../src/net/outbound-policy.js';
import { maxAttempts, nextAttemptDelayMs, outcomeOfAttempt } from '../../src/webhooks/webhook-retry.js';
import { webhookSignature } from '../../src/webhooks/webhook-signature.js';
import { parseWebhookUrl } from '../../src/webhooks/webhook-url.js';

const SECRET = 'whsec_unit-test-secret-0123456789abcdefghij';
const BODY = JSON.stringify({ id: 'evt', type: 'email.sent', createdAt: '2026-01-01T00:00:00.000Z', tenantId: 't', data: { email: 'ä@x.test' } });
const NOW = 1_800_000_000_000;
const T = NOW / 1000;

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return (error as WebhookVerificationError).code;
  }
  throw new Error('not refused');
};

describe('webhook signatures: signed by the server, verified by the SDK', () => {
  it('signs "<t>.<raw body>" with HMAC-SHA256 and verifies it, string or bytes', () => {
    const header = webhookSignature(BODY, SECRET, T);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(BODY, header, SECRET, 300, { now: NOW })).toMatchObject({ id: 'evt', type: 'email.sent', data: { email: 'ä@x.test' } });
    expect(verifyWebhook(new TextEncoder().encode(BODY), header, SECRET, 300, { now: NOW }).id).toBe('evt');
    // Another v1 next to the right one (a rotation) does not hurt.
    expect(verifyWebhook(BODY, `${header},v1=${'0'.repeat(64)}`, SECRET, 300, { now: NOW }).id).toBe('evt');
  });

  it('refuses stale and future timestamps beyond the tolerance, either way', () => {
    const header = webhookSignature(BODY, SECRET, T);
    expect(verifyWebhook(BODY, header, SECRET, 300, { now: NOW + 300_000 }).id).toBe('evt');
    expect(refusal(() => verifyWebhook(BODY, header, SECRET, 300, { now: NOW + 301_000 }))).toBe('TIMESTAMP_OUT_OF_TOLERANCE');
    expect(refusal(() => verifyWebhook(BODY, header, SECRET, 300, { now: NOW - 301_000 }))).toBe('TIMESTAMP_OUT_OF_TOLERANCE');
    expect(refusal(() => verifyWebhook(BODY, header, SECRET, 10, { now: NOW + 11_000 }))).toBe('TIMESTAMP_OUT_OF_TOLERANCE');
  });

  it('refuses a changed body, a wrong secret, a moved timestamp and malformed headers', () => {
    const header = webhookSignature(BODY, SECRET, T);
    expect(refusal(() => verifyWebhook(BODY.replace('ä', 'a'), header, SECRET, 300, { now: NOW }))).toBe('SIGNATURE_MISMATCH');
    expect(refusal(() => verifyWebhook(`${BODY} `, header, SECRET, 300, { now: NOW }))).toBe('SIGNATURE_MISMATCH');
    expect(refusal(() => verifyWebhook(BODY, header, `${SECRET}x`, 300, { now: NOW }))).toBe('SIGNATURE_MISMATCH');
    expect(refusal(() => verifyWebhook(BODY, header.replace('t=1800000000', 't=1800000001'), SECRET, 300, { now: NOW }))).toBe('SIGNATURE_MISMATCH');
    for (const bad of ['', 'v1=abc', `t=${T}`, `t=abc,v1=${'a'.repeat(64)}`, `t=${T},v1=${'a'.repeat(63)}`, 'garbage']) {
      expect(refusal(() => verifyWebhook(BODY, bad, SECRET, 300, { now: NOW })), bad).toMatch(/MISSING_SIGNATURE|MALFORMED_SIGNATURE/);
    }
    expect(refusal(() => verifyWebhook(BODY, undefined, SECRET))).toBe('MISSING_SIGNATURE');
    // Mistakes in the call are thrown as such, never read as "verified": an empty secret, a tolerance that is not a number.
    expect(() => verifyWebhook(BODY, webhookSignature(BODY, '', T), '', 300, { now: NOW })).toThrow(TypeError);
    for (const tolerance of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      expect(() => verifyWebhook(BODY, header, SECRET, tolerance, { now: NOW + 25 * 365 * 86_400_000 })).toThrow(TypeError);
    }
    const notJson = 'not json';
    expect(refusal(() => verifyWebhook(notJson, webhookSignature(notJson, SECRET, T), SECRET, 300, { now: NOW }))).toBe('INVALID_BODY');
  });
});

describe('webhook retry schedule', () => {
  const schedule = DEFAULTS.webhooks.retryScheduleMs;

  it('waits 10 s, 1 min, 10 min, 1 h, 6 h, 24 h after failed attempts 1 to 6, then gives up (7 attempts in all)', () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => nextAttemptDelayMs(schedule, n, 0.1, middle))).toEqual([
      10_000, 60_000, 600_000, 3_600_000, 21_600_000, 86_400_000, undefined,
    ]);
    expect(maxAttempts(schedule)).toBe(7);
  });

  it('moves each delay by at most ±10 %', () => {
    expect(nextAttemptDelayMs(schedule, 1, 0.1, () => 0)).toBe(9000);
    expect(nextAttemptDelayMs(schedule, 1, 0.1, () => 0.999999)).toBe(11_000);
    expect(nextAttemptDelayMs(schedule, 4, 0.1, () => 0)).toBe(3_240_000);
  });

  it('records a 2xx as delivered, a failure as pending with its next attempt, and the last failure as failed', () => {
    const now = new Date('2026-01-01T00:00:00.000Z');
    const policy = { retryScheduleMs: [1000], jitter: 0 };
    expect(outcomeOfAttempt(1, { ok: true, statusCode: 204, responseBody: '', error: null }, now, policy)).toMatchObject({
      status: 'delivered', attempt: 1, delivered_at: now.toISOString(), next_attempt_at: null, status_code: 204,
    });
    expect(outcomeOfAttempt(1, { ok: false, statusCode: 500, responseBody: 'x', error: 'HTTP 500' }, now, policy)).toMatchObject({
      status: 'pending', attempt: 1, next_attempt_at: '2026-01-01T00:00:01.000Z', last_error: 'HTTP 500',
    });
    expect(outcomeOfAttempt(2, { ok: false, statusCode: null, responseBody: null, error: 'connection refused' }, now, policy)).toMatchObject({
      status: 'failed', attempt: 2, next_attempt_at: null, last_error: 'connection refused (gave up after 2 attempts)',
    });
  });
});

describe('webhook settings', () => {
  it('reads WEBHOOK_RETRY_SCHEDULE, WEBHOOK_TIMEOUT_MS, WEBHOOK_DISABLE_AFTER_MS, WEBHOOK_ALLOW_PRIVATE and EVENTS_RETENTION_DAYS', () => {
    const defaults = loadConfig({});
    expect(defaults.webhooks).toMatchObject({ retryScheduleMs: [10_000, 60_000, 600_000, 3_600_000, 21_600_000, 86_400_000], timeoutMs: 10_000, disableAfterMs: 259_200_000, jitter: 0.1 });
    expect(defaults.eventsRetentionDays).toBe(90);
    expect(defaults.outbound.webhookAllowPrivate).toBe(false);
    const set = loadConfig({
      WEBHOOK_RETRY_SCHEDULE: '5s, 30s,2m,1h,1d',
      WEBHOOK_TIMEOUT_MS: '2500',
      WEBHOOK_DISABLE_AFTER_MS: '3600000',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      EVENTS_RETENTION_DAYS: '30',
    });
    expect(set.webhooks).toMatchObject({ retryScheduleMs: [5000, 30_000, 120_000, 3_600_000, 86_400_000], timeoutMs: 2500, disableAfterMs: 3_600_000 });
    expect(set.outbound.webhookAllowPrivate).toBe(true);
    expect(set.eventsRetentionDays).toBe(30);
  });

  it('refuses bad values with a message naming the setting', () => {
    for (const [name, value] of [
      ['WEBHOOK_RETRY_SCHEDULE', '10'],
      ['WEBHOOK_RETRY_SCHEDULE', '10s,,1m'],
      ['WEBHOOK_RETRY_SCHEDULE', '500ms'],
      ['WEBHOOK_RETRY_SCHEDULE', '8d'],
      ['WEBHOOK_TIMEOUT_MS', '10s'],
      ['WEBHOOK_TIMEOUT_MS', '0'],
      ['WEBHOOK_DISABLE_AFTER_MS', '-1'],
      ['WEBHOOK_ALLOW_PRIVATE', 'yes'],
      ['EVENTS_RETENTION_DAYS', '0'],
    ] as const) {
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(name);
    }
    expect(() => parseRetrySchedule(Array(21).fill('1s').join(','))).toThrow('at most 20');
  });
});

describe('webhook URLs and the outbound policy', () => {
  it('wants https (http only when private targets are allowed), no credentials, at most 2048 characters', () => {
    expect(parseWebhookUrl('https://hooks.example.com/in?a=1#frag', false)).toMatchObject({ url: new URL('https://hooks.example.com/in?a=1') });
    expect(parseWebhookUrl('http://hooks.example.com/', false)).toHaveProperty('error.field', 'url');
    expect(parseWebhookUrl('http://hooks.example.com/', true)).toHaveProperty('url');
    expect(parseWebhookUrl('https://u:p@hooks.example.com/', true)).toHaveProperty('error.message', expect.stringContaining('user name or password'));
    expect(parseWebhookUrl('javascript:alert(1)', true)).toHaveProperty('error');
    expect(parseWebhookUrl(`https://h.example.com/${'a'.repeat(2040)}`, false)).toHaveProperty('error');
  });

  it('WEBHOOK_ALLOW_PRIVATE allows private and loopback webhook targets only — not SMTP, never link-local', () => {
    const policy = new OutboundPolicy({ webhookAllowPrivate: true });
    expect(policy.decide('h', '127.0.0.1', 'webhook').allowed).toBe(true);
    expect(policy.decide('h', '10.0.0.1', 'webhook').allowed).toBe(true);
    expect(policy.decide('h', '169.254.169.254', 'webhook').allowed).toBe(false);
    expect(policy.decide('h', '127.0.0.1', 'smtp').allowed).toBe(false);
    expect(policy.privateAllowed('webhook')).toBe(true);
    expect(policy.privateAllowed('smtp')).toBe(false);
    const strict = new OutboundPolicy();
    expect(strict.decide('h', '127.0.0.1', 'webhook').allowed).toBe(false);
    expect(strict.privateAllowed('webhook')).toBe(false);
    expect(new OutboundPolicy({ allowPrivateNetworks: true }).privateAllowed('webhook')).toBe(true);
  });
});
