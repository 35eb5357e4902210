import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The dashboard's browser tests need Chromium: `npm run test:browser` (test/browser/vitest.config.ts).
    exclude: ['test/browser/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time. Vitest's default on a 2-core machine is one (cores − 1), but most files
    // spend their time waiting on child processes, SMTP/HTTP servers, PostgreSQL and timers, not on the CPU.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
