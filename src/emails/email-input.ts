import { createHash } from 'node:crypto';
import { AppError, validationError, type ErrorDetail } from '../shared/errors.js';
import { normaliseEmail } from '../shared/email.js';
import type { SendEmailBody } from './email.schemas.js';

/**
 * The rules of a transactional email's fields beyond its schema (pure): what
 * `POST /emails/send` and each item of `POST /emails/batch` must satisfy
 * before anything is looked up. Bad fields → 400 VALIDATION_ERROR naming
 * each; a scheduled time out of range → 422 INVALID_SCHEDULE.
 */
export const LIMITS = {
  subjectChars: 998,
  bodyBytes: 512 * 1024,
  tags: 10,
  metadataBytes: 8 * 1024,
  variablesBytes: 64 * 1024,
  scheduleDays: 30,
} as const;

const TAG = /^[A-Za-z0-9_.:-]{1,64}$/;
const CONTROL = /[\x00-\x1f\x7f]/;
const LOCALE = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/;
const LANG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$/;
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** A request's fields, checked and normalised. */
export interface EmailInput {
  to: string;
  subject: string | null;
  htmlBody: string | null;
  textBody: string | null;
  fromEmail: string | null;
  fromName: string | null;
  replyTo: string | null;
  tags: string[];
  metadata: Record<string, unknown> | null;
  templateVersionId: string | null;
  variables: Record<string, unknown>;
  locale: string | null;
  projectId: string | null;
  unsubscribeLang: string | null;
  /** ISO 8601 UTC, when scheduled. */
  scheduledAt: string | null;
  trackOpens: boolean;
  trackClicks: boolean;
  bypassUnsubscribe: boolean;
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

export function checkEmailInput(body: SendEmailBody, now: Date): EmailInput {
  const details: ErrorDetail[] = [];
  const bad = (field: string, message: string) => details.push({ field, message });

  const to = normaliseEmail(body.to);
  if (!to) bad('to', 'must be a valid email address');

  const template = body.templateVersionId ?? null;
  if (body.subject !== undefined) {
    if (body.subject.length > LIMITS.subjectChars) bad('subject', `must be at most ${LIMITS.subjectChars} characters`);
    if (/[\r\n]/.test(body.subject)) bad('subject', 'must not contain line breaks');
    if (body.subject.trim() === '') bad('subject', 'must not be empty');
  } else if (!template) {
    bad('subject', 'is required unless templateVersionId is given');
  }
  if (template) {
    if (body.htmlBody !== undefined) bad('htmlBody', 'cannot be given with templateVersionId (the template supplies the content)');
    if (body.textBody !== undefined) bad('textBody', 'cannot be given with templateVersionId (the template supplies the content)');
  } else if (body.htmlBody === undefined) {
    bad('htmlBody', 'is required unless templateVersionId is given');
  }
  if (body.htmlBody !== undefined && bytes(body.htmlBody) > LIMITS.bodyBytes) bad('htmlBody', 'must be at most 512 KiB');
  if (body.textBody !== undefined && bytes(body.textBody) > LIMITS.bodyBytes) bad('textBody', 'must be at most 512 KiB');

  let fromEmail: string | null = null;
  if (body.fromEmail !== undefined) {
    fromEmail = normaliseEmail(body.fromEmail) ?? null;
    if (!fromEmail) bad('fromEmail', 'must be a valid email address');
  }
  if (body.fromName !== undefined && CONTROL.test(body.fromName)) bad('fromName', 'must not contain control characters (line breaks included)');
  let replyTo: string | null = null;
  if (body.replyTo !== undefined) {
    replyTo = normaliseEmail(body.replyTo) ?? null;
    if (!replyTo) bad('replyTo', 'must be a valid email address');
  }

  const tags = [...new Set(body.tags ?? [])];
  if (tags.length > LIMITS.tags) bad('tags', `at most ${LIMITS.tags} tags`);
  tags.forEach((tag, i) => {
    if (!TAG.test(tag)) bad(`tags.${i}`, 'must be 1–64 characters of A-Z a-z 0-9 _ . : -');
  });

  let metadata: Record<string, unknown> | null = null;
  if (body.metadata !== undefined) {
    if (!isPlainObject(body.metadata)) bad('metadata', 'must be a JSON object');
    else if (bytes(JSON.stringify(body.metadata)) > LIMITS.metadataBytes) bad('metadata', 'must be at most 8 KiB serialised');
    else metadata = body.metadata;
  }
  const variables = body.variables ?? {};
  if (!isPlainObject(variables)) bad('variables', 'must be a JSON object');
  else if (bytes(JSON.stringify(variables)) > LIMITS.variablesBytes) bad('variables', 'must be at most 64 KiB serialised');

  if (body.locale !== undefined && !LOCALE.test(body.locale)) bad('locale', 'must be a locale such as en or es-MX');
  if (body.unsubscribeLang !== undefined && !LANG.test(body.unsubscribeLang)) bad('unsubscribeLang', 'must be a language such as en or pt-BR');
  if (body.idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(body.idempotencyKey)) {
    bad('idempotencyKey', 'must be 1 to 255 visible ASCII characters');
  }

  let scheduledAt: string | null = null;
  if (body.scheduledAt !== undefined) {
    const at = ISO_WITH_OFFSET.test(body.scheduledAt) ? new Date(body.scheduledAt) : undefined;
    if (!at || Number.isNaN(at.getTime())) bad('scheduledAt', 'must be an ISO 8601 date-time with an offset (e.g. 2026-06-01T09:00:00Z)');
    else scheduledAt = at.toISOString();
  }
  if (details.length > 0) throw validationError('Invalid email', details);

  if (scheduledAt !== null) {
    const at = Date.parse(scheduledAt);
    if (at <= now.getTime()) {
      throw new AppError(422, 'INVALID_SCHEDULE', 'scheduledAt must be in the future', [{ field: 'scheduledAt', message: 'must be in the future' }]);
    }
    if (at > now.getTime() + LIMITS.scheduleDays * 86_400_000) {
      throw new AppError(422, 'INVALID_SCHEDULE', `scheduledAt must be at most ${LIMITS.scheduleDays} days ahead`, [
        { field: 'scheduledAt', message: `must be at most ${LIMITS.scheduleDays} days ahead` },
      ]);
    }
  }

  return {
    to: to!,
    subject: body.subject ?? null,
    htmlBody: body.htmlBody ?? null,
    textBody: body.textBody ?? null,
    fromEmail,
    fromName: body.fromName?.trim() || null,
    replyTo,
    tags,
    metadata,
    templateVersionId: template,
    variables: variables as Record<string, unknown>,
    locale: body.locale ?? null,
    projectId: body.projectId ?? null,
    unsubscribeLang: body.unsubscribeLang ?? null,
    scheduledAt,
    trackOpens: body.tracking?.opens === true,
    trackClicks: body.tracking?.clicks === true,
    bypassUnsubscribe: body.bypassUnsubscribe === true,
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The idempotency key of a send: the body's field or the header; both and different → 400. */
export function idempotencyKeyOf(bodyKey: string | undefined, header: string | string[] | undefined): string | undefined {
  const headerKey = Array.isArray(header) ? header[0] : header;
  if (headerKey !== undefined && !IDEMPOTENCY_KEY.test(headerKey)) {
    throw validationError('Idempotency-Key must be 1 to 255 visible ASCII characters', [
      { field: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' },
    ]);
  }
  if (bodyKey !== undefined && headerKey !== undefined && bodyKey !== headerKey) {
    throw validationError('The idempotencyKey field and the Idempotency-Key header differ', [
      { field: 'idempotencyKey', message: 'differs from the Idempotency-Key header' },
    ]);
  }
  return bodyKey ?? headerKey;
}

/** What makes two sends "the same request": the body without its key (keys sorted), and the key's mode. */
export function requestFingerprint(body: SendEmailBody, mode: string): string {
  const { idempotencyKey: _key, ...rest } = body;
  return createHash('sha256').update(`${mode}\n${stableJson(rest)}`).digest('hex');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}


