import { DateTime } from 'luxon';

/**
 * Turns a client's `scheduledAt` into an instant.
 * - With `Z` or an offset, the string is an instant and the zone is ignored.
 * - Without, it is wall-clock time in `zone` (UTC when there is none): a local
 *   time that does not exist there (the hour skipped when clocks go forward) is
 *   refused; a time that occurs twice (clocks go back) means the first one.
 * Throws ScheduleTimeError with a message fit for the client.
 */
export class ScheduleTimeError extends Error {}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;
const WITH_OFFSET = /(Z|[+-]\d{2}(:?\d{2})?)$/i;

export function resolveScheduledAt(input: string, zone: string | undefined, now: Date): Date {
  const instant = WITH_OFFSET.test(input) ? parseInstant(input) : parseWallClock(input, zone ?? 'UTC');
  if (instant.getTime() <= now.getTime()) {
    throw new ScheduleTimeError(`scheduledAt ${instant.toISOString()} is not in the future`);
  }
  return instant;
}

function parseInstant(input: string): Date {
  const parsed = DateTime.fromISO(input, { setZone: true });
  if (!parsed.isValid || !input.includes('T')) {
    throw new ScheduleTimeError(`scheduledAt "${input}" is not an ISO 8601 date-time`);
  }
  return parsed.toJSDate();
}

function parseWallClock(input: string, zone: string): Date {
  const match = LOCAL_DATE_TIME.exec(input);
  if (!match) throw new ScheduleTimeError(`scheduledAt "${input}" is not an ISO 8601 date-time`);
  const [, year, month, day, hour, minute, second = '0', fraction = '0'] = match;
  const wall = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour),
    minute: Number(minute),
    second: Number(second),
    millisecond: Math.floor(Number(`0.${fraction}`) * 1000),
  };
  const local = DateTime.fromObject(wall, { zone });
  if (!local.isValid) throw new ScheduleTimeError(`scheduledAt "${input}" is not a valid date-time`);
  // Luxon moves a non-existent local time forward; a moved time means a DST gap.
  if (local.hour !== wall.hour || local.minute !== wall.minute || local.day !== wall.day) {
    throw new ScheduleTimeError(
      `scheduledAt "${input}" does not exist in ${zone} (clocks skip that hour); choose another time or give an offset`,
    );
  }
  return earliestOccurrence(local).toJSDate();
}

/** For a wall-clock time that happens twice, the earlier instant. */
function earliestOccurrence(local: DateTime): DateTime {
  const candidates = local.getPossibleOffsets();
  return candidates.reduce((a, b) => (b.toMillis() < a.toMillis() ? b : a), local);
}
