/**
 * The circuit breaker's rules (pure): a SENDING campaign whose receivers
 * refuse too many of its addresses, or complain about too many of its
 * emails, is paused before it damages the sender's reputation further.
 * Gmail's and Yahoo's bulk-sender line for complaints is 0.3 %; a hard-bounce
 * rate above a few percent means a stale or bought list.
 */
import type { BreakerSettings } from '../config.js';

export type { BreakerSettings };

/** What the breaker reads: the campaign's aggregates (campaign_stats). */
export interface BreakerCounts {
  sent: number;
  bouncedHard: number;
  bouncedSoft: number;
  complained: number;
}

/** The counts since `baseline` (the counts when the campaign was last resumed; zeros when never). */
export function countsSince(now: BreakerCounts, baseline: BreakerCounts | undefined): BreakerCounts {
  if (!baseline) return now;
  return {
    sent: now.sent - baseline.sent,
    bouncedHard: now.bouncedHard - baseline.bouncedHard,
    bouncedSoft: now.bouncedSoft - baseline.bouncedSoft,
    complained: now.complained - baseline.complained,
  };
}

/** A stored baseline (campaigns.breaker_baseline), or undefined when there is none or it cannot be read. */
export function parseBaseline(raw: string | null): BreakerCounts | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<BreakerCounts>;
    const n = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
    return { sent: n(value.sent), bouncedHard: n(value.bouncedHard), bouncedSoft: n(value.bouncedSoft), complained: n(value.complained) };
  } catch {
    return undefined;
  }
}

/** The reason to pause the campaign (its `pausedReason`), or undefined to let it send. */
export function breakerVerdict(counts: BreakerCounts, settings: BreakerSettings): string | undefined {
  const attempted = counts.sent + counts.bouncedHard + counts.bouncedSoft;
  if (attempted < settings.minSent || attempted === 0) return undefined;
  const bounceRate = counts.bouncedHard / attempted;
  if (bounceRate > settings.bounceRate) {
    return `circuit breaker: hard-bounce rate ${percent(bounceRate)} above ${percent(settings.bounceRate)} (${counts.bouncedHard} of ${attempted})`;
  }
  const complaintRate = counts.complained / attempted;
  if (complaintRate > settings.complaintRate) {
    return `circuit breaker: complaint rate ${percent(complaintRate)} above ${percent(settings.complaintRate)} (${counts.complained} of ${attempted})`;
  }
  return undefined;
}

function percent(rate: number): string {
  return `${Number((rate * 100).toFixed(2))} %`;
}
