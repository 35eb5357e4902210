import type { NewEvent } from '../events/event-types.js';

/** The counters of one campaign_stats bucket. */
export const STAT_COUNTERS = [
  'sent', 'failed', 'bounced_hard', 'bounced_soft', 'complained', 'unsubscribed',
  'opened_unique', 'opened_total', 'opened_machine', 'clicked_unique', 'clicked_total',
  'bounced_late',
] as const;
export type StatCounter = (typeof STAT_COUNTERS)[number];

/** Counts to add to one campaign's bucket (UTC minute × message locale). */
export interface StatIncrement {
  tenantId: string;
  campaignId: string;
  /** `YYYY-MM-DDTHH:MM` (UTC). */
  bucket: string;
  /** '' when the message had none. */
  locale: string;
  counts: Partial<Record<StatCounter, number>>;
}

export const bucketOf = (at: string): string => at.slice(0, 16);

/**
 * The counters an event moves (pure): the outcome and feedback events of a
 * campaign's messages. Opens and clicks are counted by tracking itself
 * (tracking/), since totals and machine opens are not events.
 */
export function incrementOfEvent(event: NewEvent): StatIncrement | undefined {
  if (!event.campaignId) return undefined;
  const counter = counterOf(event);
  if (!counter) return undefined;
  const locale = typeof event.data.locale === 'string' ? event.data.locale : '';
  // A bounce reported later (a DSN) is of a message already counted as sent: the bounce rate must not count it twice.
  const late = event.type === 'email.bounced' && event.data.late === true ? { bounced_late: 1 } : {};
  return { tenantId: event.tenantId, campaignId: event.campaignId, bucket: bucketOf(event.at), locale, counts: { [counter]: 1, ...late } };
}

function counterOf(event: NewEvent): StatCounter | undefined {
  switch (event.type) {
    case 'email.sent':
      return 'sent';
    case 'email.failed':
      return 'failed';
    case 'email.bounced':
      return event.data.bounceType === 'soft' ? 'bounced_soft' : 'bounced_hard';
    case 'email.complained':
      return 'complained';
    case 'contact.unsubscribed':
      return 'unsubscribed';
    default:
      return undefined;
  }
}

/**
 * Increments with the same key added together and sorted by key: one row
 * per key in an upsert (PostgreSQL refuses a row twice in one statement),
 * and every writer locks bucket rows in the same order (no deadlock).
 */
export function mergeIncrements(increments: readonly StatIncrement[]): StatIncrement[] {
  const merged = new Map<string, StatIncrement>();
  for (const inc of increments) {
    const key = `${inc.campaignId}\u0000${inc.bucket}\u0000${inc.locale}`;
    const entry = merged.get(key) ?? { ...inc, counts: {} };
    for (const [name, n] of Object.entries(inc.counts) as [StatCounter, number][]) entry.counts[name] = (entry.counts[name] ?? 0) + n;
    merged.set(key, entry);
  }
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, inc]) => inc);
}
