import type { RateLimitStore } from './stores.js';
import { forgetEndedWindows } from './window.js';

/** A counter shared by every API process (PostgreSQL, Redis): adds `n` and returns the new total. */
export interface SharedCounter {
  add(key: string, windowStart: number, windowMs: number, n: number): Promise<number>;
  close(): Promise<void>;
}

/** The most requests one process reserves at once, and the share of what is left it may take. */
const MAX_BLOCK = 100;
const SHARE_OF_REMAINING = 8;

/**
 * How many request numbers to reserve: an eighth of what the window has left
 * (as last seen), between 1 and 100. Far from the limit one shared write
 * serves many requests; near it every request is counted one by one, so the
 * count is exact where the verdict changes.
 */
export function blockSize(max: number, lastSeenTotal: number): number {
  return Math.max(1, Math.min(MAX_BLOCK, Math.floor((max - lastSeenTotal) / SHARE_OF_REMAINING)));
}

interface Block {
  windowStart: number;
  /** The next request number this process may hand out, and the last one it holds. */
  next: number;
  end: number;
  reserving: Promise<void> | undefined;
}

/**
 * Counts requests against a shared counter without a shared write per
 * request: a process reserves a block of consecutive request numbers (one
 * `add`) and hands them out locally. A request's number is its count for the
 * verdict, so the limit is never exceeded across processes; numbers a
 * process reserved but did not use count as used, so with several processes
 * a key may be refused up to an eighth of its remaining requests early.
 */
export class TokenBlocks implements RateLimitStore {
  private readonly blocks = new Map<string, Block>();

  constructor(private readonly counter: SharedCounter) {}

  async hit(key: string, windowStart: number, windowMs: number, max: number): Promise<number> {
    for (;;) {
      let block = this.blocks.get(key);
      if (!block || block.windowStart !== windowStart) {
        forgetEndedWindows(this.blocks, windowStart);
        block = { windowStart, next: 1, end: 0, reserving: undefined };
        this.blocks.set(key, block);
      }
      if (block.next <= block.end) return block.next++;
      // The window's limit is spent everywhere: refuse without another shared write.
      if (block.end >= max) return block.next++;
      // One reservation at a time per key: concurrent requests wait for it rather than each reserving a block.
      block.reserving ??= this.reserve(key, block, windowMs, max);
      await block.reserving;
    }
  }

  private async reserve(key: string, block: Block, windowMs: number, max: number): Promise<void> {
    try {
      const n = blockSize(max, block.end);
      const total = await this.counter.add(key, block.windowStart, windowMs, n);
      block.next = total - n + 1;
      block.end = total;
    } finally {
      block.reserving = undefined;
    }
  }

  close(): Promise<void> {
    return this.counter.close();
  }
}
