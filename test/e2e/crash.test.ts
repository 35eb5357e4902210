import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { monthOf } from '../../src/quota/quota.js';
import { assertBuilt, runCli, startCliServer } from '../helpers/cli.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { ProcessGroup, type ChildHandle, type WorkerHandle } from '../helpers/processes.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Crash tests: real processes of the built CLI (`serve` for the API,
 * `worker` for delivery) on both databases, a real (slow) SMTP sink, and
 * workers killed with SIGKILL mid-campaign. Whatever dies, every recipient
 * gets the campaign, and only a killed worker's in-flight batches may be
 * sent twice (their outcomes were never recorded). The chaos run also
 * delivers one `email.sent` webhook per recipient to a local receiver: every
 * one arrives, and a kill can repeat at most the one delivery in flight to
 * the endpoint, with the same delivery id.
 */

/** WORKER_BATCH_SIZE of the workers; CHAOS_BATCH_SIZE=100 (the default of production) shows what a crash costs at that size. */
const BATCH_SIZE = Number(process.env.CHAOS_BATCH_SIZE ?? 20);
const LOOPS = 2; // WORKER_CONCURRENCY: claim → send → record loops per worker process
const LEASE_MS = 3000;
/** `npm run chaos` raises these (CHAOS_RECIPIENTS, CHAOS_KILLS, CHAOS_WORKERS, CHAOS_BATCH_SIZE) for a larger run. */
const KILLS = Number(process.env.CHAOS_KILLS ?? 4);
/**
 * Per-message delay of the sink (each worker process sends over 5 pooled
 * connections): even on an idle machine a campaign takes ≥ 6 s, so the kills
 * land mid-send. On a loaded one, CPU is the limit and it takes longer.
 */
const sinkDelayMs = (dialect: string) => (dialect === 'sqlite' ? 15 : 20);
const DOMAIN = 'crash.test';

