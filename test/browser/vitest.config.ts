import { defineConfig } from 'vitest/config';

// `npm run test:browser`: the dashboard in the system Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
// Kept out of `npm test`, which needs no browser.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
