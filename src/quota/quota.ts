/**
 * Monthly quota arithmetic (pure). Usage counts every queued email in a UTC
 * calendar month. Up to 100 % is normal (a warning from 80 %), 100–110 % is a
 * grace band, and nothing is ever queued beyond 110 % of the limit.
 */
export const WARNING_PERCENT = 80;
export const GRACE_PERCENT = 110;

export interface QuotaState {
  month: string;
  limit: number;
  used: number;
  percentage: number;
}

/** `2026-11` for any instant in November 2026 (UTC). */
export const monthOf = (at: Date): string => at.toISOString().slice(0, 7);

/** The most emails a tenant may have queued in a month: 110 % of the limit, rounded down. */
export const ceilingOf = (limit: number): number => Math.floor((limit * GRACE_PERCENT) / 100);

/** How many more emails fit under the ceiling this month (never negative). */
export const remainingUnderCeiling = (limit: number, used: number): number => Math.max(0, ceilingOf(limit) - used);

/**
 * Usage as a percentage of the limit, two decimals. A zero limit allows
 * nothing: it reads 100 % while nothing is used (already at the limit, so the
 * warning shows and sends are refused) and just past the ceiling once
 * anything is (the limit was lowered after use).
 */
export function percentageOf(limit: number, used: number): number {
  if (limit <= 0) return used > 0 ? GRACE_PERCENT + 1 : 100;
  return Math.round((used / limit) * 10_000) / 100;
}

export const isWarning = (state: Pick<QuotaState, 'percentage'>): boolean => state.percentage >= WARNING_PERCENT;

/** True when queuing `more` emails would take usage past the ceiling. */
export const wouldExceed = (limit: number, used: number, more: number): boolean => used + more > ceilingOf(limit);
