import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/events/event-types.js';
import type { LinkIncrement } from '../../src/stats/campaign-stats.repository.js';
import type { StatIncrement } from '../../src/stats/stat-increments.js';
import type { Hit, TrackedMessageRow } from '../../src/tracking/tally.js';
import type { TrackingFirstKey, TrackingFirstRow } from '../../src/tracking/tracking-first.repository.js';
import { TrackingRecorder, type TrackingRecorderDeps } from '../../src/tracking/tracking-recorder.js';

const T = '0197a1c2-6b1e-7c3d-9a4f-2b8e5d7c9a10';
const C = '0197a1c2-6b1e-7c3d-9a4f-2b8e5d7c9a11';
const AGENT = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';

/** The recorder over in-memory stand-ins for its repositories; `failures` transactions throw before writing anything. */
function harness(failures = 0, options: { flushHits?: number } = {}) {
  const state = {
    failures,
    transactions: 0,
    firsts: new Set<string>(),
    offered: 0,
    events: [] as NewEvent[],
    stats: [] as StatIncrement[],
    links: [] as LinkIncrement[],
    errors: [] as unknown[],
  };
  const message = (id: number): TrackedMessageRow => ({
    id, tenantId: T, campaignId: C, contactId: `c${id}`, email: `m${id}@r.test`, externalId: null, locale: null, templateVersionId: 'v', sentAt: '2026-01-01T00:00:00.000Z',
  });
  const self = <X>(x: X) => Object.assign(x as object, { in: () => x }) as X;
  const deps = {
    transaction: async (work: (trx: never) => Promise<unknown>) => {
      state.transactions += 1;
      if (state.failures > 0) {
        state.failures -= 1;
        throw new Error('database went away');
      }
      return work(undefined as never);
    },
    messages: self({ trackedMessages: async (ids: readonly number[]) => ids.map(message) }),
    firsts: self({
      insertNew: async (rows: readonly TrackingFirstRow[]): Promise<TrackingFirstKey[]> =>
        rows.filter((r) => {
          state.offered += 1;
          const key = `${r.message_id}/${r.kind}/${r.key}`;
          if (state.firsts.has(key)) return false;
          state.firsts.add(key);
          return true;
        }),
    }),
    stats: self({ addLinks: async (links: readonly LinkIncrement[]) => void state.links.push(...links) }),
    eventLog: self({
      record: async (events: readonly NewEvent[], stats: readonly StatIncrement[]) => {
        state.events.push(...events);
        state.stats.push(...stats);
        return [];
      },
    }),
    onError: (error: unknown) => void state.errors.push(error),
  } as unknown as TrackingRecorderDeps;
  const recorder = new TrackingRecorder(deps, { flushMs: 60_000, flushHits: options.flushHits ?? 100, windowSeconds: 10 });
  return { recorder, state };
}

const click = (messageId: number, second: number): Hit => ({
  kind: 'click', tenantId: T, campaignId: C, messageId, url: 'https://a.test/', at: `2026-01-02T00:00:${String(second).padStart(2, '0')}.000Z`, userAgent: AGENT,
});
const total = (stats: StatIncrement[]) => stats.reduce((n, s) => n + (s.counts.clicked_total ?? 0), 0);

describe('tracking recorder', () => {
  it('writes what waits in one transaction per flush, nothing when nothing waits', async () => {
    const { recorder, state } = harness();
    for (let i = 0; i < 5; i++) recorder.record(click(1, i));
    expect(recorder.pending).toBe(5);
    await recorder.flush();
    expect(recorder.pending).toBe(0);
    expect(state.transactions).toBe(1);
    expect(total(state.stats)).toBe(5);
    expect(state.events).toHaveLength(1);
    await recorder.flush();
    expect(state.transactions).toBe(1);
  });

  it('flushes by itself once flushHits are waiting, in batches of that size', async () => {
    const { recorder, state } = harness(0, { flushHits: 10 });
    for (let i = 0; i < 25; i++) recorder.record(click(i, 0));
    await recorder.flush(); // waits for the flush the tenth hit started, then writes the rest
    expect(state.transactions).toBe(3);
    expect(total(state.stats)).toBe(25);
  });

  it('tries a failed batch once more with the next flush, then drops it and says so', async () => {
    const once = harness(1);
    once.recorder.record(click(1, 0));
    await once.recorder.flush();
    expect(once.state.errors).toHaveLength(1);
    expect(once.recorder.pending).toBe(1);
    await once.recorder.flush();
    expect(total(once.state.stats)).toBe(1);
    expect(once.state.events).toHaveLength(1);

    const twice = harness(2);
    twice.recorder.record(click(1, 0));
    await twice.recorder.flush();
    await twice.recorder.flush();
    expect(twice.recorder.pending).toBe(0);
    expect(twice.state.errors).toHaveLength(2);
    expect((twice.state.errors[1] as { trackingHitsDropped: number }).trackingHitsDropped).toBe(1);
    expect(total(twice.state.stats)).toBe(0);
  });

  it('does not offer the database a first it knows is there (repeats cost no insert), nor one whose batch failed', async () => {
    const { recorder, state } = harness(1);
    recorder.record(click(1, 0));
    await recorder.flush(); // fails: nothing known
    await recorder.flush(); // the retry: offers the click and the link first
    expect(state.offered).toBe(2);
    recorder.record(click(1, 5));
    recorder.record(click(2, 5));
    await recorder.flush();
    expect(state.offered).toBe(4); // only message 2's
    expect(total(state.stats)).toBe(3);
    expect(state.events.map((e) => e.messageId)).toEqual([1, 2]);
  });

  it('writes what is waiting on close', async () => {
    const { recorder, state } = harness();
    recorder.record(click(1, 0));
    await recorder.close();
    expect(total(state.stats)).toBe(1);
  });

  it('keeps one tenant’s flood from crowding out another tenant’s hits (a share of the buffer each)', async () => {
    const { recorder } = harness(0, { flushHits: 1_000_000 });
    for (let i = 0; i < 25_001; i++) recorder.record(click(1, 0));
    expect(recorder.pending).toBe(25_000);
    expect(recorder.dropped).toBe(1);
    recorder.record({ ...click(2, 0), tenantId: '0197a1c2-6b1e-7c3d-9a4f-2b8e5d7c9a99' });
    expect(recorder.pending).toBe(25_001);
    await recorder.flush();
    // Written: the tenant may buffer again.
    recorder.record(click(1, 1));
    expect(recorder.pending).toBe(1);
  });
});
