import { describe, expect, it } from 'vitest';
import { checkEmailInput, idempotencyKeyOf, requestFingerprint } from '../../src/emails/email-input.js';
import { inert } from '../../src/templates/render.js';
import { AppError } from '../../src/shared/errors.js';

const now = new Date('2026-06-01T10:00:00.000Z');
const ok = { to: 'Ana@Example.COM', subject: 'Hi', htmlBody: '<p>x</p>' };

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return { status: error.statusCode, code: error.code, fields: error.details?.map((d) => d.field) ?? [] };
    throw error;
  }
  throw new Error('not refused');
};

describe('transactional email input rules (pure)', () => {
  it('normalises the addresses and applies the defaults', () => {
    const input = checkEmailInput({ ...ok, replyTo: ' Help@Example.com ', tags: ['a', 'a', 'b'] }, now);
    expect(input).toMatchObject({
      to: 'Ana@example.com',
      replyTo: 'Help@example.com',
      tags: ['a', 'b'],
      trackOpens: false,
      trackClicks: false,
      bypassUnsubscribe: false,
      scheduledAt: null,
      metadata: null,
    });
  });

  it('refuses each bad field, naming it', () => {
    expect(refusal(() => checkEmailInput({ ...ok, subject: 'a\r\nBcc: x@y.z' }, now))).toMatchObject({ status: 400, fields: ['subject'] });
    expect(refusal(() => checkEmailInput({ to: 'a@b.co' }, now))).toMatchObject({ status: 400, fields: ['subject', 'htmlBody'] });
    expect(refusal(() => checkEmailInput({ ...ok, templateVersionId: 'x' }, now))).toMatchObject({ fields: ['htmlBody'] });
    expect(refusal(() => checkEmailInput({ ...ok, fromName: 'a\nb' }, now))).toMatchObject({ fields: ['fromName'] });
    expect(refusal(() => checkEmailInput({ ...ok, tags: ['ok', 'no space'] }, now))).toMatchObject({ fields: ['tags.1'] });
    expect(refusal(() => checkEmailInput({ ...ok, metadata: { k: 'x'.repeat(8200) } }, now))).toMatchObject({ fields: ['metadata'] });
    expect(refusal(() => checkEmailInput({ ...ok, htmlBody: 'é'.repeat(262_145) }, now))).toMatchObject({ fields: ['htmlBody'] });
  });

  it('scheduledAt: ISO 8601 with an offset (400), in the future and at most 30 days ahead (422)', () => {
    expect(checkEmailInput({ ...ok, scheduledAt: '2026-06-01T12:00:01+02:00' }, now).scheduledAt).toBe('2026-06-01T10:00:01.000Z');
    expect(refusal(() => checkEmailInput({ ...ok, scheduledAt: '2026-06-01T12:00:00+02:00' }, now))).toMatchObject({
      status: 422,
      code: 'INVALID_SCHEDULE',
    });
    expect(checkEmailInput({ ...ok, scheduledAt: '2026-07-01T10:00:00Z' }, now).scheduledAt).toBe('2026-07-01T10:00:00.000Z');
    expect(refusal(() => checkEmailInput({ ...ok, scheduledAt: '2026-07-01T10:00:00.001Z' }, now))).toMatchObject({ status: 422 });
    expect(refusal(() => checkEmailInput({ ...ok, scheduledAt: '2026-06-02T10:00:00' }, now))).toMatchObject({ status: 400, fields: ['scheduledAt'] });
  });

  it('idempotency key: body or header, both must agree; the fingerprint ignores the key and the order of fields', () => {
    expect(idempotencyKeyOf('k', undefined)).toBe('k');
    expect(idempotencyKeyOf(undefined, 'k')).toBe('k');
    expect(idempotencyKeyOf('k', 'k')).toBe('k');
    expect(refusal(() => idempotencyKeyOf('k', 'other'))).toMatchObject({ status: 400 });
    expect(refusal(() => idempotencyKeyOf(undefined, 'bad key'))).toMatchObject({ status: 400 });
    const a = requestFingerprint({ to: 'a@b.co', subject: 'S', htmlBody: 'h', metadata: { x: 1, y: 2 }, idempotencyKey: 'k1' }, 'live');
    const b = requestFingerprint({ metadata: { y: 2, x: 1 }, htmlBody: 'h', subject: 'S', to: 'a@b.co' }, 'live');
    expect(a).toBe(b);
    expect(requestFingerprint({ to: 'a@b.co', subject: 'S2', htmlBody: 'h' }, 'live')).not.toBe(b);
    expect(requestFingerprint({ to: 'a@b.co', subject: 'S', htmlBody: 'h', metadata: { x: 1, y: 2 } }, 'test')).not.toBe(b);
  });

  it('inert: no Liquid tag or output can start in raw content', () => {
    expect(inert('a {{ b }} {% c %} {')).toBe('a {{ "{" }}{{ "{" }} b }} {{ "{" }}% c %} {{ "{" }}');
    expect(inert('no braces')).toBe('no braces');
  });
});
