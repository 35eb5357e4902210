import { describe, expect, it } from 'vitest';
import { admissibleHits, candidateFirsts, tally, urlHash, type Hit, type TrackedMessageRow } from '../../src/tracking/tally.js';
import { buildReport, foldTimeline, rate, timelineStep } from '../../src/stats/stats-report.js';
import { STAT_COUNTERS } from '../../src/stats/stat-increments.js';

const T = '0197a1c2-6b1e-7c3d-9a4f-2b8e5d7c9a10';
const C = '0197a1c2-6b1e-7c3d-9a4f-2b8e5d7c9a11';
const person = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';

const message = (id: number, extra: Partial<TrackedMessageRow> = {}): TrackedMessageRow => ({
  id,
  tenantId: T,
  campaignId: C,
  contactId: `c-${id}`,
  email: `m${id}@tally.test`,
  externalId: null,
  locale: 'es',
  templateVersionId: 'v',
  sentAt: '2026-11-30T10:00:00.000Z',
  ...extra,
});
const hit = (kind: Hit['kind'], messageId: number, at: string, extra: Partial<Hit> = {}): Hit => ({
  kind,
  tenantId: T,
  campaignId: C,
  messageId,
  at: `2026-11-30T${at}.000Z`,
  userAgent: person,
  ...(kind === 'click' ? { url: 'https://a.test/' } : {}),
  ...extra,
});

describe('tracking tally', () => {
  it('drops hits of messages that are gone or belong to another tenant or campaign', () => {
    const messages = new Map([[1, message(1)], [2, message(2, { tenantId: 'other' })], [3, message(3, { campaignId: 'other' })]]);
    const admitted = admissibleHits([hit('open', 1, '11:00:00'), hit('open', 2, '11:00:00'), hit('open', 3, '11:00:00'), hit('open', 4, '11:00:00')], messages, { windowSeconds: 10 });
    expect(admitted.map((a) => a.hit.messageId)).toEqual([1]);
  });

  it('gives each first to the earliest hit, counts repeats and machine opens apart, one event per first', () => {
    const messages = new Map([[1, message(1)], [2, message(2, { contactId: null, email: null })]]);
    const hits = [
      hit('open', 1, '11:00:05'),
      hit('open', 1, '10:00:03'), // within 10 s of sending: machine
      hit('open', 1, '11:00:01', { userAgent: 'Mozilla/5.0' }), // Apple MPP: machine
      hit('open', 1, '11:00:02'), // the first human open
      hit('click', 1, '11:01:00', { url: 'https://a.test/' }),
      hit('click', 1, '11:01:30', { url: 'https://b.test/' }),
      hit('click', 1, '11:02:00', { url: 'https://a.test/' }),
      hit('click', 2, '11:03:00', { url: 'https://a.test/' }), // erased contact: counted, no event
    ];
    const admitted = admissibleHits(hits, messages, { windowSeconds: 10 });
    const candidates = candidateFirsts(admitted);
    expect(candidates.map((c) => [c.message_id, c.kind, c.key, c.created_at])).toEqual([
      [1, 'click', '', '2026-11-30T11:01:00.000Z'],
      [1, 'link', urlHash('https://a.test/'), '2026-11-30T11:01:00.000Z'],
      [1, 'link', urlHash('https://b.test/'), '2026-11-30T11:01:30.000Z'],
      [1, 'open', '', '2026-11-30T11:00:02.000Z'],
      [2, 'click', '', '2026-11-30T11:03:00.000Z'],
      [2, 'link', urlHash('https://a.test/'), '2026-11-30T11:03:00.000Z'],
    ].sort((a, b) => (`${a[0]}\u0000${a[1]}\u0000${a[2]}` < `${b[0]}\u0000${b[1]}\u0000${b[2]}` ? -1 : 1)));

    // The database already had message 1's first click on a.test (an earlier batch): not a first now.
    const inserted = candidates.filter((c) => !(c.message_id === 1 && c.kind === 'link' && c.key === urlHash('https://a.test/')));
    const result = tally(admitted, inserted);
    expect(result.events.map((e) => [e.type, e.messageId, e.at, e.data.url])).toEqual([
      ['email.opened', 1, '2026-11-30T11:00:02.000Z', undefined],
      ['email.clicked', 1, '2026-11-30T11:01:30.000Z', 'https://b.test/'],
    ]);
    expect(result.events[0]!.data).toMatchObject({ campaignId: C, contactId: 'c-1', email: 'm1@tally.test', locale: 'es', userAgent: person });
    const sum = (name: (typeof STAT_COUNTERS)[number]) => result.stats.reduce((n, inc) => n + (inc.counts[name] ?? 0), 0);
    expect({ total: sum('opened_total'), machine: sum('opened_machine'), unique: sum('opened_unique') }).toEqual({ total: 4, machine: 2, unique: 1 });
    expect({ total: sum('clicked_total'), unique: sum('clicked_unique') }).toEqual({ total: 4, unique: 2 });
    expect(new Set(result.stats.map((s) => `${s.bucket}/${s.locale}`))).toEqual(
      new Set(['2026-11-30T10:00/es', '2026-11-30T11:00/es', '2026-11-30T11:01/es', '2026-11-30T11:02/es', '2026-11-30T11:03/es']),
    );
    const links = new Map<string, [number, number]>();
    for (const l of result.links) {
      const [c, u] = links.get(l.url) ?? [0, 0];
      links.set(l.url, [c + l.clicks, u + l.uniqueClicks]);
    }
    expect(Object.fromEntries(links)).toEqual({ 'https://a.test/': [3, 1], 'https://b.test/': [1, 1] });
  });
});

