import { domainOfAddress, organisationalDomain } from '../shared/domain-name.js';
import type { CoverageWarning } from './coverage.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';
export type CheckId = 'from_domain' | 'unsubscribe_link' | 'one_click_unsubscribe' | 'locale_coverage' | 'sender_project' | 'test_send';

export interface PreflightCheck {
  id: CheckId;
  status: CheckStatus;
  message: string;
}

export interface PreflightReport {
  checks: PreflightCheck[];
  /** No check failed (warnings do not stop a send). */
  ok: boolean;
}

/** What the checks are decided on, gathered by PreflightService. */
export interface PreflightFacts {
  fromEmail: string;
  /** Names of the tenant's VERIFIED sending domains. */
  verifiedDomains: readonly string[];
  /** The variants the campaign can send: the published ones of its version group (or its own version while none is). */
  variants: ReadonlyArray<{ id: string; locale: string | null; html: string }>;
  oneClickUnsubscribe: boolean;
  uncoveredLocales: readonly CoverageWarning[];
  /** Null: no project, the server's own transport sends. */
  project: { name: string; lastVerifyOk: boolean | null; firstDeliveredAt: string | null } | null;
  lastTestSendAt: string | null;
}

/** `{{ unsubscribeUrl }}` as LiquidJS reads it: whitespace control and filters allowed. */
const UNSUBSCRIBE_OUTPUT = /\{\{-?\s*unsubscribeUrl\s*(?:\|[^}]*)?-?\}\}/;

export const hasUnsubscribeLink = (html: string): boolean => UNSUBSCRIBE_OUTPUT.test(html);

/**
 * The verified domain that covers mail From this address: its own domain,
 * else its organisational domain (relaxed DMARC alignment), as the DKIM
 * signer picks it (delivery/dkim.ts).
 */
export function coveringDomain(fromEmail: string, verifiedDomains: readonly string[]): string | undefined {
  const domain = domainOfAddress(fromEmail);
  if (!domain) return undefined;
  if (verifiedDomains.includes(domain)) return domain;
  const organisational = organisationalDomain(domain);
  return organisational !== null && verifiedDomains.includes(organisational) ? organisational : undefined;
}

/**
 * The pre-send check (pure). Only a variant without an unsubscribe link
 * fails: everything else may be fine for a self-hoster (a relay that signs,
 * a locale that falls back on purpose), so it warns.
 */
export function preflightChecks(facts: PreflightFacts): PreflightReport {
  const checks = [
    fromDomainCheck(facts),
    unsubscribeCheck(facts),
    oneClickCheck(facts),
    coverageCheck(facts),
    projectCheck(facts),
    testSendCheck(facts),
  ];
  return { checks, ok: checks.every((check) => check.status !== 'fail') };
}

function fromDomainCheck({ fromEmail, verifiedDomains }: PreflightFacts): PreflightCheck {
  const domain = coveringDomain(fromEmail, verifiedDomains);
  if (domain) {
    return { id: 'from_domain', status: 'ok', message: `From ${fromEmail}: sending domain ${domain} is verified (SPF/DKIM/DMARC, aligned); mail is DKIM-signed` };
  }
  return {
    id: 'from_domain',
    status: 'warn',
    message: `From ${fromEmail}: no verified sending domain covers ${domainOfAddress(fromEmail) ?? 'this address'}; mail goes unsigned unless your relay signs it (POST /domains, then verify)`,
  };
}

function unsubscribeCheck({ variants }: PreflightFacts): PreflightCheck {
  if (variants.length === 0) return { id: 'unsubscribe_link', status: 'fail', message: 'The campaign has no template version to send' };
  const missing = variants.filter((v) => !hasUnsubscribeLink(v.html));
  if (missing.length === 0) {
    return { id: 'unsubscribe_link', status: 'ok', message: `Every variant (${variants.length}) has an unsubscribe link ({{ unsubscribeUrl }})` };
  }
  const names = missing.map((v) => `${v.id} (${v.locale ?? 'base'})`).join(', ');
  return { id: 'unsubscribe_link', status: 'fail', message: `No {{ unsubscribeUrl }} link in the HTML of variant(s): ${names}` };
}

function oneClickCheck({ oneClickUnsubscribe }: PreflightFacts): PreflightCheck {
  return oneClickUnsubscribe
    ? { id: 'one_click_unsubscribe', status: 'ok', message: 'List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 one-click) go on every email' }
    : { id: 'one_click_unsubscribe', status: 'fail', message: 'One-click unsubscribe (RFC 8058) is off' };
}

function coverageCheck({ uncoveredLocales }: PreflightFacts): PreflightCheck {
  if (uncoveredLocales.length === 0) return { id: 'locale_coverage', status: 'ok', message: 'Every locale of the audience has a variant of its own' };
  const list = uncoveredLocales.map((g) => `${g.locale} (${g.count})`).join(', ');
  return { id: 'locale_coverage', status: 'warn', message: `Locales without a variant of their own get the fallback or base version: ${list}` };
}

function projectCheck({ project }: PreflightFacts): PreflightCheck {
  if (!project) return { id: 'sender_project', status: 'ok', message: "No project: the server's own transport sends (SMTP_URL, or capture)" };
  if (project.firstDeliveredAt) return { id: 'sender_project', status: 'ok', message: `Project ${project.name} has delivered email since ${project.firstDeliveredAt}` };
  if (project.lastVerifyOk) return { id: 'sender_project', status: 'ok', message: `Project ${project.name}: its SMTP server passed verify` };
  return {
    id: 'sender_project',
    status: 'warn',
    message: `Project ${project.name} has ${project.lastVerifyOk === false ? 'failed its last verify' : 'never been verified'} and has delivered nothing yet (POST /projects/{id}/verify)`,
  };
}

function testSendCheck({ lastTestSendAt }: PreflightFacts): PreflightCheck {
  return lastTestSendAt
    ? { id: 'test_send', status: 'ok', message: `Last test send at ${lastTestSendAt}` }
    : { id: 'test_send', status: 'warn', message: 'No test send yet (POST /campaigns/{id}/test)' };
}
