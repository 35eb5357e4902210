/**
 * Benchmark — the priority lane (issue 16, docs/SENDING.md). A campaign of
 * N = BENCH_DELIVERY_MESSAGES (default min(BENCH_SCALE, 25 000)) recipients is delivered by the real worker
 * (a fresh process, default options) to a local SMTP sink (another
 * process), twice in the same run:
 *
 *   A. the campaign alone (the baseline);
 *   B. the same audience again while this process — the API, another process
 *      than the worker, as under `mailingcore serve` + `mailingcore worker` —
 *      accepts BENCH_TX_RATE transactional emails per second
 *      (`POST /emails/send`, default 20/s) until the campaign is SENT.
 *
 * Measured: for each transactional email, the time from its 202 to the
 * sink accepting it (the sink stamps `tx-…` recipients; both clocks are this
 * machine's), p50 / p99 / max — from the campaign's first delivered message
 * on, so the worker's own start-up is not counted; and the campaign's own throughput in B
 * against A. Targets: p50 ≤ 100 ms, p99 ≤ 1 s, and B's campaign throughput
 * ≥ A's × (1 − the transactional share of all messages sent in B). B runs
 * second, on a database holding A's N messages too: its conditions are, if
 * anything, the harder ones.
 *
 *   node --import tsx bench/priority.ts          (BENCH_SCALE, BENCH_ENGINES, BENCH_TX_RATE)
 */
import { performance } from 'node:perf_hooks';
import { fmtInt, fmtMs, fmtRatio, log, percentile, report, runIfMain, settings, sleep, startChild, startSink, verdict } from './lib/common.js';
import { contactsToQueue, freshDatabase, seedContacts, warm } from './lib/db.js';
import { call, createTenant, openApp, publishedTemplate, queueCampaign, smtpProject } from './lib/setup.js';

const TX_RATE = Number(process.env.BENCH_TX_RATE ?? 20);
const PUBLIC_URL = 'https://mail.acme.example';
const P50_TARGET_MS = 100;
const P99_TARGET_MS = 1000;

interface DeliveryResult {
  ms: number;
  sent: number;
  peakRssMiB: number;
  [key: string]: unknown;
}

const epochMs = () => performance.timeOrigin + performance.now();

