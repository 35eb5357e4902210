import { rewriteHtml } from './link-rewriter.js';
import { MAX_TRACKED_URL_BYTES, TrackingTokens } from './token.js';

/**
 * What tracking one message's HTML needs: built by the message builder on
 * the main thread, applied where the HTML is rendered — in the render
 * thread (templates/render-worker.ts), so sealing a token per link (a few
 * µs each, docs/TRACKING.md) never runs on the event loop. Plain data: it
 * crosses to the thread by structured clone.
 */
export interface TrackingSpec {
  /** The tracking key (token.ts `trackingKey`), 32 bytes. */
  key: Uint8Array;
  /** PUBLIC_URL without a trailing slash. */
  publicUrl: string;
  tenantId: string;
  campaignId: string;
  messageId: number;
  opens: boolean;
  clicks: boolean;
}

let cached: { hex: string; tokens: TrackingTokens } | undefined;

function tokensFor(key: Uint8Array): TrackingTokens {
  const hex = Buffer.from(key).toString('hex');
  if (cached?.hex !== hex) cached = { hex, tokens: new TrackingTokens(key) };
  return cached.tokens;
}

/** The message's HTML with its links rewritten and the open pixel added, as the spec asks. */
export function applyTracking(html: string, spec: TrackingSpec): string {
  if (!spec.opens && !spec.clicks) return html;
  const tokens = tokensFor(spec.key);
  const claims = { tenantId: spec.tenantId, campaignId: spec.campaignId, messageId: spec.messageId };
  const perUrl = new Map<string, string>();
  const base = new URL(`${spec.publicUrl}/`).href;
  return rewriteHtml(html, {
    ...(spec.clicks
      ? {
          clickUrl: (url: string) => {
            let tracked = perUrl.get(url);
            if (tracked === undefined) {
              tracked = `${spec.publicUrl}/track/c/${tokens.seal({ kind: 'click', ...claims, url })}`;
              perUrl.set(url, tracked);
            }
            return tracked;
          },
        }
      : {}),
    ...(spec.opens ? { openPixelUrl: `${spec.publicUrl}/track/o/${tokens.seal({ kind: 'open', ...claims })}` } : {}),
    // The unsubscribe link (and its confirmation page) and tracking's own links are never wrapped.
    skipPrefixes: [`${base}u/`, `${base}track/`],
    maxUrlBytes: MAX_TRACKED_URL_BYTES,
  }).html;
}
