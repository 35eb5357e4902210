/**
 * Benchmark 7 — rendering in the thread pool. What moving template work off
 * the event loop costs, and what it buys:
 *
 * - one render of a normal newsletter (~3 KB, published) through the pool
 *   (`TemplateRenderer.render`, one at a time) against the same render
 *   in-process (the render thread's own code, called directly: the same-run
 *   baseline);
 * - 100 renders of that version asked for together (a delivery batch: one
 *   task) against 100 in-process renders, per message;
 * - `POST …/preview` of that version over HTTP (real server, fetch);
 * - `GET /healthz` while ten hostile previews run (runaway loop, runaway CSS
 *   inlining, append doubling), against /healthz on the idle server.
 *
 * SQLite only: no database work is measured.
 *
 *   node --import tsx bench/render.ts       (BENCH_RENDER_RUNS, default 300)
 */
import type { DatabaseConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { createRepositories } from '../src/repositories.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { buildContext } from '../src/templates/render.js';
import { createRenderCore } from '../src/templates/render-worker.js';
import { newId } from '../src/shared/ids.js';
import type { TrackingSpec } from '../src/tracking/track-html.js';
import { trackingKey } from '../src/tracking/token.js';
import { BENCH_SECRET, fmtInt, log, median, percentile, report, runIfMain } from './lib/common.js';
import { createBenchDatabase } from './lib/db.js';
import { call, createTenant, openApp } from './lib/setup.js';

const RUNS = Number(process.env.BENCH_RENDER_RUNS ?? 300);
const BATCH = 100;

const us = (ms: number) => `${fmtInt(ms * 1000)} µs`;
const signed = (ms: number) => `${ms >= 0 ? '+' : '−'}${us(Math.abs(ms))}`;
const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;

const NEWSLETTER = `<html><head><style>.copy { font-family: Helvetica, Arial, sans-serif; color: #333; line-height: 1.5 } h1 { color: #0a5 }</style></head>
<body><h1>Hello {{ first_name }} {{ last_name }}!</h1>
<p>Your plan: {{ plan }}, score {{ score }}.</p>
${Array.from({ length: 8 }, (_, i) => `<p class="copy">Paragraph ${i + 1}: this month we shipped faster imports, locale variants and a new delivery pipeline. Read more on <a href="https://example.com/news/${i + 1}?utm_source=newsletter">our blog</a>.</p>`).join('\n')}
<p><a href="{{ unsubscribeUrl }}">Unsubscribe</a></p></body></html>`;

const HOSTILE = [
  ...Array.from({ length: 4 }, () => '<p>{% for i in (1..3000000) %}{% assign x = i | plus: 1 %}{% endfor %}done</p>'),
  ...Array.from({ length: 3 }, () => {
    const rules = Array.from({ length: 3000 }, (_, i) => `div p span.c${i % 50}, .k${i} td { color: #${(i % 4096).toString(16).padStart(3, '0')} }`).join('\n');
    return `<style>${rules}</style>${'<div><p><span class="c1">x</span></p></div>'.repeat(4000)}`;
  }),
  ...Array.from({ length: 3 }, () => '{% assign s = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" %}{% for i in (1..18) %}{% assign s = s | append: s %}{% endfor %}<p>{{ s }}{{ s }}{{ s }}{{ s }}{{ s }}</p>'),
];

async function timeHealth(url: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/healthz`);
  await res.text();
  return performance.now() - started;
}

export async function main(): Promise<void> {
  const bench = await createBenchDatabase('sqlite');
  const database = openDatabase(bench.config as DatabaseConfig, { poolSize: 5 });
  await migrateToLatest(database);
  const fixture = await openApp(database);
  try {
    const { app, container } = fixture;
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const tenant = await createTenant(container, 1_000_000);
    const template = await call<{ id: string; versions: { id: string }[] }>(app, tenant, 'POST', '/templates', {
      name: 'Newsletter',
      subject: 'News for {{ first_name }}',
      htmlBody: NEWSLETTER,
    });
    const versionId = template.versions[0]!.id;
    await call(app, tenant, 'POST', `/templates/${template.id}/versions/${versionId}/publish`);
    const row = (await createRepositories(container.database).templates.getVersion(tenant.tenantId, versionId))!;
    const version = { id: row.id, subject: row.subject, htmlBody: row.html_body, textBody: row.text_body, variables: null };
    const context = (i: number) =>
      buildContext({
        contact: { email: `c${i}@bench.example`, locale: 'en', externalId: null, attributes: { first_name: `Name${i}`, last_name: 'Surname', plan: 'pro', score: i } },
        unsubscribeUrl: `http://127.0.0.1:3000/u/token${i}`,
      });

    // In-process baseline: the thread's own code, no thread.
    const { maxBytes, timeoutMs } = container.renderer.pool.options;
    const core = createRenderCore({ maxBytes, liquidRenderMs: timeoutMs });
    const task = (contexts: Record<string, unknown>[]) => ({
      kind: 'render' as const,
      key: 'baseline',
      sources: [version.subject, version.htmlBody, version.textBody] as [string, string, string | null],
      variables: null,
      contexts,
    });
    for (let i = 0; i < 50; i++) await core.render(task([context(i)]));
    const inProcess: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      await core.render(task([context(i)]));
      inProcess.push(performance.now() - started);
    }

    // Through the pool, one at a time.
    const renderer = container.renderer;
    for (let i = 0; i < 50; i++) await renderer.render(version, context(i));
    const pooled: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      await renderer.render(version, context(i));
      pooled.push(performance.now() - started);
    }

    // A batch of one version (as a delivery round asks for it): per message.
    const batchContexts = Array.from({ length: BATCH }, (_, i) => context(i));
    const batchRuns = 20;
    let started = performance.now();
    for (let r = 0; r < batchRuns; r++) await Promise.all(batchContexts.map((c) => renderer.render(version, c)));
    const pooledPerMessage = (performance.now() - started) / (batchRuns * BATCH);
    started = performance.now();
    for (let r = 0; r < batchRuns; r++) await core.render(task(batchContexts));
    const inProcessPerMessage = (performance.now() - started) / (batchRuns * BATCH);

    // The same batch with open and click tracking (links rewritten, tokens sealed, pixel added in the thread).
    const key = trackingKey(BENCH_SECRET);
    const campaignId = newId();
    const spec = (i: number): TrackingSpec => ({ key, publicUrl: 'http://127.0.0.1:3000', tenantId: tenant.tenantId, campaignId, messageId: i + 1, opens: true, clicks: true });
    const tracked = await renderer.render(version, batchContexts[0]!, spec(0));
    const trackedLinks = (tracked.html.match(/\/track\/c\//g) ?? []).length;
    started = performance.now();
    for (let r = 0; r < batchRuns; r++) await Promise.all(batchContexts.map((c, i) => renderer.render(version, c, spec(i))));
    const pooledTrackedPerMessage = (performance.now() - started) / (batchRuns * BATCH);
    started = performance.now();
    for (let r = 0; r < batchRuns; r++) await core.render({ ...task(batchContexts), tracking: batchContexts.map((_, i) => spec(i)) });
    const inProcessTrackedPerMessage = (performance.now() - started) / (batchRuns * BATCH);

    // Preview over HTTP.
    const previewUrl = `${url}/templates/${template.id}/versions/${versionId}/preview`;
    const preview = async () => {
      const res = await fetch(previewUrl, {
        method: 'POST',
        headers: { ...tenant.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ data: { first_name: 'Ana', plan: 'pro', score: 1 } }),
      });
      await res.text();
      if (res.status !== 200) throw new Error(`preview → ${res.status}`);
    };
    for (let i = 0; i < 20; i++) await preview();
    const previews: number[] = [];
    for (let i = 0; i < Math.min(RUNS, 200); i++) {
      const t = performance.now();
      await preview();
      previews.push(performance.now() - t);
    }

    // /healthz idle, then while ten hostile previews run.
    const idle: number[] = [];
    for (let i = 0; i < 50; i++) {
      idle.push(await timeHealth(url));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const drafts = [];
    for (const htmlBody of HOSTILE) {
      const created = await call<{ id: string; versions: { id: string }[] }>(app, tenant, 'POST', '/templates', { name: 'Hostile', subject: 'Hi', htmlBody });
      drafts.push({ templateId: created.id, versionId: created.versions[0]!.id });
    }
    log(`render: ten hostile previews, /healthz polled every 20 ms meanwhile`);
    const hostileStarted = performance.now();
    let done = false;
    const statuses = Promise.all(
      drafts.map(async ({ templateId, versionId: id }) => {
        const res = await fetch(`${url}/templates/${templateId}/versions/${id}/preview`, {
          method: 'POST',
          headers: { ...tenant.headers, 'content-type': 'application/json' },
          body: '{}',
        });
        await res.text();
        return res.status;
      }),
    ).finally(() => (done = true));
    const busy: number[] = [];
    while (!done) {
      busy.push(await timeHealth(url));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const answered = await statuses;
    const hostileMs = performance.now() - hostileStarted;

    const p = (values: number[], fmt: (v: number) => string) => `p50 ${fmt(median(values))} · p99 ${fmt(percentile(values, 99))}`;
    report({
      title: 'Rendering in the thread pool (benchmark 7)',
      table: {
        columns: ['measure', 'through the pool', 'in-process (baseline)', 'cost of the pool'],
        rows: [
          ['one render of a ~3 KB newsletter, one at a time', p(pooled, us), p(inProcess, us), `${signed(median(pooled) - median(inProcess))} (p50)`],
          [`${BATCH} renders of one version asked together, per message`, us(pooledPerMessage), us(inProcessPerMessage), `${signed(pooledPerMessage - inProcessPerMessage)} (wall time: the threads run in parallel)`],
          [
            `the same ${BATCH} with open and click tracking (${trackedLinks} links rewritten, pixel added), per message`,
            us(pooledTrackedPerMessage),
            us(inProcessTrackedPerMessage),
            `tracking: ${signed(inProcessTrackedPerMessage - inProcessPerMessage)} per message in-process (what it would cost the event loop)`,
          ],
          ['POST …/preview over HTTP (published version)', p(previews, ms), '—', '—'],
          [
            `GET /healthz while 10 hostile previews run (${answered.filter((s) => s === 422).length}/10 answered 422 in ${(hostileMs / 1000).toFixed(1)} s)`,
            `${p(busy, ms)} · max ${ms(Math.max(...busy))} (${busy.length} polls)`,
            `idle: ${p(idle, ms)}`,
            '—',
          ],
        ],
      },
      notes: [
        `pool: ${container.renderer.pool.options.threads} threads, RENDER_TIMEOUT_MS ${timeoutMs}, RENDER_MAX_HEAP_MB ${container.renderer.pool.options.maxHeapMb}, RENDER_MAX_BYTES ${maxBytes}`,
        'in-process: the render thread\'s code (createRenderCore) called on the main thread, parsed once; through the pool: TemplateRenderer.render, parsed once per thread',
        `hostile previews: 4 × a 3,000,000-step Liquid loop, 3 × 3,000 CSS rules over 12,000 elements, 3 × append doubling; statuses ${answered.join(', ')}`,
      ],
    });
  } finally {
    await fixture.close();
    await bench.drop();
  }
}

runIfMain(import.meta.url, main);
