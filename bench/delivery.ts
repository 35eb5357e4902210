/**
 * Benchmark 2 — delivery. N = BENCH_DELIVERY_MESSAGES (default min(BENCH_SCALE, 25 000)) queued messages of a
 * three-locale campaign whose SMTP project points at a local sink running in
 * another process (bench/sink-process.ts). Measured: the real DeliveryWorker
 * (container.createWorker(), default options) in a fresh process, from
 * start() until the campaign is SENT. The tenant's From domain is verified,
 * so every email is DKIM-signed, and the campaign tracks opens and clicks.
 * Baseline, in the same run: Nodemailer alone (createSmtpTransport, the same
 * pool size) sending N emails built once per locale by the worker's own
 * builder — the same bytes: tracked links, pixel, DKIM signed at send time —
 * to the same sink, with as many sends in flight as the worker allows
 * (loops × sendConcurrency).
 *
 *   node --import tsx bench/delivery.ts          (BENCH_SCALE, BENCH_ENGINES)
 */
import { performance } from 'node:perf_hooks';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type { DatabaseConfig } from '../src/config.js';
import { createContainer } from '../src/container.js';
import { openDatabase } from '../src/db/database.js';
import { CampaignMailBuilder } from '../src/delivery/campaign-mail.js';
import { createSmtpTransport } from '../src/net/smtp-transport.js';
import { DEFAULTS } from '../src/config.js';
import { ProjectRepository } from '../src/projects/project.repository.js';
import { TemplateRepository } from '../src/templates/template.repository.js';
import {
  BENCH_OUTBOUND, BENCH_SECRET, fmtInt, fmtMiB, fmtMs, fmtRatio, runIfMain, log, peakRssMiB, recordTarget, report, runChild, settings, sleep, startSink, verdict,
  type ChildResult,
} from './lib/common.js';
import { contactsToQueue, freshDatabase, seedContacts, warm } from './lib/db.js';
import { BENCH_RATE_LIMIT, createTenant, openApp, publishedTemplate, queueCampaign, smtpProject, verifiedDomain } from './lib/setup.js';
import type { ChildContext } from './child.js';

/** Issue 18: ≥ 0.85× of Nodemailer alone sending the same bytes; worker peak RSS ≤ 150 MB. */
export const DELIVERY_TARGET = 0.85;
export const DELIVERY_RSS_TARGET_MIB = 150;
/** Pooled SMTP connections per transport: the TransportRegistry's default (createSmtpTransport's). */
const POOL_SIZE = 5;
const IN_FLIGHT = DEFAULTS.sending.loops * DEFAULTS.sending.sendConcurrency;
export const PUBLIC_URL = 'https://mail.acme.example';

export interface DeliveryAppParams {
  config: DatabaseConfig;
  campaignId: string;
  expected: number;
  /** The outcome writes' grouping; the default one when absent (the per-batch side passes one write per claimed batch). */
  outcomeGroups?: { maxPending: number; maxDelayMs: number };
  /**
   * Stop once this many are sent, the campaign still SENDING (scaling: the cost per message of a slice of a large send);
   * then `ms` and `sent` count from the first sends seen, leaving the process's start-up out.
   */
  stopAfter?: number;
  /**
   * Once the campaign is SENT, tell the parent (`{ms}`) and keep the worker
   * delivering until it sends a command (the priority-lane benchmark: emails
   * accepted at the last moment still go out).
   */
  untilStopped?: boolean;
}

export interface DeliveryResult extends ChildResult {
  ms: number;
  sent: number;
}

