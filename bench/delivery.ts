/**
 * Benchmark 2 — delivery. N = min(BENCH_SCALE, 100 000) queued messages of a
 * three-locale campaign whose SMTP project points at a local sink running in
 * another process (bench/sink-process.ts). Measured: the real DeliveryWorker
 * (container.createWorker(), default options) in a fresh process, from
 * start() until the campaign is SENT. Baseline, in the same run: Nodemailer
 * alone (createSmtpTransport, the same pool size) sending N pre-rendered
 * messages of the same size to the same sink, with as many sends in flight
 * as the worker allows (loops × sendConcurrency).
 *
 *   node --import tsx bench/delivery.ts          (BENCH_SCALE, BENCH_ENGINES)
 */
import { performance } from 'node:perf_hooks';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type { DatabaseConfig } from '../src/config.js';
import { createContainer } from '../src/container.js';
import { openDatabase } from '../src/db/database.js';
import { composeEmail } from '../src/delivery/compose.js';
import { createSmtpTransport } from '../src/net/smtp-transport.js';
import { DEFAULTS } from '../src/config.js';
import { ProjectRepository } from '../src/projects/project.repository.js';
import { TemplateRenderer } from '../src/templates/render.js';
import { TemplateRepository } from '../src/templates/template.repository.js';
import { buildContext } from '../src/templates/render.js';
import { createUnsubscribeToken } from '../src/unsubscribe/token.js';
import {
  BENCH_OUTBOUND, BENCH_SECRET, fmtInt, fmtMiB, fmtMs, fmtRatio, runIfMain, log, peakRssMiB, report, runChild, settings, sleep, startSink, verdict,
  type ChildResult,
} from './lib/common.js';
import { contactsToQueue, freshDatabase, seedContacts, warm } from './lib/db.js';
import { BENCH_RATE_LIMIT, createTenant, openApp, publishedTemplate, queueCampaign, smtpProject } from './lib/setup.js';
import type { ChildContext } from './child.js';

export const DELIVERY_TARGET = 0.7;
/** Pooled SMTP connections per transport: the TransportRegistry's default (createSmtpTransport's). */
const POOL_SIZE = 5;
const IN_FLIGHT = DEFAULTS.sending.loops * DEFAULTS.sending.sendConcurrency;
const PUBLIC_URL = 'https://mail.acme.example';

interface DeliveryAppParams {
  config: DatabaseConfig;
  campaignId: string;
  expected: number;
  /**
   * Once the campaign is SENT, tell the parent (`{ms}`) and keep the worker
   * delivering until it sends a command (the priority-lane benchmark: emails
   * accepted at the last moment still go out).
   */
  untilStopped?: boolean;
}

interface DeliveryResult extends ChildResult {
  ms: number;
  sent: number;
}

