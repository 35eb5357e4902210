/**
 * The dashboard's read queries at scale (not part of `npm run bench`):
 * seeds BENCH_SCALE contacts (default here 100 000; 1 % suppressed) on each
 * engine, then times through HTTP (app.inject: routing, auth, validation,
 * the query) POST /audience/count for typical filters and GET /contacts?q=
 * for short and long prefixes. Median and worst of 20 runs after a warm-up.
 *
 *   BENCH_SCALE=100000 node --import tsx bench/dashboard-queries.ts
 */
import { performance } from 'node:perf_hooks';
import { fmtMs, runIfMain, settings } from './lib/common.js';
import { freshDatabase, seedContacts, warm } from './lib/db.js';
import { call, createTenant, openApp } from './lib/setup.js';

const RUNS = 20;
const scale = process.env.BENCH_SCALE ? settings.scale : 100_000;

const COUNTS: [string, unknown][] = [
  ['no filter', null],
  ['locale', { locale: 'es' }],
  ['attribute', { attributes: { plan: 'pro' } }],
  ['locale + two attributes', { locale: 'en', attributes: { plan: 'pro', score: 42 } }],
  ['optIn false (none)', { optIn: false }],
];
const SEARCHES = ['c', 'contact1', 'contact12345', 'CONTACT99999@', 'nobody'];

async function time(run: () => Promise<unknown>): Promise<{ median: number; worst: number }> {
  await run();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(RUNS / 2)]!, worst: samples[RUNS - 1]! };
}

async function main(): Promise<void> {
  for (const engine of settings.engines) {
    const { bench, database } = await freshDatabase(engine);
    const fixture = await openApp(database);
    try {
      const tenant = await createTenant(fixture.container, scale * 10);
      await seedContacts(database, tenant.tenantId, scale);
      await warm(database);
      console.log(`\n${engine}, ${scale} contacts`);
      for (const [name, filter] of COUNTS) {
        const { count } = await call<{ count: number }>(fixture.app, tenant, 'POST', '/audience/count', { filter });
        const t = await time(() => call(fixture.app, tenant, 'POST', '/audience/count', { filter }));
        console.log(`  POST /audience/count ${name.padEnd(26)} count ${String(count).padStart(7)}  median ${fmtMs(t.median)}  worst ${fmtMs(t.worst)}`);
      }
      for (const q of SEARCHES) {
        const url = `/contacts?q=${encodeURIComponent(q)}&limit=50`;
        const { meta } = await call<{ meta: { total: number } }>(fixture.app, tenant, 'GET', url);
        const t = await time(() => call(fixture.app, tenant, 'GET', url));
        console.log(`  GET /contacts?q=${q.padEnd(16)} total ${String(meta.total).padStart(7)}  median ${fmtMs(t.median)}  worst ${fmtMs(t.worst)}`);
      }
    } finally {
      await fixture.close();
      await bench.drop();
    }
  }
}

runIfMain(import.meta.url, main);
