import { describe, expect, it } from 'vitest';
import { verdict, windowOf } from '../../src/ratelimit/window.js';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp } from '../helpers/app.js';

describe('rate-limit windows', () => {
  it('align to the epoch and report the reset in unix seconds', () => {
    expect(windowOf(125_000, 60_000)).toEqual({ windowStart: 120_000, resetAt: 180 });
    expect(verdict(3, 5, 125_000, windowOf(125_000, 60_000))).toEqual({ allowed: true, remaining: 2, retryAfter: 0 });
    expect(verdict(6, 5, 125_000, windowOf(125_000, 60_000))).toEqual({ allowed: false, remaining: 0, retryAfter: 55 });
  });
});

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe.each([...DIALECTS.map((d) => [d, 'database'] as const), ['sqlite', 'redis'] as const])(
  'rate limit per API key (%s, %s counts)',
  (dialect, store) => {
    // A one-hour window, so the test never straddles two windows.
    const ctx = useTestApp(dialect, { rateLimit: { max: 5, windowMs: 3_600_000 }, ...(store === 'redis' ? { redisUrl: REDIS_URL } : {}) });

    it('counts requests per key, answers 429 with Retry-After past the limit, and keeps other keys apart', async () => {
      const tenant = await ctx.newTenant();
      const responses = [];
      for (let i = 0; i < 7; i++) responses.push(await ctx.request('GET', '/campaigns', { tenant }));
      expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 429, 429]);
      expect(responses.map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['4', '3', '2', '1', '0', '0', '0']);
      expect(responses[0]!.headers['x-ratelimit-limit']).toBe('5');
      const reset = Number(responses[0]!.headers['x-ratelimit-reset']);
      expect(reset).toBeGreaterThan(Date.now() / 1000);
      expect(reset).toBeLessThanOrEqual(Date.now() / 1000 + 3600 + 1);
      const limited = responses[5]!;
      expect(errorBody(limited).code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

      const other = await tenant.keyWith(['campaigns:read']);
      expect((await ctx.request('GET', '/campaigns', { headers: other.headers })).statusCode).toBe(200);
      // Unauthenticated requests are refused before they are counted.
      expect((await ctx.request('GET', '/campaigns')).statusCode).toBe(401);
      expect((await ctx.request('GET', '/healthz')).headers['x-ratelimit-limit']).toBeUndefined();
    });

    if (dialect === 'postgres' || store === 'redis') {
      it('shares the count between API processes', async () => {
        const tenant = await ctx.newTenant();
        // A second app with its own container and counter store on the same database (and Redis): another API process.
        const { buildApp } = await import('../../src/app.js');
        const { createContainer } = await import('../../src/container.js');
        const second = createContainer(ctx.container.database, {
          secret: ctx.container.secret,
          rateLimit: { max: 5, windowMs: 3_600_000 },
          ...(store === 'redis' ? { redisUrl: REDIS_URL } : {}),
        });
        const app2 = await buildApp(second);
        try {
          const codes = [];
          for (let i = 0; i < 6; i++) {
            const app = i % 2 === 0 ? ctx.app : app2;
            codes.push((await app.inject({ method: 'GET', url: '/campaigns', headers: tenant.headers })).statusCode);
          }
          expect(codes).toEqual([200, 200, 200, 200, 200, 429]);
        } finally {
          await app2.close();
          await second.rateLimitStore.close();
        }
      });
    }
  },
);
