import { describe, expect, it } from 'vitest';
import { resolveScheduledAt, ScheduleTimeError } from '../../src/campaigns/schedule-time.js';

const now = new Date('2026-01-15T12:00:00Z');

describe('resolveScheduledAt', () => {
  it('takes a Z or offset time as an instant, whatever the zone', () => {
    expect(resolveScheduledAt('2026-06-01T09:00:00Z', 'Europe/Madrid', now).toISOString()).toBe('2026-06-01T09:00:00.000Z');
    expect(resolveScheduledAt('2026-06-01T09:00:00+02:00', 'America/New_York', now).toISOString()).toBe(
      '2026-06-01T07:00:00.000Z',
    );
    expect(resolveScheduledAt('2026-06-01T09:00:00.250-0500', undefined, now).toISOString()).toBe('2026-06-01T14:00:00.250Z');
  });

  it('reads a time without offset as wall-clock time in the zone, summer and winter', () => {
    expect(resolveScheduledAt('2026-06-01T09:00:00', 'Europe/Madrid', now).toISOString()).toBe('2026-06-01T07:00:00.000Z');
    expect(resolveScheduledAt('2026-12-01T09:00', 'Europe/Madrid', now).toISOString()).toBe('2026-12-01T08:00:00.000Z');
    expect(resolveScheduledAt('2026-07-04T09:00:00', 'America/New_York', now).toISOString()).toBe('2026-07-04T13:00:00.000Z');
  });

  it('uses UTC for a wall-clock time when there is no zone', () => {
    expect(resolveScheduledAt('2026-06-01T09:00:00', undefined, now).toISOString()).toBe('2026-06-01T09:00:00.000Z');
  });

  it('refuses a local time inside a DST gap', () => {
    // Europe/Madrid skips 02:00–03:00 on 2026-03-29; New York skips 02:00–03:00 on 2026-03-08.
    expect(() => resolveScheduledAt('2026-03-29T02:30:00', 'Europe/Madrid', now)).toThrow(/does not exist in Europe\/Madrid/);
    expect(() => resolveScheduledAt('2026-03-08T02:00:00', 'America/New_York', now)).toThrow(ScheduleTimeError);
    // The minutes either side of the gap are fine.
    expect(resolveScheduledAt('2026-03-29T01:59:00', 'Europe/Madrid', now).toISOString()).toBe('2026-03-29T00:59:00.000Z');
    expect(resolveScheduledAt('2026-03-29T03:00:00', 'Europe/Madrid', now).toISOString()).toBe('2026-03-29T01:00:00.000Z');
  });

  it('takes the first occurrence of a local time that happens twice', () => {
    // Europe/Madrid repeats 02:00–03:00 on 2026-10-25: first at +02:00, then at +01:00.
    expect(resolveScheduledAt('2026-10-25T02:30:00', 'Europe/Madrid', now).toISOString()).toBe('2026-10-25T00:30:00.000Z');
    // New York repeats 01:00–02:00 on 2026-11-01: first at -04:00.
    expect(resolveScheduledAt('2026-11-01T01:30:00', 'America/New_York', now).toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });

  it('refuses past and present times', () => {
    expect(() => resolveScheduledAt('2026-01-15T12:00:00Z', undefined, now)).toThrow(/not in the future/);
    expect(() => resolveScheduledAt('2025-12-31T23:00:00', 'Europe/Madrid', now)).toThrow(/not in the future/);
    // 12:30 in Madrid is 11:30Z: already past.
    expect(() => resolveScheduledAt('2026-01-15T12:30:00', 'Europe/Madrid', now)).toThrow(/not in the future/);
  });

  it.each(['tomorrow', '2026-06-01', '2026-13-01T09:00:00', '2026-02-30T09:00:00', '2026-06-01T25:00:00Z', '2026-06-01 09:00', ''])(
    'refuses %j',
    (input) => {
      expect(() => resolveScheduledAt(input, 'Europe/Madrid', now)).toThrow(ScheduleTimeError);
    },
  );
});