interface CampaignView {
  id: string;
  status: string;
  counters: { total: number; queued: number; sent: number; failed: number; cancelled: number; skipped: { quota: number; suppressed: number } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DIALECTS)('crash recovery with real processes (%s)', (dialect) => {
  const N = Number(process.env.CHAOS_RECIPIENTS ?? (dialect === 'sqlite' ? 1200 : 1800));
  const WORKERS = dialect === 'sqlite' ? 1 : Number(process.env.CHAOS_WORKERS ?? 2);

  let testDb: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  let workerEnv: Record<string, string>;
  let db: Database;
  let sink: SmtpSink;
  let receiver: WebhookReceiver;
  let group: ProcessGroup;
  let api: { url: string; handle: ChildHandle };
  let headers: Record<string, string>;
  let tenantId: string;
  let templateVersionId: string;
  let projectId: string;
  const emails = Array.from({ length: N }, (_, i) => `r${String(i).padStart(5, '0')}@${DOMAIN}`);
  // The SIGTERM and API-kill tests each send to a quarter of the contacts (attribute `part`), to save time.
  type Part = 'q0' | 'q1' | 'q2' | 'q3';
  const partOf = (i: number) => `q${i % 4}` as Part;
  const quarter = (part: Part) => emails.filter((_, i) => partOf(i) === part);

  async function call(method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`${api.url}${url}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }

  async function startApi(): Promise<void> {
    const server = await startCliServer('serve', env);
    api = { url: server.url, handle: group.adopt(server, 'api') };
  }

  async function newCampaign(name: string, part?: Part): Promise<string> {
    const audience = part ? { audienceFilter: { attributes: { part } } } : {};
    const res = await call('POST', '/campaigns', { name, templateVersionId, projectId, ...audience });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return res.json.id as string;
  }

  async function getCampaign(id: string): Promise<CampaignView> {
    const res = await call('GET', `/campaigns/${id}`);
    expect(res.status).toBe(200);
    return res.json as CampaignView;
  }

  /** Generous: on a loaded 2-core machine a campaign of 3000 may take a minute. */
  async function waitUntilSent(id: string, timeoutMs = Math.max(120_000, N * 60)): Promise<CampaignView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const campaign = await getCampaign(id);
      if (campaign.status === 'SENT') return campaign;
      if (Date.now() > deadline) throw new Error(`campaign ${id} is still ${campaign.status} after ${timeoutMs} ms: ${JSON.stringify(campaign.counters)}`);
      await sleep(250);
    }
  }

  /** The sink's copies of one campaign's emails, by Message-ID `<campaignId.messageId@domain>`. */
  function received(campaignId: string, recipients: string[]) {
    const prefix = `<${campaignId}.`;
    const byMessage = new Map<string, number>();
    const byRecipient = new Map<string, number>();
    for (const m of sink.messages) {
      const messageId = String(m.headers.get('message-id') ?? '');
      if (!messageId.startsWith(prefix)) continue;
      expect(messageId).toMatch(new RegExp(`^<${campaignId}\\.\\d+@${DOMAIN.replace('.', '\\.')}>$`));
      byMessage.set(messageId, (byMessage.get(messageId) ?? 0) + 1);
      for (const to of m.envelope.to) byRecipient.set(to, (byRecipient.get(to) ?? 0) + 1);
    }
    const copies = [...byRecipient.values()].reduce((a, b) => a + b, 0);
    const missing = recipients.filter((e) => !byRecipient.has(e));
    const duplicated = [...byRecipient.entries()].filter(([, n]) => n > 1);
    const expected = new Set(recipients);
    const strangers = [...byRecipient.keys()].filter((e) => !expected.has(e));
    return { byMessage, byRecipient, copies, missing, duplicated, strangers };
  }

  /** Emails of a campaign the sink has received so far (a running tally: it is polled every 20 ms). */
  const tally = new Map<string, number>();
  let tallied = 0;
  const countReceived = (campaignId: string) => {
    for (; tallied < sink.messages.length; tallied++) {
      const campaign = /^<([^.>]+)\./.exec(String(sink.messages[tallied]!.headers.get('message-id') ?? ''))?.[1];
      if (campaign) tally.set(campaign, (tally.get(campaign) ?? 0) + 1);
    }
    return tally.get(campaignId) ?? 0;
  };

  async function messageStatuses(campaignId: string): Promise<Record<string, number>> {
    const rows = await db.db
      .selectFrom('messages')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', campaignId)
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async function attemptsOf(campaignId: string): Promise<Map<number, number>> {
    const rows = await db.db.selectFrom('messages').select(['id', 'attempts']).where('campaign_id', '=', campaignId).execute();
    return new Map(rows.map((r) => [Number(r.id), r.attempts]));
  }

  /** On failure, the tail of every child's output explains what the processes saw. */
  function dumpOnFailure(handles: () => ChildHandle[]) {
    onTestFailed(() => {
      for (const h of handles()) console.log(`--- ${h.name} (pid ${h.pid}) ---\n${h.output().slice(-4000)}`);
    });
  }

  beforeAll(async () => {
    assertBuilt();
    group = new ProcessGroup();
    testDb = await createTestDatabase(dialect);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailingcore-crash-'));
    const url = testDb.config.dialect === 'sqlite' ? `sqlite:${testDb.config.file}` : testDb.config.url;
    // The API is asked for a receipt every 25 ms during the chaos run: no per-key rate limit in the way.
    env = { DATABASE_URL: url, DATA_DIR: dataDir, LOG_LEVEL: 'warn', MAILINGCORE_SECRET: 's'.repeat(40), FANOUT_LEASE_MS: '2000', RATE_LIMIT_MAX: '1000000' };
    workerEnv = {
      ...env,
      LOG_LEVEL: 'info',
      WORKER_LEASE_MS: String(LEASE_MS),
      WORKER_BATCH_SIZE: String(BATCH_SIZE),
      WORKER_CONCURRENCY: String(LOOPS),
    };

    const migrate = runCli(['migrate'], env);
    expect(migrate.status, migrate.stderr).toBe(0);
    const created = runCli(['tenants', 'create', '--name', 'Crash', '--quota', '1000000', '--json'], env);
    expect(created.status, created.stderr).toBe(0);
    const { tenant, apiKey } = JSON.parse(created.stdout) as { tenant: { id: string }; apiKey: string };
    tenantId = tenant.id;
    headers = { authorization: `Bearer ${apiKey}`, 'x-tenant-id': tenantId };

    sink = await startSmtpSink({ delayMs: sinkDelayMs(dialect), parse: false });
    receiver = await startWebhookReceiver();
    await startApi();
    db = openDatabase(testDb.config, { poolSize: 2 });

    for (let i = 0; i < N; i += 1000) {
      const contacts = emails.slice(i, i + 1000).map((email, j) => ({ email, optIn: true, attributes: { part: partOf(i + j) } }));
      const res = await call('POST', '/contacts/bulk', { contacts });
      expect(res.status, JSON.stringify(res.json).slice(0, 500)).toBe(200);
      expect(res.json.failed).toBe(0);
    }
    const template = await call('POST', '/templates', {
      name: 'Crash newsletter',
      subject: 'Still here',
      htmlBody: '<p>Hello {{ email }}</p><a href="{{ unsubscribeUrl }}">Unsubscribe</a>',
      locale: 'en',
    });
    expect(template.status, JSON.stringify(template.json)).toBe(201);
    templateVersionId = template.json.versions[0].id as string;
    const published = await call('POST', `/templates/${template.json.id}/versions/${templateVersionId}/publish`);
    expect(published.status, JSON.stringify(published.json)).toBe(200);
    const project = await call('POST', '/projects', {
      name: 'Slow sink',
      smtp: { host: '127.0.0.1', port: sink.port, secure: false },
      fromEmail: `news@${DOMAIN}`,
      fromName: 'Crash News',
    });
    expect(project.status, JSON.stringify(project.json)).toBe(201);
    projectId = project.json.id as string;
  });

  // Whatever happened in a test, no worker survives into the next one.
  afterEach(async () => {
    await Promise.all(group.running().filter((c) => c.name !== 'api').map((c) => c.kill('SIGKILL')));
  });

  afterAll(async () => {
    await group?.dispose();
    await db?.close();
    await sink?.close();
    await receiver?.close();
    await testDb?.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it(`delivers to every recipient while workers are SIGKILLed and replaced (${KILLS} kills)`, async () => {
    const workers: WorkerHandle[] = [];
    dumpOnFailure(() => [api.handle, ...workers]);
    const endpoint = await call('POST', '/webhooks/endpoints', { url: `${receiver.url}/crash`, events: ['email.sent'] });
    expect(endpoint.status, JSON.stringify(endpoint.json)).toBe(201);
    receiver.secret = endpoint.json.secret as string;
    const id = await newCampaign('Chaos');
    const sent = await call('POST', `/campaigns/${id}/send`);
    expect(sent.status, JSON.stringify(sent.json)).toBe(202);
    const started = Date.now();

    for (let i = 0; i < WORKERS; i++) workers.push(group.startWorker(workerEnv));
    await Promise.all(workers.map((w) => w.ready));

    // Transactional emails all along (the priority lane of every worker): a receipt every 25 ms until the campaign is SENT.
    const receipts: string[] = [];
    let campaignDone = false;
    const receiptSender = (async () => {
      for (let i = 0; !campaignDone; i++) {
        const to = `tx-${i}@${DOMAIN}`;
        const res = await call('POST', '/emails/send', { to, subject: `Receipt ${i}`, htmlBody: `<p>Order ${i}</p>`, projectId, fromEmail: `news@${DOMAIN}` });
        expect(res.status, JSON.stringify(res.json)).toBe(202);
        receipts.push(to);
        await sleep(25);
      }
    })().catch((error: unknown) => error); // awaited (and thrown) once the campaign is SENT

    // Chaos: SIGKILL the longest-running live worker and start a replacement, every 1–1.5 s
    // but no sooner than every N/(KILLS+2) emails, so the kills spread over the campaign
    // whatever the machine's speed and each one lands on a worker that is sending.
    let kills = 0;
    const killedAt: number[] = [];
    let last = { at: Date.now(), delivered: 0 };
    for (let k = 1; k <= KILLS; k++) {
      const gap = 1000 + Math.floor(Math.random() * 500);
      const threshold = Math.max(Math.floor((k * N) / (KILLS + 2)), last.delivered + BATCH_SIZE);
      const deadline = Date.now() + 45_000;
      while (Date.now() - last.at < gap || countReceived(id) < threshold) {
        if (Date.now() > deadline) throw new Error(`no progress before kill ${k}: ${countReceived(id)} of ${N} delivered`);
        await sleep(20);
      }
      const delivered = countReceived(id);
      expect(delivered, `the campaign finished before kill ${k}: make the sink slower`).toBeLessThan(N);
      const victim = workers.find((w) => w.running())!;
      const exit = await victim.kill('SIGKILL');
      expect(exit.signal).toBe('SIGKILL');
      kills++;
      killedAt.push(delivered);
      last = { at: Date.now(), delivered };
      workers.push(group.startWorker(workerEnv));
    }

    const campaign = await waitUntilSent(id);
    campaignDone = true;
    const receiptFailure = await receiptSender;
    if (receiptFailure) throw receiptFailure;
    const seconds = (Date.now() - started) / 1000;
    const got = received(id, emails);
    const attempts = await attemptsOf(id);
    const reclaimed = [...attempts.values()].filter((a) => a > 1).length;
    const extraCopies = got.copies - N;
    console.log(
      `[crash ${dialect}] chaos: recipients=${N} workers=${WORKERS}×${LOOPS} loops batch=${BATCH_SIZE} kills=${kills} ` +
        `(at ${killedAt.join('/')} delivered) duplicates=${got.duplicated.length} (${(got.duplicated.length / Math.max(1, kills)).toFixed(1)} per kill) extraCopies=${extraCopies} ` +
        `lost=${got.missing.length} reclaimedMessages=${reclaimed} time=${seconds.toFixed(1)}s`,
    );

    expect(got.strangers).toEqual([]);
    expect(got.missing, 'recipients who never got the campaign').toEqual([]);
    expect(got.byRecipient.size).toBe(N);
    expect(got.byMessage.size).toBe(N); // one Message-ID per recipient
    // Only what a killed worker had in flight (one batch per loop) can go out twice.
    const inFlightBound = kills * LOOPS * BATCH_SIZE;
    expect(got.duplicated.length).toBeLessThanOrEqual(inFlightBound);
    expect(extraCopies).toBeLessThanOrEqual(inFlightBound);
    // …and each of those was claimed again after its lease ran out.
    for (const [messageId] of got.byMessage.entries()) {
      if (got.byMessage.get(messageId)! > 1) {
        const numeric = Number(/\.(\d+)@/.exec(messageId)![1]);
        expect(attempts.get(numeric), `${messageId} was sent twice but claimed once`).toBeGreaterThan(1);
      }
    }
    expect(campaign.counters).toMatchObject({ total: N, queued: 0, sent: N, failed: 0, cancelled: 0 });
    expect(await messageStatuses(id)).toEqual({ SENT: N });

    // Every receipt accepted while workers died was sent: none lost, repeats only what a killed lane had claimed.
    const receiptDeadline = Date.now() + 60_000;
    const unsent = async () =>
      Number(
        (
          await db.db
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('tenant_id', '=', tenantId)
            .where('stream', '=', 'transactional')
            .where('status', '!=', 'SENT')
            .executeTakeFirstOrThrow()
        ).n,
      );
    while ((await unsent()) > 0) {
      if (Date.now() > receiptDeadline) throw new Error(`${await unsent()} transactional emails not SENT after 60 s`);
      await sleep(250);
    }
    const receiptCopies = new Map<string, number>();
    for (const m of sink.messages) for (const to of m.envelope.to) if (to.startsWith('tx-')) receiptCopies.set(to, (receiptCopies.get(to) ?? 0) + 1);
    const repeatedReceipts = [...receiptCopies.values()].filter((n) => n > 1).length;
    console.log(`[crash ${dialect}] transactional: accepted=${receipts.length} received=${receiptCopies.size} repeated=${repeatedReceipts}`);
    expect(receipts.length).toBeGreaterThan(0);
    expect(receipts.filter((to) => !receiptCopies.has(to)), 'receipts never delivered').toEqual([]);
    expect(repeatedReceipts).toBeLessThanOrEqual(kills * (BATCH_SIZE / 2)); // the priority lane holds one half batch
    // Lease renewal and outcome writes never wait on each other (they used to deadlock on PostgreSQL).
    for (const w of workers) expect(w.output(), w.name).not.toContain('deadlock');

    // Webhooks: one email.sent delivery per recipient and receipt, each delivered; the receiver verified every copy.
    const deliveriesOf = async () => {
      const rows = await db.db.selectFrom('webhook_deliveries').select(['id', 'status']).where('endpoint_id', '=', endpoint.json.id).execute();
      return { total: rows.length, open: rows.filter((r) => r.status !== 'delivered').length, ids: new Set(rows.map((r) => r.id)) };
    };
    const hooksDeadline = Date.now() + 120_000;
    let hooks = await deliveriesOf();
    const sentEvents = N + receipts.length; // the receipts' email.sent too
    while (hooks.total < sentEvents || hooks.open > 0) {
      if (Date.now() > hooksDeadline) throw new Error(`webhooks: ${hooks.total} queued, ${hooks.open} not delivered after 120 s`);
      await sleep(250);
      hooks = await deliveriesOf();
    }
    const counts = receiver.countsByDelivery();
    const unverified = receiver.received.filter((r) => !r.event);
    const hookCopies = [...counts.values()].reduce((a, b) => a + b, 0);
    const repeated = [...counts.entries()].filter(([, n]) => n > 1);
    console.log(`[crash ${dialect}] webhooks: deliveries=${hooks.total} received=${hookCopies} repeated=${repeated.length} unverified=${unverified.length}`);
    expect(hooks.total).toBe(sentEvents);
    expect(unverified).toEqual([]);
    expect([...hooks.ids].filter((deliveryId) => !counts.has(deliveryId)), 'deliveries that never arrived').toEqual([]);
    expect([...counts.keys()].filter((deliveryId) => !hooks.ids.has(deliveryId))).toEqual([]);
    // One endpoint: a killed worker had at most one delivery to it in flight.
    expect(hookCopies - sentEvents).toBeLessThanOrEqual(kills);
    for (const [deliveryId] of repeated) {
      const bodies = new Set(receiver.received.filter((r) => r.deliveryId === deliveryId).map((r) => r.rawBody));
      expect(bodies.size, `${deliveryId} was sent twice with different bodies`).toBe(1);
    }
    const emailsByHook = new Set(receiver.received.map((r) => r.event!.data.email as string));
    expect(emails.filter((e) => !emailsByHook.has(e))).toEqual([]);
    expect((await call('DELETE', `/webhooks/endpoints/${endpoint.json.id}`)).status).toBe(204);
  }, Math.max(180_000, Number(process.env.CHAOS_RECIPIENTS ?? 0) * 100));

  it('SIGTERM: the worker exits 0 within seconds, leaves nothing leased, and a new worker finishes exactly once', async () => {
    const workers: WorkerHandle[] = [];
    dumpOnFailure(() => [api.handle, ...workers]);
    const recipients = quarter('q1');
    const M = recipients.length;
    const id = await newCampaign('Graceful', 'q1');
    expect((await call('POST', `/campaigns/${id}/send`)).status).toBe(202);
    const first = group.startWorker(workerEnv);
    workers.push(first);
    await first.ready;

    const deadline = Date.now() + 30_000;
    while (countReceived(id) < M / 4) {
      if (Date.now() > deadline) throw new Error(`only ${countReceived(id)} emails went out in 30 s`);
      await sleep(50);
    }
    const t0 = Date.now();
    const exit = await first.kill('SIGTERM');
    const stopMs = Date.now() - t0;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(stopMs).toBeLessThan(5000);

    // Nothing in flight, nothing leased; what went out is recorded, the rest is back in the queue with its attempt given back.
    const statuses = await messageStatuses(id);
    const leased = await db.db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('campaign_id', '=', id)
      .where((eb) => eb.or([eb('status', '=', 'SENDING'), eb('lease_owner', 'is not', null), eb('lease_expires_at', 'is not', null)]))
      .executeTakeFirstOrThrow();
    expect(Number(leased.n)).toBe(0);
    expect(statuses.SENDING).toBeUndefined();
    expect(statuses.QUEUED, 'the worker was stopped mid-campaign').toBeGreaterThan(0);
    expect(statuses.SENT).toBe(countReceived(id));
    const queuedAttempts = await db.db
      .selectFrom('messages')
      .select('attempts')
      .distinct()
      .where('campaign_id', '=', id)
      .where('status', '=', 'QUEUED')
      .execute();
    expect(queuedAttempts.map((r) => r.attempts)).toEqual([0]);
    const during = await getCampaign(id);
    expect(during.status).toBe('SENDING');
    console.log(`[crash ${dialect}] SIGTERM after ${statuses.SENT} of ${M} sent: exit 0 in ${stopMs} ms, ${statuses.QUEUED} re-queued, 0 left leased`);

    const second = group.startWorker(workerEnv);
    workers.push(second);
    const campaign = await waitUntilSent(id);
    const got = received(id, recipients);
    console.log(`[crash ${dialect}] SIGTERM: recipients=${M} kills=0 duplicates=${got.duplicated.length} lost=${got.missing.length}`);
    expect(got.strangers).toEqual([]);
    expect(got.missing).toEqual([]);
    expect(got.duplicated).toEqual([]);
    expect(got.copies).toBe(M);
    expect(got.byMessage.size).toBe(M);
    expect(campaign.counters).toMatchObject({ total: M, queued: 0, sent: M, failed: 0 });
    expect(await messageStatuses(id)).toEqual({ SENT: M });
    expect(new Set((await attemptsOf(id)).values())).toEqual(new Set([1]));
  }, 180_000);

  it('SIGKILL of the API process mid fan-out: a worker resumes the fan-out and sends to every recipient once', async () => {
    const workers: WorkerHandle[] = [];
    dumpOnFailure(() => [api.handle, ...workers]);
    const recipients = quarter('q2');
    const M = recipients.length;
    const id = await newCampaign('Orphaned fan-out', 'q2');
    const usedBefore = (await call('GET', '/usage')).json.used as number;

    // PostgreSQL: hold the tenant's usage row so the API's fan-out transaction
    // blocks inside (it locks that row first), making the kill land mid fan-out
    // every time. SQLite has no such hook: the kill lands whenever it lands.
    let blocker: pg.Client | undefined;
    if (testDb.config.dialect === 'postgres') {
      blocker = new pg.Client({ connectionString: testDb.config.url });
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query('INSERT INTO usage (tenant_id, month, used) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING', [tenantId, monthOf(new Date())]);
      await blocker.query('SELECT used FROM usage WHERE tenant_id = $1 AND month = $2 FOR UPDATE', [tenantId, monthOf(new Date())]);
    }
    try {
      const sent = await call('POST', `/campaigns/${id}/send`);
      expect(sent.status, JSON.stringify(sent.json)).toBe(202);
      if (blocker) {
        // Wait until the API's fan-out is waiting on the lock, i.e. inside its transaction.
        const until = Date.now() + 10_000;
        for (;;) {
          const waiting = await blocker.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
          );
          if (waiting.rows[0].n > 0) break;
          if (Date.now() > until) throw new Error('the fan-out never reached its transaction');
          await sleep(10);
        }
      }
      expect((await api.handle.kill('SIGKILL')).signal).toBe('SIGKILL');
    } finally {
      if (blocker) {
        await blocker.query('ROLLBACK');
        await blocker.end();
      }
    }

    const after = await db.db
      .selectFrom('campaigns')
      .select(['status', 'fanout_completed_at', 'fanout_lease_until'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(after.status).toBe('SENDING');
    const interrupted = after.fanout_completed_at === null;
    const queuedBeforeWorker = Object.values(await messageStatuses(id)).reduce((a, b) => a + b, 0);
    console.log(
      `[crash ${dialect}] API killed after 202: fan-out ${interrupted ? 'interrupted' : 'had already committed'} ` +
        `(lease ${after.fanout_lease_until ? 'held' : 'not taken'}, ${queuedBeforeWorker} messages queued)`,
    );
    if (dialect === 'postgres') {
      expect(interrupted).toBe(true);
      expect(after.fanout_lease_until).not.toBeNull(); // the dead process still holds the fan-out…
    }
    // The fan-out commits chunk by chunk: a dead one leaves whole chunks, each charged to the month's usage
    // (on PostgreSQL it died inside its first chunk, which left nothing).
    const usedByDeadFanOut = Number(
      (await db.db.selectFrom('usage').select('used').where('tenant_id', '=', tenantId).where('month', '=', monthOf(new Date())).executeTakeFirst())?.used ?? 0,
    ) - usedBefore;
    if (interrupted) expect(usedByDeadFanOut).toBe(queuedBeforeWorker);
    if (dialect === 'postgres') expect(queuedBeforeWorker).toBe(0);

    await startApi();
    const worker = group.startWorker(workerEnv);
    workers.push(worker);
    const campaign = await waitUntilSent(id);
    const got = received(id, recipients);
    console.log(`[crash ${dialect}] API kill: recipients=${M} duplicates=${got.duplicated.length} lost=${got.missing.length}`);
    expect(got.strangers).toEqual([]);
    expect(got.missing).toEqual([]);
    expect(got.duplicated).toEqual([]);
    expect(got.copies).toBe(M);
    expect(got.byMessage.size).toBe(M);
    expect(campaign.counters).toMatchObject({ total: M, queued: 0, sent: M, failed: 0, skipped: { quota: 0, suppressed: 0 } });
    expect(await messageStatuses(id)).toEqual({ SENT: M });
    // The dead fan-out's chunks and the resumed ones: the campaign counts once.
    expect((await call('GET', '/usage')).json.used).toBe(usedBefore + M);
    if (interrupted) expect(worker.output()).toContain('fan-out done');
  }, 180_000);
});