/** Child role: the real worker, started, until the campaign is SENT (and, `untilStopped`, until the parent says so). */
export async function deliveryApp(params: DeliveryAppParams, ctx: ChildContext): Promise<DeliveryResult> {
  const database = openDatabase(params.config, { poolSize: 10 });
  const container = createContainer(database, {
    secret: BENCH_SECRET,
    delivery: { publicUrl: PUBLIC_URL },
    rateLimit: BENCH_RATE_LIMIT,
    outbound: BENCH_OUTBOUND,
  });
  const worker = container.createWorker();
  const started = performance.now();
  worker.start();
  let row: { status: string; sent_count: number; failed_count: number };
  for (;;) {
    row = await database.db
      .selectFrom('campaigns')
      .select(['status', 'sent_count', 'failed_count'])
      .where('id', '=', params.campaignId)
      .executeTakeFirstOrThrow();
    if (row.status !== 'SENDING') break;
    await sleep(20);
  }
  const ms = performance.now() - started;
  if (params.untilStopped) {
    ctx.emit({ ms });
    await ctx.command();
  }
  await worker.stop();
  await container.close();
  if (row.status !== 'SENT' || row.sent_count !== params.expected) {
    throw new Error(`campaign ended ${row.status} with ${row.sent_count} sent, ${row.failed_count} failed; expected ${params.expected} sent`);
  }
  return { ms, sent: row.sent_count, peakRssMiB: peakRssMiB() };
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
  const n = Math.min(settings.scale, 100_000);
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
        const baseVersionId = await publishedTemplate(app, tenant);
        const projectId = await smtpProject(app, tenant, sink.port);
        await seedContacts(database, tenant.tenantId, contacts);
        await warm(database);
        const campaignId = await queueCampaign(fixture, tenant, { templateVersionId: baseVersionId, projectId }, n);
        log(`${engine}: ${fmtInt(n)} messages queued; delivering through the worker`);

        // The same emails, rendered once per locale as the worker renders them, for the baseline.
        const project = (await new ProjectRepository(database.db).getById(tenant.tenantId, projectId))!;
        const sender = { fromEmail: project.from_email, fromName: project.from_name, replyTo: project.reply_to };
        const variants = await new TemplateRepository(database.db, database.dialect).publishedVariants(tenant.tenantId, baseVersionId);
        const sampleContacts = await database.db.selectFrom('contacts').select('id').where('tenant_id', '=', tenant.tenantId).limit(3).execute();
        const renderer = new TemplateRenderer();
        const mails: Mail.Options[] = [];
        for (const [i, v] of variants.entries()) {
          const contactId = sampleContacts[i % sampleContacts.length]!.id;
          const unsubscribeUrl = `${PUBLIC_URL}/u/${createUnsubscribeToken(BENCH_SECRET, { tenantId: tenant.tenantId, contactId, campaignId })}`;
          const rendered = await renderer.render(
            { id: v.id, subject: v.subject, htmlBody: v.html_body, textBody: v.text_body },
            buildContext({
              contact: { email: `contact${i}@bench.example`, locale: v.locale, externalId: null, attributes: { first_name: `Name${i}`, last_name: 'Surname1', plan: 'pro', score: 42 } },
              unsubscribeUrl,
            }),
          );
          mails.push(composeEmail({ messageKey: `baseline.${i}`, to: `contact${i}@bench.example`, sender, rendered, unsubscribeUrl }));
        }

        await sink.reset();
        const appResult = await runChild<DeliveryResult>('delivery-app', { config: bench.config, campaignId, expected: n } satisfies DeliveryAppParams);
        const appSink = await sink.count();
        if (appSink.accepted !== n) throw new Error(`the sink accepted ${appSink.accepted} messages from the worker, expected ${n}`);
        log(`${engine}: worker ${fmtMs(appResult.ms)}; Nodemailer alone next`);

        await sink.reset();
        const baseResult = await runChild<DeliveryResult>('delivery-baseline', { port: sink.port, count: n, mails } satisfies DeliveryBaselineParams);
        const baseSink = await sink.count();
        if (baseSink.accepted !== n) throw new Error(`the sink accepted ${baseSink.accepted} messages from Nodemailer, expected ${n}`);

        const appRate = (n / appResult.ms) * 1000;
        const baseRate = (n / baseResult.ms) * 1000;
        const ratio = appRate / baseRate;
        rows.push([
          engine,
          fmtInt(n),
          `${fmtInt(appRate)} msg/s (${fmtMs(appResult.ms)})`,
          `${fmtInt(baseRate)} msg/s (${fmtMs(baseResult.ms)})`,
          fmtRatio(ratio),
          `≥ ${DELIVERY_TARGET}×: ${verdict(ratio >= DELIVERY_TARGET)}`,
          fmtMiB(appResult.peakRssMiB),
          fmtMiB(baseResult.peakRssMiB),
        ]);
        notes.push(
          `${engine}: average message ${fmtInt(appSink.bytes / n)} bytes from the worker, ${fmtInt(baseSink.bytes / n)} bytes from Nodemailer alone`,
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
}

runIfMain(import.meta.url, main);
