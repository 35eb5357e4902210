/**
 * Benchmark 8 — webhook delivery. Events delivered per second by the webhook
 * dispatcher (claim endpoints, send each one's deliveries one at a time,
 * record every outcome under the lease) to a local receiver, against a bare
 * HTTP client posting the same signed bodies with the same shape of
 * concurrency (one request in flight per endpoint, endpoints in parallel,
 * keep-alive) and no database: the same-run baseline.
 *
 *   node --import tsx bench/webhooks.ts     (BENCH_WEBHOOK_EVENTS, default min(scale / 10, 5000))
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DatabaseConfig } from '../src/config.js';
import { transactionOf, openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { eventLogOf } from '../src/events/event-log.js';
import { createContainer } from '../src/container.js';
import { createRepositories } from '../src/repositories.js';
import { webhookSignature } from '../src/webhooks/webhook-signature.js';
import { BENCH_SECRET, fmtInt, fmtRatio, log, report, runIfMain, settings, sleep, type Engine } from './lib/common.js';
import { createBenchDatabase } from './lib/db.js';
import { BENCH_RATE_LIMIT, createTenant } from './lib/setup.js';

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? Math.min(Math.floor(settings.scale / 10), 5000));
const ENDPOINT_COUNTS = [1, 8];

interface Receiver {
  url: string;
  count: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver = { url: '', count: 0, close: async () => {} };
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      receiver.count++;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return receiver;
}

/** The baseline: each endpoint's bodies posted one after another over a kept-alive connection, endpoints in parallel. */
async function bareClient(url: string, perEndpoint: { id: string; secret: string; bodies: { id: string; type: string; payload: string }[] }[]): Promise<void> {
  await Promise.all(
    perEndpoint.map(async ({ secret, bodies }) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (const body of bodies) {
          const bytes = Buffer.from(body.payload);
          await new Promise<void>((resolve, reject) => {
            const req = http.request(`${url}/bare`, {
              method: 'POST',
              agent,
              headers: {
                'Content-Type': 'application/json',
                'Content-Length': String(bytes.length),
                'User-Agent': 'MailingCore-Webhook/1.0',
                'X-MailingCore-Event': body.type,
                'X-MailingCore-Delivery-Id': body.id,
                'X-MailingCore-Signature': webhookSignature(bytes, secret, Date.now() / 1000),
              },
            });
            req.on('error', reject);
            req.on('response', (res) => {
              res.resume();
              res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
            });
            req.end(bytes);
          });
        }
      } finally {
        agent.destroy();
      }
    }),
  );
}

async function measure(engine: Engine, endpoints: number): Promise<string[]> {
  const bench = await createBenchDatabase(engine);
  const database = openDatabase(bench.config as DatabaseConfig, { poolSize: 10 });
  const receiver = await startReceiver();
  try {
    await migrateToLatest(database);
    const container = createContainer(database, { secret: BENCH_SECRET, outbound: { webhookAllowPrivate: true }, rateLimit: BENCH_RATE_LIMIT });
    try {
      const tenant = await createTenant(container, 1_000_000);
      const secrets = new Map<string, string>();
      for (let i = 0; i < endpoints; i++) {
        const created = await container.webhooks.create(tenant.tenantId, { url: `${receiver.url}/hook${i}`, events: ['contact.unsubscribed'] });
        secrets.set(created.id, created.secret);
      }
      // The events, recorded as the application records them (each queues one delivery per endpoint).
      const perEndpointEvents = Math.ceil(EVENTS / endpoints);
      const eventLog = eventLogOf(createRepositories(database));
      const transaction = transactionOf(database.db);
      for (let i = 0; i < perEndpointEvents; i += 500) {
        const at = new Date().toISOString();
        const batch = Array.from({ length: Math.min(500, perEndpointEvents - i) }, (_, j) => ({
          type: 'contact.unsubscribed' as const,
          tenantId: tenant.tenantId,
          at,
          data: { contactId: null, email: `person${i + j}@bench.example`, externalId: null, locale: 'en', campaignId: null, how: 'api' },
        }));
        await transaction((trx) => eventLog.in(trx).record(batch));
      }
      const total = perEndpointEvents * endpoints;

      // The same bodies, for the bare client.
      const rows = await database.db.selectFrom('webhook_deliveries').select(['id', 'endpoint_id', 'event_type', 'payload']).orderBy('id').execute();
      const perEndpoint = [...secrets.entries()].map(([id, secret]) => ({
        id,
        secret,
        bodies: rows.filter((r) => r.endpoint_id === id).map((r) => ({ id: r.id, type: r.event_type, payload: r.payload })),
      }));
      let started = performance.now();
      await bareClient(receiver.url, perEndpoint);
      const bareMs = performance.now() - started;
      receiver.count = 0;

      const dispatcher = container.createWebhookDispatcher({ idlePollMs: 10 });
      started = performance.now();
      dispatcher.start();
      for (;;) {
        if (receiver.count >= total) {
          const open = await database.db
            .selectFrom('webhook_deliveries')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('status', '<>', 'delivered')
            .executeTakeFirstOrThrow();
          if (Number(open.n) === 0) break;
        }
        await sleep(5);
      }
      const dispatcherMs = performance.now() - started;
      await dispatcher.stop();
      const rate = (ms: number) => `${fmtInt((total * 1000) / ms)}/s`;
      log(`webhooks ${engine} ×${endpoints}: dispatcher ${dispatcherMs.toFixed(0)} ms, bare ${bareMs.toFixed(0)} ms for ${total}`);
      return [engine, String(endpoints), fmtInt(total), rate(dispatcherMs), rate(bareMs), fmtRatio(dispatcherMs / bareMs)];
    } finally {
      await container.close();
    }
  } finally {
    await receiver.close();
    await bench.drop();
  }
}

export async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const engine of settings.engines) {
    for (const endpoints of ENDPOINT_COUNTS) rows.push(await measure(engine, endpoints));
  }
  report({
    title: 'Webhook delivery',
    table: {
      columns: ['engine', 'endpoints', 'deliveries', 'MailingCore: dispatcher', 'baseline: bare HTTP client', 'time ratio'],
      rows,
    },
    notes: [
      'deliveries of `contact.unsubscribed` events recorded through the event log, to a local receiver (127.0.0.1, plain http, answers 200 at once), in the same process as the sender',
      'MailingCore: one dispatcher (`createWebhookDispatcher`, up to 32 endpoints at a time, each endpoint one request in flight over a kept-alive connection, every outcome recorded under the endpoint lease before the next delivery is read), timed until every delivery is recorded as delivered',
      'baseline: the same signed bodies posted by Node’s http client with the same concurrency (one in flight per endpoint, endpoints in parallel, keep-alive), no database',
      'the difference is the dispatcher’s bookkeeping per delivery: the next due delivery read just before it is sent, its outcome recorded under the lease before the next is read',
    ],
  });
}

runIfMain(import.meta.url, main);
