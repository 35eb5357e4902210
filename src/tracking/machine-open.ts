/**
 * Machine opens (pure): an open pixel fetched by software rather than shown
 * to a person. Such opens are counted (opened_total, opened_machine) but
 * never as unique human opens, and send no `email.opened`.
 *
 * Two signs, either is enough:
 * - time: the pixel was fetched within `windowSeconds` of the message's
 *   `sent_at` — prefetching proxies and security gateways fetch images as
 *   the message arrives, before any person could have opened it;
 * - user agent: a known mail-proxy or prefetcher (docs/TRACKING.md lists
 *   them with their sources).
 */
export interface MachineOpenRules {
  /** Opens this soon after sending are machine opens; 0 turns the time rule off. */
  windowSeconds: number;
}

/**
 * User agents of image proxies and prefetchers, matched case-insensitively
 * anywhere in the header. Apple Mail Privacy Protection fetches through
 * Apple's proxy with a bare `Mozilla/5.0` user agent and no browser token,
 * matched exactly below.
 */
const PROXY_AGENTS: readonly RegExp[] = [
  /GoogleImageProxy/i, // Gmail: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
  /ggpht\.com/i,
  /YahooMailProxy/i, // Yahoo Mail and AOL: "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
  /Yahoo! Slurp/i,
  /OutlookSafeLinks|Microsoft Office Protocol Discovery|ms-office; MSOffice 16/i, // Microsoft 365 / Outlook prefetch
  /Microsoft-Exchange|MSFT-Exchange|Exchange Online/i,
  /BingPreview/i,
  /Barracuda|Mimecast|Proofpoint|MessageLabs|Symantec|SophosEmail|Trend ?Micro|FireEye|Forcepoint|IronPort|Zscaler/i, // gateways and link scanners
  /\b(?:bot|crawler|spider|scanner|prefetch)\b|HeadlessChrome/i,
  /python-requests|curl\/|wget\/|Go-http-client|okhttp|Java\/|libwww-perl|node-fetch|axios\//i,
];

/** Apple Mail Privacy Protection's proxy: exactly this, nothing after it. */
const APPLE_MPP = /^Mozilla\/5\.0$/;

export function isProxyUserAgent(userAgent: string | undefined): boolean {
  const agent = userAgent?.trim() ?? '';
  if (agent === '') return true; // a mail client showing an image sends one; software often does not
  if (APPLE_MPP.test(agent)) return true;
  return PROXY_AGENTS.some((pattern) => pattern.test(agent));
}

/** Whether an open at `openedAt` of a message sent at `sentAt` (null: unknown) is a machine open. */
export function isMachineOpen(
  input: { openedAt: string; sentAt: string | null; userAgent: string | undefined },
  rules: MachineOpenRules,
): boolean {
  if (isProxyUserAgent(input.userAgent)) return true;
  if (rules.windowSeconds <= 0 || !input.sentAt) return false;
  const elapsed = Date.parse(input.openedAt) - Date.parse(input.sentAt);
  return Number.isFinite(elapsed) && elapsed < rules.windowSeconds * 1000;
}
