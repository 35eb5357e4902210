import { describe, expect, it } from 'vitest';
import { OutcomeRecorder } from '../../src/delivery/outcome-recorder.js';

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe('OutcomeRecorder', () => {
  it('writes a group as soon as it is full, what came during that write right after it, a lone outcome after the delay', async () => {
    const writes: number[][] = [];
    const recorder = new OutcomeRecorder<number>(async (group) => void writes.push(group), { maxPending: 2, maxDelayMs: 30 });
    await Promise.all([1, 2, 3, 4, 5].map((n) => recorder.add(n)));
    expect(writes).toEqual([[1, 2], [3, 4, 5]]); // 3–5 arrived while [1, 2] was being written: one write
    const lone = recorder.add(6);
    await tick(5);
    expect(writes).toHaveLength(2); // 6 waits for its delay
    await lone;
    expect(writes).toEqual([[1, 2], [3, 4, 5], [6]]);
  });

  it('writes one group at a time; what arrives meanwhile is written together next', async () => {
    let release!: () => void;
    const writes: number[][] = [];
    let active = 0;
    let most = 0;
    const recorder = new OutcomeRecorder<number>(
      async (group) => {
        active++;
        most = Math.max(most, active);
        if (writes.length === 0) await new Promise<void>((resolve) => (release = resolve));
        writes.push(group);
        active--;
      },
      { maxPending: 2, maxDelayMs: 1 },
    );
    const first = [recorder.add(1), recorder.add(2)];
    const second = [recorder.add(3), recorder.add(4)];
    await tick(5);
    expect(writes).toEqual([]);
    release();
    await Promise.all([...first, ...second]);
    expect(writes).toEqual([[1, 2], [3, 4]]);
    expect(most).toBe(1);
  });

  it('flush writes what is waiting at once; a failed write fails its group only', async () => {
    let fail = true;
    const writes: number[][] = [];
    const recorder = new OutcomeRecorder<number>(
      async (group) => {
        if (fail) {
          fail = false;
          throw new Error('database gone');
        }
        writes.push(group);
      },
      { maxPending: 10, maxDelayMs: 60_000 },
    );
    const doomed = recorder.add(1);
    const flushed = recorder.flush();
    await expect(doomed).rejects.toThrow('database gone');
    await flushed;
    const kept = recorder.add(2);
    await recorder.flush();
    await kept;
    expect(writes).toEqual([[2]]);
  });
});
