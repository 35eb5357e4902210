import { describe, expect, it } from 'vitest';
import type { Hit } from '../../src/tracking/tally.js';
import { TrackingTokens } from '../../src/tracking/token.js';
import type { TrackingRecorder } from '../../src/tracking/tracking-recorder.js';
import { TrackingService, USER_AGENT_CHARS } from '../../src/tracking/tracking.service.js';
import { isProxyUserAgent } from '../../src/tracking/machine-open.js';

const T = '0197a1c2-6b1e-7c3d-9a4f-2b8e5d7c9a10';
const C = '0197a1c2-6b1e-7c3d-9a4f-2b8e5d7c9a11';

describe('tracking service', () => {
  const tokens = new TrackingTokens('tracking-service-test-secret-0123456789');
  const hits: Hit[] = [];
  const service = new TrackingService({ tokens, recorder: { record: (hit: Hit) => void hits.push(hit) } as unknown as TrackingRecorder, clock: () => new Date() });

  it('keeps only the first characters of a hostile User-Agent before anything else reads it', () => {
    const huge = 'Cisco '.repeat(3000);
    service.open(tokens.seal({ kind: 'open', tenantId: T, campaignId: C, messageId: 1 }), huge);
    expect(service.click(tokens.seal({ kind: 'click', tenantId: T, campaignId: C, messageId: 1, url: 'https://a.test/' }), huge)).toBe('https://a.test/');
    expect(hits.map((h) => h.userAgent?.length)).toEqual([USER_AGENT_CHARS, USER_AGENT_CHARS]);
    // The gateway rule matches on one word: no pattern that backtracks over the header.
    expect(isProxyUserAgent(huge)).toBe(false);
    expect(isProxyUserAgent('Mozilla/5.0 (compatible; Cisco IronPort)')).toBe(true);
  });
});
