/**
 * Fixed-window request counting (pure): each API key gets `max` requests per
 * window; the window is aligned to the epoch so every process agrees on it.
 */
export interface WindowState {
  windowStart: number;
  /** Unix seconds at which the window ends (X-RateLimit-Reset). */
  resetAt: number;
}

export function windowOf(nowMs: number, windowMs: number): WindowState {
  const windowStart = Math.floor(nowMs / windowMs) * windowMs;
  return { windowStart, resetAt: Math.ceil((windowStart + windowMs) / 1000) };
}

export interface Verdict {
  allowed: boolean;
  remaining: number;
  /** Seconds to wait (Retry-After) when not allowed. */
  retryAfter: number;
}

export function verdict(count: number, max: number, nowMs: number, state: WindowState): Verdict {
  const allowed = count <= max;
  return {
    allowed,
    remaining: Math.max(0, max - count),
    retryAfter: allowed ? 0 : Math.max(1, state.resetAt - Math.floor(nowMs / 1000)),
  };
}
