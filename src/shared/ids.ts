import { v7 as uuidv7 } from 'uuid';

/**
 * Entity ids are UUIDv7: unique across processes and time-ordered, so
 * "newest first" is an index scan on the id and cursors are stable.
 */
export const newId = (): string => uuidv7();

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Anything that cannot be one of our ids is answered 404 without a query. */
export const isId = (value: string): boolean => UUID_PATTERN.test(value);

/**
 * The smallest UUIDv7 of a millisecond: ids compare as text in time order,
 * so "older than T" is a range over the primary key (retention, `since`).
 */
export function uuidFloorAt(at: Date): string {
  const hex = Math.max(0, at.getTime()).toString(16).padStart(12, '0').slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}
