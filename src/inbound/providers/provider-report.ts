import { classifyRefusal } from '../../delivery/bounce-classification.js';
import type { ReportEffect } from '../inbound-report.service.js';

export const BOUNCE_PROVIDERS = ['postmark', 'mailgun'] as const;
export type BounceProviderName = (typeof BOUNCE_PROVIDERS)[number];

/**
 * One bounce or complaint as a provider's webhook reports it, in our terms
 * (adapters parse it, pure). `kind` is the provider's own verdict; a status
 * code, when the provider gives one, is classified like a DSN's.
 */
export interface ProviderReport {
  kind: 'hard' | 'soft' | 'delayed' | 'complaint';
  /** The address the provider says bounced or complained. */
  email: string;
  /** The SMTP answer the provider quotes, if any. */
  status?: { basic?: number; enhanced?: string };
  diagnostic?: string;
  /** Our Message-ID as the provider saw it (Mailgun keeps it; Postmark does not). */
  messageId?: string;
  /** Our signed message token, from the metadata the builder adds (X-PM-Metadata-mc-token, X-Mailgun-Variables). */
  token?: string;
}

/** What a webhook body is: a report, an event that is no report of an address (deliveries, opens, …), or not the provider's shape. */
export type ParsedProviderEvent =
  | { kind: 'report'; report: ProviderReport }
  /** A bounce-like record we do not act on (a provider's `Blocked`, an auto-responder…): kept, counted. */
  | { kind: 'unsupported'; email: string | null; reason: string; token?: string; messageId?: string }
  | { kind: 'ignored'; reason: string }
  | { kind: 'invalid'; reason: string };

/** A webhook request as the adapter sees it. */
export interface ProviderRequest {
  authorization: string | undefined;
  body: unknown;
}

/** An integration's credentials, opened (never logged, never returned). */
export interface ProviderSecrets {
  /** Postmark: the basic-auth user and the SHA-256 of its password. */
  username?: string;
  passwordHash?: string;
  /** Mailgun: the webhook signing key. */
  signingKey?: string;
}

export type ProviderAuth =
  | { ok: true; /** A value the provider must never send twice (Mailgun's token). */ replayToken?: string }
  | { ok: false; reason: string };

/**
 * One provider's webhooks: how a request proves it is the provider's, and
 * what its body reports. Pure, so each is unit-tested with the provider's
 * documented payloads; an SES adapter (SNS-signed messages) joins by
 * implementing the same two functions.
 */
export interface BounceProviderAdapter {
  name: BounceProviderName;
  authenticate(request: ProviderRequest, secrets: ProviderSecrets, now: Date): ProviderAuth;
  parse(body: unknown): ParsedProviderEvent;
}

/**
 * What a provider's report asks of its message's address (pure): the same
 * classification as a DSN. A quoted status decides hard or soft (stage
 * `dsn`), anything it classifies otherwise (policy blocks, content,
 * protocol) is no bounce of the address; without one, the provider's own
 * verdict does. A delay is never final.
 */
export function providerEffectOf(report: ProviderReport): ReportEffect {
  const diagnostic = report.diagnostic ?? null;
  if (report.kind === 'complaint') return { kind: 'complaint', action: 'complaint', diagnostic: null };
  if (report.kind === 'delayed') return { kind: 'delayed', action: 'soft', diagnostic };
  const { basic, enhanced } = report.status ?? {};
  const smtpBasic = basic !== undefined && basic >= 400 && basic < 600 ? basic : undefined;
  if (smtpBasic === undefined && enhanced === undefined) return { kind: 'bounce', action: report.kind, diagnostic };
  const classification = classifyRefusal({
    stage: 'dsn',
    ...(smtpBasic !== undefined ? { basic: smtpBasic } : {}),
    ...(enhanced !== undefined ? { enhanced } : {}),
  });
  if (classification.class === 'hard') return { kind: 'bounce', action: 'hard', diagnostic };
  if (classification.class === 'soft') return { kind: 'bounce', action: 'soft', diagnostic };
  const code = [smtpBasic, enhanced].filter((c) => c !== undefined).join(' ');
  return { kind: null, reason: `${report.kind} bounce ${code} classified ${classification.class}: not a bounce of the address` };
}

/** A string field of a parsed JSON object, or undefined. */
export const stringAt = (value: unknown, key: string): string | undefined => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : undefined;
};

export const objectAt = (value: unknown, key: string): Record<string, unknown> | undefined => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'object' && field !== null && !Array.isArray(field) ? (field as Record<string, unknown>) : undefined;
};

const EMAIL = /^[^\s@<>]{1,256}@[^\s@<>]{1,255}$/;

/** The address a provider names, trimmed; undefined when it is no address. */
export function addressOf(value: string | undefined): string | undefined {
  const email = value?.trim();
  return email && email.length <= 320 && EMAIL.test(email) ? email : undefined;
}

/** A provider's text, bounded and without control characters (it goes into events). */
export function textOf(value: string | undefined, max = 1000): string | undefined {
  const text = value?.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return text ? [...text].slice(0, max).join('') : undefined;
}
