import type { LinkStatRow, StatSums, TimelineGrain } from './campaign-stats.repository.js';

/**
 * A campaign's report from its aggregates (pure): totals, rates, links,
 * locales and a timeline. docs/TRACKING.md describes each field.
 */
export interface CampaignStatsReport {
  recipients: number;
  sent: number;
  failed: number;
  bounced: { hard: number; soft: number };
  complained: number;
  unsubscribed: number;
  opened: { unique: number; total: number; machine: number };
  clicked: { unique: number; total: number };
  rates: { open: number; click: number; clickToOpen: number; bounce: number; complaint: number; unsubscribe: number };
  links: LinkStatRow[];
  byLocale: { locale: string | null; sent: number; opened: number; clicked: number }[];
  timeline: { at: string; sent: number; opened: number; clicked: number }[];
}

/** A fraction rounded to 4 decimals; 0 when there is nothing to divide by. */
export const rate = (part: number, whole: number): number => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0);

/**
 * The timeline's step, from the span between the first and last minute
 * with counts: up to 2 hours by the minute, up to 12 hours by 5 minutes,
 * up to 2 days by 15 minutes, up to 31 days by the hour, beyond by the day.
 * The database sums by minute, hour or day; 5 and 15 minutes are folded here
 * (at most 2 days of minutes, 2,880 rows).
 */
export function timelineStep(first: string, last: string): { minutes: number; grain: TimelineGrain } {
  const spanMinutes = (minuteOf(last) - minuteOf(first)) / 60_000;
  if (spanMinutes <= 120) return { minutes: 1, grain: 'minute' };
  if (spanMinutes <= 12 * 60) return { minutes: 5, grain: 'minute' };
  if (spanMinutes <= 48 * 60) return { minutes: 15, grain: 'minute' };
  if (spanMinutes <= 31 * 24 * 60) return { minutes: 60, grain: 'hour' };
  return { minutes: 24 * 60, grain: 'day' };
}

/** Epoch ms of a bucket prefix (`YYYY-MM-DD`, `YYYY-MM-DDTHH`, `YYYY-MM-DDTHH:MM`), UTC. */
function minuteOf(bucket: string): number {
  const full = bucket.length === 10 ? `${bucket}T00:00` : bucket.length === 13 ? `${bucket}:00` : bucket;
  return Date.parse(`${full}:00.000Z`);
}

/** Rows summed by the database's grain, folded to `minutes` steps, every step from the first to the last present (zeros included). */
export function foldTimeline(
  rows: readonly (StatSums & { bucket: string })[],
  minutes: number,
): CampaignStatsReport['timeline'] {
  if (rows.length === 0) return [];
  const step = minutes * 60_000;
  const start = (ms: number) => Math.floor(ms / step) * step;
  const sums = new Map<number, { sent: number; opened: number; clicked: number }>();
  for (const row of rows) {
    const at = start(minuteOf(row.bucket));
    const entry = sums.get(at) ?? { sent: 0, opened: 0, clicked: 0 };
    entry.sent += row.sent;
    entry.opened += row.opened_unique;
    entry.clicked += row.clicked_unique;
    sums.set(at, entry);
  }
  const first = Math.min(...sums.keys());
  const last = Math.max(...sums.keys());
  const points: CampaignStatsReport['timeline'] = [];
  for (let at = first; at <= last; at += step) points.push({ at: new Date(at).toISOString(), ...(sums.get(at) ?? { sent: 0, opened: 0, clicked: 0 }) });
  return points;
}

export function buildReport(input: {
  recipients: number;
  totals: StatSums;
  links: LinkStatRow[];
  byLocale: (StatSums & { locale: string })[];
  timeline: CampaignStatsReport['timeline'];
}): CampaignStatsReport {
  const t = input.totals;
  return {
    recipients: input.recipients,
    sent: t.sent,
    failed: t.failed,
    bounced: { hard: t.bounced_hard, soft: t.bounced_soft },
    complained: t.complained,
    unsubscribed: t.unsubscribed,
    opened: { unique: t.opened_unique, total: t.opened_total, machine: t.opened_machine },
    clicked: { unique: t.clicked_unique, total: t.clicked_total },
    rates: {
      open: rate(t.opened_unique, t.sent),
      click: rate(t.clicked_unique, t.sent),
      clickToOpen: rate(t.clicked_unique, t.opened_unique),
      // An SMTP-time bounce was never sent, a late one (DSN) was: the denominator is every message a receiving server answered, once.
      bounce: rate(t.bounced_hard + t.bounced_soft, t.sent + t.bounced_hard + t.bounced_soft - t.bounced_late),
      complaint: rate(t.complained, t.sent),
      unsubscribe: rate(t.unsubscribed, t.sent),
    },
    links: input.links,
    byLocale: input.byLocale.map((row) => ({ locale: row.locale === '' ? null : row.locale, sent: row.sent, opened: row.opened_unique, clicked: row.clicked_unique })),
    timeline: input.timeline,
  };
}
