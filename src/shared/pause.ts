/**
 * A seam for race tests: services await `pause(point)` between a check and
 * the write that depends on it (inside the write's transaction), so a test
 * can hold one request there while it drives a competing one. Production
 * code passes nothing and never waits.
 */
export type Pause = (point: string) => Promise<void>;

export const noPause: Pause = () => Promise.resolve();