export async function main(): Promise<void> {
  const n = settings.deliveryMessages;
  const contacts = contactsToQueue(n);
  const rows: string[][] = [];
  const notes: string[] = [];
  const sink = await startSink();
  try {
    for (const engine of settings.engines) {
      const { bench, database } = await freshDatabase(engine);
      const fixture = await openApp(database, { publicUrl: PUBLIC_URL });
      try {
        const { app, container } = fixture;
        const tenant = await createTenant(container, contacts * 10);
        const templateVersionId = await publishedTemplate(app, tenant);
        const projectId = await smtpProject(app, tenant, sink.port);
        await seedContacts(database, tenant.tenantId, contacts);
        await warm(database);

        // A: the campaign alone.
        const first = await queueCampaign(fixture, tenant, { templateVersionId, projectId }, n);
        await sink.reset();
        const aloneChild = startChild<DeliveryResult>('delivery-app', { config: bench.config, campaignId: first, expected: n, untilStopped: true });
        await aloneChild.next();
        aloneChild.send({ action: 'stop' });
        const alone = await aloneChild.result;
        log(`${engine}: campaign alone ${fmtMs(alone.ms)}; again with ${TX_RATE} transactional emails/s`);

        // B: the campaign again, transactional emails accepted meanwhile.
        const second = await queueCampaign(fixture, tenant, { templateVersionId, projectId }, n);
        await sink.reset();
        const child = startChild<DeliveryResult>('delivery-app', { config: bench.config, campaignId: second, expected: n, untilStopped: true });
        let done = false;
        const campaignSent = child.next().finally(() => (done = true));
        // Measured while the campaign is being delivered: from its first message on, not during the worker's start-up.
        while ((await sink.count()).accepted === 0) await sleep(10);
        const accepted = new Map<string, number>();
        const acceptLatencies: number[] = [];
        const started = epochMs();
        for (let i = 0; !done; i++) {
          const due = started + (i * 1000) / TX_RATE;
          const wait = due - epochMs();
          if (wait > 0) await sleep(wait);
          if (done) break;
          const to = `tx-${i}@bench.example`;
          const asked = epochMs();
          await call(app, tenant, 'POST', '/emails/send', {
            to,
            subject: `Your receipt #${i}`,
            htmlBody: `<p>Thank you for your order #${i}.</p>`,
            fromEmail: 'news@acme.example',
            projectId,
          }, [202]);
          const answered = epochMs();
          accepted.set(to, answered);
          acceptLatencies.push(answered - asked);
        }
        await campaignSent;
        // The last few emails may still be on their way: the worker runs until they are in.
        let arrivals: Record<string, number> = {};
        for (let tries = 0; tries < 100; tries++) {
          arrivals = await sink.arrivals();
          if (Object.keys(arrivals).length >= accepted.size) break;
          await sleep(100);
        }
        child.send({ action: 'stop' });
        const result = await child.result;
        const latencies = [...accepted].map(([to, at]) => (arrivals[to] === undefined ? Number.POSITIVE_INFINITY : arrivals[to]! - at));
        const lost = latencies.filter((l) => !Number.isFinite(l)).length;
        if (lost > 0) throw new Error(`${lost} of ${accepted.size} transactional emails never reached the sink`);

        if (process.env.BENCH_DEBUG) log(`${engine}: latencies ${[...accepted].map(([to, at]) => `${to.slice(3, to.indexOf('@'))}:${Math.round(arrivals[to]! - at)}`).join(' ')}`);
        const rateAlone = (n / alone.ms) * 1000;
        const rateWith = (n / result.ms) * 1000;
        const share = accepted.size / (accepted.size + n);
        const p50 = percentile(latencies, 50);
        const p99 = percentile(latencies, 99);
        rows.push([
          engine,
          fmtInt(n),
          `${fmtInt(accepted.size)} (${fmtInt(TX_RATE)}/s)`,
          `p50 ${fmtMs(p50)} · p99 ${fmtMs(p99)} · max ${fmtMs(Math.max(...latencies))}`,
          `p50 ≤ ${P50_TARGET_MS} ms: ${verdict(p50 <= P50_TARGET_MS)}; p99 ≤ ${P99_TARGET_MS} ms: ${verdict(p99 <= P99_TARGET_MS)}`,
          `${fmtInt(rateAlone)} msg/s (${fmtMs(alone.ms)})`,
          `${fmtInt(rateWith)} msg/s (${fmtMs(result.ms)})`,
          `${fmtRatio(rateWith / rateAlone)} (floor ${fmtRatio(1 - share)}): ${verdict(rateWith / rateAlone >= 1 - share)}`,
        ]);
        notes.push(
          `${engine}: \`POST /emails/send\` answered in p50 ${fmtMs(percentile(acceptLatencies, 50))} · p99 ${fmtMs(percentile(acceptLatencies, 99))} (in-process inject, during the send); worker peak RSS ${fmtInt(alone.peakRssMiB)} / ${fmtInt(result.peakRssMiB)} MiB`,
        );
      } finally {
        await fixture.close();
        await bench.drop();
      }
    }
  } finally {
    await sink.close();
  }
  report({
    title: 'Priority lane: transactional email during a campaign',
    table: {
      columns: ['engine', 'campaign', 'transactional sent', '202 → sink', 'target', 'campaign alone (A)', 'campaign with transactional (B)', 'B / A'],
      rows,
    },
    notes: [
      'A worker process (default options: 2 campaign loops × 10 sends, the priority lane with 10 sends over 2 connections of its own, polling every 25 ms) delivers the campaign to a local SMTP sink in another process; the API runs in the benchmark process, so the lane finds the emails by polling, not by the in-process nudge.',
      'Latency is from the 202 of `POST /emails/send` to the sink accepting the message (end of DATA), both stamped with this machine\'s wall clock.',
      'The floor for B / A is 1 − the transactional share of the messages sent during B: the campaign may slow by no more than the work added.',
      ...notes,
    ],
  });
}

runIfMain(import.meta.url, main);