/** Child role: the real worker, started, until the campaign is SENT (and, `untilStopped`, until the parent says so). */
export async function deliveryApp(params: DeliveryAppParams, ctx: ChildContext): Promise<DeliveryResult> {
  const database = openDatabase(params.config, { poolSize: 10 });
  const container = createContainer(database, {
    secret: BENCH_SECRET,
    ...(params.outcomeGroups ? { sending: { outcomeGroups: params.outcomeGroups } } : {}),
    delivery: { publicUrl: PUBLIC_URL },
    rateLimit: BENCH_RATE_LIMIT,
    outbound: BENCH_OUTBOUND,
  });
  const worker = container.createWorker();
  const started = performance.now();
  worker.start();
  let row: { status: string; sent_count: number; failed_count: number };
  /** When the first sends were seen (a slice is timed from there: the process's start-up left out). */
  let firstSeen: { at: number; sent: number } | undefined;
  for (;;) {
    row = await database.db
      .selectFrom('campaigns')
      .select(['status', 'sent_count', 'failed_count'])
      .where('id', '=', params.campaignId)
      .executeTakeFirstOrThrow();
    if (row.sent_count > 0) firstSeen ??= { at: performance.now(), sent: row.sent_count };
    if (row.status !== 'SENDING' || (params.stopAfter !== undefined && row.sent_count >= params.stopAfter)) break;
    await sleep(20);
  }
  const ms = performance.now() - started;
  const sliceMs = performance.now() - (firstSeen?.at ?? started);
  if (params.untilStopped) {
    ctx.emit({ ms });
    await ctx.command();
  }
  await worker.stop();
  await container.close();
  const slice = params.stopAfter !== undefined;
  if (slice ? row.sent_count < params.stopAfter! : row.status !== 'SENT' || row.sent_count !== params.expected) {
    throw new Error(`campaign ended ${row.status} with ${row.sent_count} sent, ${row.failed_count} failed; expected ${slice ? `at least ${params.stopAfter}` : params.expected} sent`);
  }
  return slice ? { ms: sliceMs, sent: row.sent_count - firstSeen!.sent, peakRssMiB: peakRssMiB() } : { ms, sent: row.sent_count, peakRssMiB: peakRssMiB() };
}

interface DeliveryBaselineParams {
  port: number;
  count: number;
  /** One pre-rendered email per locale; recipients and Message-IDs vary per send. */
  mails: Mail.Options[];
}

/** Child role: Nodemailer alone, the same pool, the same number of sends in flight. */
export async function deliveryBaseline(params: DeliveryBaselineParams): Promise<DeliveryResult> {
  const transport = createSmtpTransport({ host: '127.0.0.1', port: params.port, secure: false }, { maxConnections: POOL_SIZE });
  let next = 0;
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < params.count) {
        const i = next++;
        const mail = params.mails[i % params.mails.length]!;
        const info = await transport.sendMail({ ...mail, to: `contact${i}@bench.example`, messageId: `<baseline.${i}@acme.example>` });
        if (info.accepted.length === 1) sent += 1;
      }
    }),
  );
  const ms = performance.now() - started;
  transport.close();
  return { ms, sent, peakRssMiB: peakRssMiB() };
}

