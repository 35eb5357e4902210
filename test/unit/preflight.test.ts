import { describe, expect, it } from 'vitest';
import { coveringDomain, hasUnsubscribeLink, preflightChecks, type PreflightFacts } from '../../src/campaigns/preflight.js';

const facts = (overrides: Partial<PreflightFacts> = {}): PreflightFacts => ({
  fromEmail: 'news@mail.example.co.uk',
  verifiedDomains: ['example.co.uk'],
  variants: [{ id: 'v1', locale: 'en', html: '<a href="{{ unsubscribeUrl }}">Unsubscribe</a>' }],
  oneClickUnsubscribe: true,
  uncoveredLocales: [],
  project: null,
  lastTestSendAt: '2026-11-30T10:00:00.000Z',
  ...overrides,
});

const statuses = (f: PreflightFacts) => Object.fromEntries(preflightChecks(f).checks.map((c) => [c.id, c.status]));

describe('preflightChecks', () => {
  it('is all ok for a verified domain, linked variants, covered locales and a test send', () => {
    const report = preflightChecks(facts());
    expect(report.ok).toBe(true);
    expect(report.checks.every((c) => c.status === 'ok')).toBe(true);
    expect(report.checks.map((c) => c.id)).toEqual(['from_domain', 'unsubscribe_link', 'one_click_unsubscribe', 'locale_coverage', 'sender_project', 'test_send']);
  });

  it('fails when any published variant lacks {{ unsubscribeUrl }}, naming it', () => {
    const report = preflightChecks(
      facts({
        variants: [
          { id: 'v1', locale: 'en', html: '<a href="{{ unsubscribeUrl }}">x</a>' },
          { id: 'v2', locale: 'es', html: '<p>Hola</p>' },
        ],
      }),
    );
    expect(report.ok).toBe(false);
    const check = report.checks.find((c) => c.id === 'unsubscribe_link')!;
    expect(check.status).toBe('fail');
    expect(check.message).toContain('v2 (es)');
    expect(check.message).not.toContain('v1');
  });

  it('fails without any template version', () => {
    expect(preflightChecks(facts({ variants: [] })).ok).toBe(false);
  });

  it('only warns for an unverified From domain, an uncovered locale, an unproven project and no test send', () => {
    const report = preflightChecks(
      facts({
        verifiedDomains: [],
        uncoveredLocales: [{ code: 'LOCALE_NOT_COVERED', locale: 'fr', count: 3, message: '' }],
        project: { name: 'Relay', lastVerifyOk: null, firstDeliveredAt: null },
        lastTestSendAt: null,
      }),
    );
    expect(report.ok).toBe(true);
    expect(Object.fromEntries(report.checks.map((c) => [c.id, c.status]))).toMatchObject({
      from_domain: 'warn',
      locale_coverage: 'warn',
      sender_project: 'warn',
      test_send: 'warn',
    });
    expect(report.checks.find((c) => c.id === 'locale_coverage')!.message).toContain('fr (3)');
  });

  it('takes a project as proven by a passed verify or by a delivery, not by a failed verify', () => {
    const project = (lastVerifyOk: boolean | null, firstDeliveredAt: string | null) => statuses(facts({ project: { name: 'P', lastVerifyOk, firstDeliveredAt } })).sender_project;
    expect(project(true, null)).toBe('ok');
    expect(project(false, '2026-11-01T00:00:00.000Z')).toBe('ok');
    expect(project(false, null)).toBe('warn');
    expect(project(null, null)).toBe('warn');
  });

  it('fails if one-click unsubscribe were off', () => {
    expect(statuses(facts({ oneClickUnsubscribe: false })).one_click_unsubscribe).toBe('fail');
  });
});

describe('coveringDomain', () => {
  it('is the From domain itself, else its organisational domain (Public Suffix List), never a sibling', () => {
    expect(coveringDomain('a@example.co.uk', ['example.co.uk'])).toBe('example.co.uk');
    expect(coveringDomain('a@news.example.co.uk', ['example.co.uk'])).toBe('example.co.uk');
    expect(coveringDomain('a@news.example.co.uk', ['news.example.co.uk', 'example.co.uk'])).toBe('news.example.co.uk');
    expect(coveringDomain('a@example.co.uk', ['news.example.co.uk'])).toBeUndefined();
    expect(coveringDomain('a@other.example', ['example.co.uk'])).toBeUndefined();
  });
});

describe('hasUnsubscribeLink', () => {
  it('reads the Liquid output with whitespace control and filters', () => {
    expect(hasUnsubscribeLink('<a href="{{unsubscribeUrl}}">')).toBe(true);
    expect(hasUnsubscribeLink('<a href="{{- unsubscribeUrl | escape -}}">')).toBe(true);
    expect(hasUnsubscribeLink('<a href="{{ unsubscribe_url }}">')).toBe(false);
    expect(hasUnsubscribeLink('unsubscribeUrl')).toBe(false);
  });
});
