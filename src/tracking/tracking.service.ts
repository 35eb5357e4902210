import type { Clock } from '../shared/time.js';
import type { TrackingTokens } from './token.js';
import type { TrackingRecorder } from './tracking-recorder.js';

/**
 * The two public tracking answers: an open is recorded if its token opens
 * (the pixel is served either way); a click is recorded and its destination
 * returned only for a genuine click token — the URL comes from inside the
 * sealed token, never from the request, so nothing else can be redirected
 * to. Counting is the recorder's business, after the answer.
 */
/** What of a User-Agent header is kept: enough for every known proxy's mark, and a hostile 16 KB header costs nothing later. */
export const USER_AGENT_CHARS = 256;

const agent = (userAgent: string | undefined) => (userAgent ? { userAgent: userAgent.slice(0, USER_AGENT_CHARS) } : {});

export class TrackingService {
  constructor(private readonly deps: { tokens: TrackingTokens; recorder: TrackingRecorder; clock: Clock }) {}

  /** `count` false: answer as for a genuine token, record nothing (HEAD requests). */
  open(token: string, userAgent: string | undefined, count = true): void {
    const claims = this.deps.tokens.open(token, 'open');
    if (!claims || !count) return;
    this.deps.recorder.record({ ...claims, kind: 'open', at: this.deps.clock().toISOString(), ...agent(userAgent) });
  }

  /** The destination of a genuine click token (recorded), or undefined. */
  click(token: string, userAgent: string | undefined, count = true): string | undefined {
    const claims = this.deps.tokens.open(token, 'click');
    // Sealed by us after the rewriter checked it; checked again so a leaked key still cannot send anyone to javascript:.
    if (!claims?.url || !/^https?:\/\//i.test(claims.url)) return undefined;
    if (count) this.deps.recorder.record({ ...claims, kind: 'click', at: this.deps.clock().toISOString(), ...agent(userAgent) });
    return claims.url;
  }
}
