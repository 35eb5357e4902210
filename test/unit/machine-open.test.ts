import { describe, expect, it } from 'vitest';
import { isMachineOpen, isProxyUserAgent } from '../../src/tracking/machine-open.js';

const sentAt = '2026-11-30T10:00:00.000Z';
const person = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';

describe('machine opens', () => {
  it.each([
    ['Apple Mail Privacy Protection', 'Mozilla/5.0'],
    ['Gmail image proxy', 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)'],
    ['Yahoo Mail proxy', 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html'],
    ['Outlook / Microsoft prefetch', 'Mozilla/4.0 (compatible; ms-office; MSOffice 16)'],
    ['Microsoft Safe Links', 'OutlookSafeLinks/1.0'],
    ['Bing preview', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b'],
    ['a security gateway', 'Mozilla/5.0 (compatible; Barracuda Sentinel)'],
    ['a headless browser', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36'],
    ['a script', 'python-requests/2.31.0'],
    ['no user agent', undefined],
    ['an empty user agent', '  '],
  ])('flags %s by its user agent', (_name, agent) => {
    expect(isProxyUserAgent(agent)).toBe(true);
    expect(isMachineOpen({ openedAt: '2026-12-01T00:00:00.000Z', sentAt, userAgent: agent }, { windowSeconds: 10 })).toBe(true);
  });

  it.each([
    ['Apple Mail itself', person],
    ['iPhone Mail', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148'],
    ['Thunderbird', 'Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.4.1'],
    ['Chrome (webmail)', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'],
  ])('takes %s for a person', (_name, agent) => {
    expect(isProxyUserAgent(agent)).toBe(false);
  });

  it('flags opens within the window after sending, and only those', () => {
    const at = (seconds: number) => new Date(Date.parse(sentAt) + seconds * 1000).toISOString();
    const rules = { windowSeconds: 10 };
    expect(isMachineOpen({ openedAt: at(0), sentAt, userAgent: person }, rules)).toBe(true);
    expect(isMachineOpen({ openedAt: at(9.999), sentAt, userAgent: person }, rules)).toBe(true);
    expect(isMachineOpen({ openedAt: at(10), sentAt, userAgent: person }, rules)).toBe(false);
    expect(isMachineOpen({ openedAt: at(3600), sentAt, userAgent: person }, rules)).toBe(false);
    // Window off, or the sending time unknown: only the user agent decides.
    expect(isMachineOpen({ openedAt: at(1), sentAt, userAgent: person }, { windowSeconds: 0 })).toBe(false);
    expect(isMachineOpen({ openedAt: at(1), sentAt: null, userAgent: person }, rules)).toBe(false);
  });
});