describe('stats report', () => {
  const zero = Object.fromEntries(STAT_COUNTERS.map((n) => [n, 0])) as Record<(typeof STAT_COUNTERS)[number], number>;

  it('rounds rates to 4 decimals and answers 0 when nothing was sent', () => {
    expect(rate(1, 3)).toBe(0.3333);
    expect(rate(2, 3)).toBe(0.6667);
    expect(rate(5, 0)).toBe(0);
    const report = buildReport({ recipients: 3, totals: { ...zero, sent: 3, opened_unique: 2, clicked_unique: 1, bounced_hard: 1 }, links: [], byLocale: [{ ...zero, locale: '', sent: 3 }], timeline: [] });
    expect(report.rates).toEqual({ open: 0.6667, click: 0.3333, clickToOpen: 0.5, bounce: 0.25, complaint: 0, unsubscribe: 0 });
    // Two sent, one of which bounced later (a DSN): 1 of 2, not 1 of 3.
    expect(buildReport({ recipients: 2, totals: { ...zero, sent: 2, bounced_hard: 1, bounced_late: 1 }, links: [], byLocale: [], timeline: [] }).rates.bounce).toBe(0.5);
    // Every message bounced at SMTP time, none sent: the bounce rate is 1, not 0.
    expect(buildReport({ recipients: 2, totals: { ...zero, bounced_hard: 2 }, links: [], byLocale: [], timeline: [] }).rates.bounce).toBe(1);
    expect(report.byLocale).toEqual([{ locale: null, sent: 3, opened: 0, clicked: 0 }]);
    expect(buildReport({ recipients: 0, totals: zero, links: [], byLocale: [], timeline: [] }).rates).toEqual({ open: 0, click: 0, clickToOpen: 0, bounce: 0, complaint: 0, unsubscribe: 0 });
  });

  it('picks a finer step for shorter spans', () => {
    expect(timelineStep('2026-11-30T10:00', '2026-11-30T12:00')).toEqual({ minutes: 1, grain: 'minute' });
    expect(timelineStep('2026-11-30T10:00', '2026-11-30T12:01')).toEqual({ minutes: 5, grain: 'minute' });
    expect(timelineStep('2026-11-30T10:00', '2026-11-30T23:00')).toEqual({ minutes: 15, grain: 'minute' });
    expect(timelineStep('2026-11-30T10:00', '2026-12-10T10:00')).toEqual({ minutes: 60, grain: 'hour' });
    expect(timelineStep('2026-11-01T10:00', '2027-01-10T10:00')).toEqual({ minutes: 1440, grain: 'day' });
  });

  it('folds buckets into steps and fills the gaps with zeros', () => {
    const rows = [
      { ...zero, bucket: '2026-11-30T10:01', sent: 2 },
      { ...zero, bucket: '2026-11-30T10:04', sent: 1, opened_unique: 1 },
      { ...zero, bucket: '2026-11-30T10:16', clicked_unique: 1 },
    ];
    expect(foldTimeline(rows, 5)).toEqual([
      { at: '2026-11-30T10:00:00.000Z', sent: 3, opened: 1, clicked: 0 },
      { at: '2026-11-30T10:05:00.000Z', sent: 0, opened: 0, clicked: 0 },
      { at: '2026-11-30T10:10:00.000Z', sent: 0, opened: 0, clicked: 0 },
      { at: '2026-11-30T10:15:00.000Z', sent: 0, opened: 0, clicked: 1 },
    ]);
    expect(foldTimeline([{ ...zero, bucket: '2026-11-30T10', sent: 4 }, { ...zero, bucket: '2026-11-30T12', sent: 1 }], 60).map((p) => [p.at, p.sent])).toEqual([
      ['2026-11-30T10:00:00.000Z', 4],
      ['2026-11-30T11:00:00.000Z', 0],
      ['2026-11-30T12:00:00.000Z', 1],
    ]);
    expect(foldTimeline([], 1)).toEqual([]);
  });
});