export async function main(): Promise<void> {
  const n = settings.deliveryMessages;
  const contacts = contactsToQueue(n);
  const rows: string[][] = [];
  const notes: string[] = [];
  const costRows: string[][] = [];
  const sink = await startSink();
  try {
    for (const engine of settings.engines) {
      const { bench, database } = await freshDatabase(engine);
      const fixture = await openApp(database, { publicUrl: PUBLIC_URL });
      try {
        const { app, container } = fixture;
        const tenant = await createTenant(container, contacts * 10);
        const baseVersionId = await publishedTemplate(app, tenant);
        const projectId = await smtpProject(app, tenant, sink.port);
        await verifiedDomain(fixture, tenant);
        await seedContacts(database, tenant.tenantId, contacts);
        await warm(database);
        const campaignId = await queueCampaign(fixture, tenant, { templateVersionId: baseVersionId, projectId, tracking: { opens: true, clicks: true } }, n);
        log(`${engine}: ${fmtInt(n)} messages queued; delivering through the worker`);

        // The same emails, built once per locale by the worker's own builder (tracked links and pixel, DKIM option), for the baseline.
        const project = (await new ProjectRepository(database.db).getById(tenant.tenantId, projectId))!;
        const sender = { fromEmail: project.from_email, fromName: project.from_name, replyTo: project.reply_to };
        const variants = await new TemplateRepository(database.db, database.dialect).publishedVariants(tenant.tenantId, baseVersionId);
        const sampleContacts = await database.db.selectFrom('contacts').select('id').where('tenant_id', '=', tenant.tenantId).limit(3).execute();
        const signingKeys = await fixture.container.deliveryStore.loadSigningKeys(tenant.tenantId);
        if (signingKeys.length !== 1) throw new Error(`expected the tenant's verified domain to sign, found ${signingKeys.length} keys`);
        const builder = new CampaignMailBuilder({ renderer: fixture.container.renderer, secret: BENCH_SECRET, publicUrl: PUBLIC_URL });
        const mails: Mail.Options[] = [];
        for (const [i, v] of variants.entries()) {
          const contact = sampleContacts[i % sampleContacts.length]!;
          mails.push(
            await builder.build({
              tenantId: tenant.tenantId,
              campaign: { id: campaignId, subject: null, name: 'Bench campaign' },
              senderId: projectId,
              version: { id: v.id, subject: v.subject, htmlBody: v.html_body, textBody: v.text_body },
              recipient: {
                email: `contact${i}@bench.example`,
                contact: { id: contact.id, locale: v.locale, externalId: null, attributes: { first_name: `Name${i}`, last_name: 'Surname1', plan: 'pro', score: 42 } },
              },
              sender,
              messageKey: `baseline.${i}`,
              messageId: i + 1,
              relayHost: '127.0.0.1',
              signingKeys,
              tracking: { messageId: i + 1, opens: true, clicks: true },
            }),
          );
        }

        await sink.reset();
        const appResult = await runChild<DeliveryResult>('delivery-app', { config: bench.config, campaignId, expected: n } satisfies DeliveryAppParams);
        const appSink = await sink.count();
        if (appSink.accepted !== n) throw new Error(`the sink accepted ${appSink.accepted} messages from the worker, expected ${n}`);
        log(`${engine}: worker ${fmtMs(appResult.ms)}; the same worker writing outcomes once per claimed batch next`);

        // Issue 18, target 6: what writing outcomes as sends finish (fewer duplicates after a crash) costs, against one write per claimed batch.
        const perBatchCampaignId = await queueCampaign(fixture, tenant, { templateVersionId: baseVersionId, projectId, tracking: { opens: true, clicks: true } }, n);
        await sink.reset();
        const perBatchGroups = { maxPending: DEFAULTS.sending.batchSize, maxDelayMs: 3_600_000 };
        const perBatch = await runChild<DeliveryResult>('delivery-app', { config: bench.config, campaignId: perBatchCampaignId, expected: n, outcomeGroups: perBatchGroups } satisfies DeliveryAppParams);
        if ((await sink.count()).accepted !== n) throw new Error('the sink did not accept every message of the per-batch run');
        log(`${engine}: per-batch outcome writes ${fmtMs(perBatch.ms)}; Nodemailer alone next`);

        await sink.reset();
        const baseResult = await runChild<DeliveryResult>('delivery-baseline', { port: sink.port, count: n, mails } satisfies DeliveryBaselineParams);
        const baseSink = await sink.count();
        if (baseSink.accepted !== n) throw new Error(`the sink accepted ${baseSink.accepted} messages from Nodemailer, expected ${n}`);

        const appRate = (n / appResult.ms) * 1000;
        const perBatchRate = (n / perBatch.ms) * 1000;
        const groupCost = 1 - appRate / perBatchRate;
        recordTarget({
          target: '6 duplicates after a crash: throughput cost of writing outcomes as sends finish',
          engine,
          figure: `${fmtInt(appRate)} msg/s (${(groupCost * 100).toFixed(1)} % slower)`,
          baseline: `outcomes written once per claimed batch: ${fmtInt(perBatchRate)} msg/s`,
          goal: '≤ 5 % slower',
          met: groupCost <= 0.05,
        });
        costRows.push([engine, `${fmtInt(appRate)} msg/s`, `${fmtInt(perBatchRate)} msg/s`, `${(groupCost * 100).toFixed(1)} %`, `≤ 5 %: ${verdict(groupCost <= 0.05)}`]);
        const baseRate = (n / baseResult.ms) * 1000;
        const ratio = appRate / baseRate;
        rows.push([
          engine,
          fmtInt(n),
          `${fmtInt(appRate)} msg/s (${fmtMs(appResult.ms)})`,
          `${fmtInt(baseRate)} msg/s (${fmtMs(baseResult.ms)})`,
          fmtRatio(ratio),
          `≥ ${DELIVERY_TARGET}×: ${verdict(ratio >= DELIVERY_TARGET)}`,
          `${fmtMiB(appResult.peakRssMiB)} (≤ ${DELIVERY_RSS_TARGET_MIB}: ${verdict(appResult.peakRssMiB <= DELIVERY_RSS_TARGET_MIB)})`,
          fmtMiB(baseResult.peakRssMiB),
        ]);
        recordTarget({
          target: '2 delivery, CPU-bound: throughput',
          engine,
          figure: `${fmtInt(appRate)} msg/s (${fmtRatio(ratio)})`,
          baseline: `Nodemailer alone, same bytes: ${fmtInt(baseRate)} msg/s`,
          goal: `≥ ${DELIVERY_TARGET}×`,
          met: ratio >= DELIVERY_TARGET,
        });
        recordTarget({
          target: '2 delivery, CPU-bound: worker peak RSS',
          engine,
          figure: fmtMiB(appResult.peakRssMiB),
          baseline: `Nodemailer alone ${fmtMiB(baseResult.peakRssMiB)}`,
          goal: `≤ ${DELIVERY_RSS_TARGET_MIB} MiB`,
          met: appResult.peakRssMiB <= DELIVERY_RSS_TARGET_MIB,
        });
        notes.push(
          `${engine}: average message ${fmtInt(appSink.bytes / n)} bytes from the worker, ${fmtInt(baseSink.bytes / n)} bytes from Nodemailer alone; DKIM-signed ${fmtInt(appSink.signed)} and ${fmtInt(baseSink.signed)}`,
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
    title: 'Delivery',
    table: {
      columns: ['engine', 'messages', 'MailingCore: DeliveryWorker', 'baseline: Nodemailer alone', 'ratio', 'target', 'peak RSS (worker process)', 'peak RSS (baseline process)'],
      rows,
    },
    notes: [
      `MailingCore: \`container.createWorker()\` with the default options (${DEFAULTS.sending.loops} loops × ${DEFAULTS.sending.sendConcurrency} sends in flight, each loop holding at most ${DEFAULTS.sending.batchSize} claimed messages, claimed in halves) in a fresh process: claim under a lease, send-time re-checks, LiquidJS render, compose, pooled SMTP (${POOL_SIZE} connections), outcomes recorded, campaign completed; timed from start() until the campaign is SENT`,
      `baseline: \`createSmtpTransport\` (${POOL_SIZE} pooled connections) sending the same number of pre-rendered emails (one per locale, recipient and Message-ID varied) with ${IN_FLIGHT} in flight, in a fresh process`,
      'sink: `smtp-server` in a separate process, accepting and counting (bench/sink-process.ts); both sides verified against its count',
      ...notes,
    ],
  });
  report({
    title: 'Delivery: what writing outcomes as sends finish costs (issue 18, target 6)',
    table: { columns: ['engine', 'outcomes written in groups as sends finish (default)', 'baseline: one write per claimed batch', 'cost', 'target'], rows: costRows },
    notes: [
      `the same worker, same run, same number of messages; the baseline's recorder waits for the claimed batch (maxPending ${DEFAULTS.sending.batchSize}), as the worker did before issue 18 — cheaper in writes, but a SIGKILL re-sends the whole batch's sent-but-unrecorded messages (\`npm run chaos\`: duplicates per kill)`,
    ],
  });
}

runIfMain(import.meta.url, main);
