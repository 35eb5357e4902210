/**
 * Fixed-window request counting (pure): each API key gets `max` requests per
 * window; the window is aligned to the epoch so every process agrees on it.
 */
export interface WindowState {
  windowStart: number;
  /** Unix seconds at which the window ends (X-RateLimit-Reset). */
  resetAt: number;
}

/** Past this many keys, a map of per-window entries drops those of ended windows. */
const MAX_TRACKED_KEYS = 100_000;

/** Keeps a map of per-key window entries small: entries of windows before `currentWindow` go once it is large. */
export function forgetEndedWindows(entries: Map<string, { windowStart: number }>, currentWindow: number): void {
  if (entries.size <= MAX_TRACKED_KEYS) return;
  for (const [key, entry] of entries) if (entry.windowStart < currentWindow) entries.delete(key);
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
