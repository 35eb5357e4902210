import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { CampaignMailBuilder } from '../../src/delivery/campaign-mail.js';
import type { CampaignRef, ClaimedCampaignMessage, ClaimedMessage, DeliverableVersion, DeliveryStore, MessageOutcome, SendTimeState } from '../../src/delivery/delivery-store.js';
import type { Mailer } from '../../src/delivery/mailer.js';
import { RateLimiter } from '../../src/delivery/rate-limiter.js';
import { SEND_GATE_DEFAULTS, type SendGateOptions } from '../../src/delivery/send-gate.js';
import type { Route } from '../../src/delivery/transports.js';
import { DeliveryWorker, type WorkerOptions } from '../../src/delivery/worker.js';
import { TemplateRenderer } from '../../src/templates/render.js';

/**
 * The worker's scheduling logic against an in-memory DeliveryStore and a
 * recording Mailer: no database, no SMTP. What is claimed is sent at most
 * once, what must not be sent is recorded with its reason, failures retry or
 * fail by the policy, and outcomes reach the store before campaigns settle.
 */
const T = '00000000-0000-7000-8000-000000000001';
const C = '00000000-0000-7000-8000-0000000000c1';
const V = '00000000-0000-7000-8000-0000000000f1';

type Stored = ClaimedCampaignMessage & { status: 'QUEUED' | 'SENDING' | 'DONE' | 'PARKED'; owner?: string; outcome?: MessageOutcome };

class MemoryStore implements DeliveryStore {
  readonly messages: Stored[] = [];
  readonly settled: CampaignRef[][] = [];
  released: string[] = [];
  failNextRecord = 0;
  versions = new Map<string, DeliverableVersion>([
    [V, { id: V, status: 'PUBLISHED', subject: 'Hi {{ first_name }}', htmlBody: '<p>{{ email }}</p>', textBody: null }],
  ]);
  /** What is true now, changed by a test after the claim (what `currentState` answers). */
  readonly live = new Map<number, Partial<SendTimeState>>();
  /** Each currentState call: the ids it asked about. */
  readonly stateQueries: number[][] = [];

  add(overrides: Partial<ClaimedCampaignMessage> = {}): Stored {
    const id = this.messages.length + 1;
    const message: Stored = {
      stream: 'campaign',
      id,
      tenantId: T,
      campaignId: C,
      contactId: `00000000-0000-7000-8000-${String(id).padStart(12, '0')}`,
      email: `r${id}@worker.test`,
      locale: null,
      templateVersionId: V,
      attempts: 0,
      contactExists: true,
      contactLocale: null,
      contactExternalId: null,
      contactOptIn: true,
      contactAttributes: { first_name: `R${id}` },
      suppressed: false,
      campaignSubject: null,
      campaignProjectId: null,
      campaignRequiresOptIn: true,
      campaignSendMode: 'live',
      campaignStatus: 'SENDING',
      campaignTrackOpens: false,
      campaignTrackClicks: false,
      ...overrides,
      status: 'QUEUED',
    };
    this.messages.push(message);
    return message;
  }

  async anyDue(): Promise<boolean> {
    return false; // only campaign messages here: the priority lane finds nothing
  }

  async claimDue(owner: string, limit: number, _now?: Date, _leaseMs?: number, lane = 'campaign'): Promise<ClaimedMessage[]> {
    if (lane !== 'campaign') return [];
    const due = this.messages.filter((m) => m.status === 'QUEUED').slice(0, limit);
    for (const m of due) Object.assign(m, { status: 'SENDING', owner, attempts: m.attempts + 1 });
    return due.map((m) => ({ ...m }));
  }

  async extendLeases(): Promise<void> {}

  async releaseLeases(_now: Date, owner?: string): Promise<number> {
    if (owner) this.released.push(owner);
    const mine = this.messages.filter((m) => m.status === 'SENDING' && m.owner === owner);
    for (const m of mine) Object.assign(m, { status: 'QUEUED', owner: undefined, attempts: m.attempts - 1 });
    return mine.length;
  }

  async recordOutcomes(owner: string, outcomes: readonly MessageOutcome[]): Promise<CampaignRef[]> {
    if (this.failNextRecord > 0) {
      this.failNextRecord--;
      throw new Error('database is busy');
    }
    const touched = new Map<string, CampaignRef>();
    for (const outcome of outcomes) {
      const m = this.messages.find((x) => x.id === outcome.id)!;
      if (m.status !== 'SENDING' || m.owner !== owner) continue;
      if (outcome.kind === 'paused') {
        // Like the SQL store: back to the queue, parked (not claimable) and without spending the attempt.
        Object.assign(m, { outcome, owner: undefined, status: 'PARKED', attempts: m.attempts - 1 });
        touched.set(m.campaignId, { tenantId: m.tenantId, campaignId: m.campaignId, parked: true });
        continue;
      }
      Object.assign(m, { outcome, owner: undefined, status: outcome.kind === 'retry' ? 'QUEUED' : 'DONE' });
      if (!touched.has(m.campaignId)) touched.set(m.campaignId, { tenantId: m.tenantId, campaignId: m.campaignId });
    }
    return [...touched.values()];
  }

  async settle(campaigns: readonly CampaignRef[]): Promise<void> {
    this.settled.push([...campaigns]);
  }

  async currentState(ids: readonly number[]): Promise<SendTimeState[]> {
    this.stateQueries.push([...ids]);
    return ids.flatMap((id) => {
      const m = this.messages.find((x) => x.id === id);
      if (!m) return [];
      const base = { id, contactExists: m.contactExists, contactOptIn: m.contactOptIn, suppressed: m.suppressed, suppressionReason: null, campaignStatus: m.campaignStatus };
      return [{ ...base, ...this.live.get(id) }];
    });
  }

  async loadVersion(_tenantId: string, versionId: string) {
    return this.versions.get(versionId);
  }

  async loadProject() {
    return undefined;
  }

  async loadSigningKeys() {
    return [];
  }

  outcome(m: Stored): MessageOutcome | undefined {
    return this.messages.find((x) => x.id === m.id)!.outcome;
  }
}

class RecordingMailer implements Mailer {
  readonly sent: { to: string; subject: string }[] = [];
  /** Per recipient: the error its send throws. */
  readonly failures = new Map<string, Error & { responseCode?: number; command?: string }>();

  async send(mail: { to?: unknown; subject?: unknown }) {
    const to = String(mail.to);
    const failure = this.failures.get(to);
    if (failure) throw failure;
    this.sent.push({ to, subject: String(mail.subject) });
    return { messageId: `<${to}>`, response: '250 ok' };
  }

  close() {}
}

function setUp(options: Partial<WorkerOptions> = {}, rate?: number, gate: SendGateOptions = { maxAgeMs: 100, windowMs: 5 }) {
  const store = new MemoryStore();
  const mailer = new RecordingMailer();
  const route: Route = {
    mailer,
    sender: { fromEmail: 'news@acme.test', fromName: 'Acme', replyTo: null },
    ...(rate ? { rate: { tenantId: 'tenant', key: 'project', perSecond: rate } } : {}),
  };
  const now = new Date('2026-11-30T10:00:00Z');
  const worker = new DeliveryWorker(
    {
      store,
      routes: { route: () => route },
      mail: new CampaignMailBuilder({ renderer: new TemplateRenderer(), secret: 's'.repeat(40), publicUrl: 'https://mc.test' }),
      rateLimiter: new RateLimiter(),
      clock: () => now,
      logger: pino({ level: 'silent' }),
      // Answers trusted for 100 ms: shorter than the rate limiter's waits below, so each late check asks again.
      gate,
    },
    { ...DEFAULTS.sending, retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 4000 }, idlePollMs: 5, ...options },
  );
  return { store, mailer, worker, now };
}

const smtpError = (responseCode: number, command: string, response?: string) =>
  Object.assign(new Error(`${responseCode} refused`), { responseCode, command, response });

describe('DeliveryWorker (in-memory store)', () => {
  it('sends each claimed message once, rendered for its recipient, records it and settles its campaign', async () => {
    const { store, mailer, worker } = setUp();
    const messages = [store.add(), store.add(), store.add()];
    expect(await worker.runOnce()).toBe(3);
    expect(mailer.sent.map((s) => s.to).sort()).toEqual(messages.map((m) => m.email).sort());
    expect(mailer.sent.find((s) => s.to === 'r1@worker.test')?.subject).toBe('Hi R1');
    for (const m of messages) expect(store.outcome(m)).toMatchObject({ kind: 'sent', providerMessageId: `<${m.email}>` });
    expect(store.settled).toEqual([[{ tenantId: T, campaignId: C }]]);
    expect(await worker.runOnce()).toBe(0);
  });

  it('never sends to an erased, suppressed or opted-out contact, and says why', async () => {
    const { store, mailer, worker } = setUp();
    const erased = store.add({ contactExists: false });
    const suppressed = store.add({ suppressed: true });
    const optedOut = store.add({ contactOptIn: false });
    const noticeToOptedOut = store.add({ contactOptIn: false, campaignRequiresOptIn: false });
    await worker.runOnce();
    expect(store.outcome(erased)).toMatchObject({ kind: 'skipped', reason: 'contact_erased' });
    expect(store.outcome(suppressed)).toMatchObject({ kind: 'skipped', reason: 'suppressed' });
    expect(store.outcome(optedOut)).toMatchObject({ kind: 'skipped', reason: 'opted_out' });
    expect(store.outcome(noticeToOptedOut)).toMatchObject({ kind: 'sent' });
    expect(mailer.sent.map((s) => s.to)).toEqual([noticeToOptedOut.email]);
  });

  it('never sends a message whose campaign was cancelled after the claim', async () => {
    const { store, mailer, worker } = setUp();
    const m = store.add({ campaignStatus: 'CANCELLED' });
    await worker.runOnce();
    expect(store.outcome(m)).toMatchObject({ kind: 'cancelled' });
    expect(mailer.sent).toEqual([]);
  });

  it('re-checks right before sending, after the rate limiter: a contact erased, suppressed or opted out, or a campaign cancelled, meanwhile is not mailed', async () => {
    // 2 per second: the first two go at once, the others wait in the rate limiter while things change.
    const { store, mailer, worker } = setUp({ sendConcurrency: 10 }, 2);
    const messages = Array.from({ length: 6 }, () => store.add());
    const [first, second, erased, suppressed, optedOut, notice] = messages as [Stored, Stored, Stored, Stored, Stored, Stored];
    notice.campaignRequiresOptIn = false;
    const running = worker.runOnce();
    for (let i = 0; i < 1000 && mailer.sent.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(mailer.sent.map((s) => s.to).sort()).toEqual([first.email, second.email].sort());
    store.live.set(erased.id, { contactExists: false });
    store.live.set(suppressed.id, { suppressed: true });
    store.live.set(optedOut.id, { contactOptIn: false });
    store.live.set(notice.id, { contactOptIn: false }); // a notice to optIn: false contacts still goes
    await running;
    expect(store.outcome(erased)).toMatchObject({ kind: 'skipped', reason: 'contact_erased' });
    expect(store.outcome(suppressed)).toMatchObject({ kind: 'skipped', reason: 'suppressed' });
    expect(store.outcome(optedOut)).toMatchObject({ kind: 'skipped', reason: 'opted_out' });
    expect(store.outcome(notice)).toMatchObject({ kind: 'sent' });
    expect(mailer.sent.map((s) => s.to).sort()).toEqual([first.email, second.email, notice.email].sort());
  }, 15_000);

  it('re-checks the campaign status at send time: cancelled while waiting for the rate limiter → cancelled', async () => {
    const { store, mailer, worker } = setUp({ sendConcurrency: 10 }, 1);
    const [first, second, third] = [store.add(), store.add(), store.add()];
    const running = worker.runOnce();
    for (let i = 0; i < 100 && mailer.sent.length < 1; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    store.live.set(second.id, { campaignStatus: 'CANCELLED' });
    store.live.set(third.id, { campaignStatus: 'CANCELLED' });
    await running;
    expect(store.outcome(first)).toMatchObject({ kind: 'sent' });
    expect(store.outcome(second)).toMatchObject({ kind: 'cancelled' });
    expect(store.outcome(third)).toMatchObject({ kind: 'cancelled' });
    expect(mailer.sent).toHaveLength(1);
  }, 15_000);

  it('re-checks the campaign status at send time: paused while in flight → back to the queue, neither sent nor cancelled', async () => {
    const { store, mailer, worker } = setUp({ sendConcurrency: 10 }, 1);
    const [first, second, third] = [store.add(), store.add(), store.add()];
    const running = worker.runOnce();
    for (let i = 0; i < 100 && mailer.sent.length < 1; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    store.live.set(second.id, { campaignStatus: 'PAUSED' });
    store.live.set(third.id, { campaignStatus: 'PAUSED' });
    await running;
    expect(store.outcome(first)).toMatchObject({ kind: 'sent' });
    for (const m of [second, third]) {
      expect(store.outcome(m)).toMatchObject({ kind: 'paused' });
      const stored = store.messages.find((x) => x.id === m.id)!;
      expect(stored.status).toBe('PARKED');
      expect(stored.attempts).toBe(0); // the claim's attempt is given back
    }
    expect(mailer.sent).toHaveLength(1);
    expect(store.settled.at(-1)).toEqual([{ tenantId: T, campaignId: C, parked: true }]);
  }, 15_000);

  it('never sends a message whose campaign was paused before the claim was read; it waits in the queue', async () => {
    const { store, mailer, worker } = setUp();
    const m = store.add({ campaignStatus: 'PAUSED' });
    await worker.runOnce();
    expect(store.outcome(m)).toMatchObject({ kind: 'paused' });
    expect(mailer.sent).toHaveLength(0);
  });

  it('batches the send-time re-check: a claimed batch sent at full speed costs a query or two, not one per message', async () => {
    // Answers trusted for a minute here, not the default second: a loaded machine must not turn this into a timing test.
    const { store, mailer, worker } = setUp({ sendConcurrency: 10, batchSize: 100 }, undefined, { ...SEND_GATE_DEFAULTS, maxAgeMs: 60_000 });
    for (let i = 0; i < 100; i++) store.add();
    await worker.runOnce();
    expect(mailer.sent).toHaveLength(100);
    // One query per trust window at most, however many messages.
    expect(store.stateQueries.length).toBeLessThanOrEqual(3);
    expect(new Set(store.stateQueries.flat()).size).toBe(100);
  });

  it('fails, without sending, a message whose template version is no longer published', async () => {
    const { store, mailer, worker } = setUp();
    store.versions.set(V, { ...store.versions.get(V)!, status: 'DRAFT', htmlBody: '<p>edited draft</p>' });
    const m = store.add();
    await worker.runOnce();
    expect(store.outcome(m)).toMatchObject({ kind: 'failed', error: expect.stringContaining('not published') });
    expect(mailer.sent).toEqual([]);
  });

  it('fails a hard bounce at once (asking for a suppression), retries a 4xx with backoff, gives up after the budget', async () => {
    const { store, mailer, worker, now } = setUp();
    const bounced = store.add();
    const transient = store.add();
    const content = store.add();
    mailer.failures.set(bounced.email!, smtpError(550, 'RCPT TO'));
    mailer.failures.set(transient.email!, smtpError(451, 'DATA'));
    mailer.failures.set(content.email!, smtpError(554, 'DATA'));
    await worker.runOnce();
    expect(store.outcome(bounced)).toMatchObject({ kind: 'failed', bounce: { email: bounced.email, type: 'hard' } });
    expect(store.outcome(content)).toMatchObject({ kind: 'failed' });
    expect(store.outcome(content)).not.toHaveProperty('bounce');
    const retry = store.outcome(transient) as Extract<MessageOutcome, { kind: 'retry' }>;
    expect(retry.kind).toBe('retry');
    const delay = new Date(retry.nextAttemptAt).getTime() - now.getTime();
    expect(delay).toBeGreaterThanOrEqual(500); // equal jitter: half of the 1 s base at least
    expect(delay).toBeLessThanOrEqual(1000);
    // Attempts 2 and 3 (the store hands it out again at once): the third failure is final.
    await worker.runOnce();
    await worker.runOnce();
    expect(store.outcome(transient)).toMatchObject({ kind: 'failed', error: expect.stringContaining('gave up after 3 attempts') });
    expect(mailer.sent).toEqual([]);
  });

  it('classifies refusals by enhanced code: hard after DATA, soft, blocked; a 4xx to the end is a soft bounce, a dead connection none', async () => {
    const { store, mailer, worker } = setUp();
    const unknown = store.add();
    const full = store.add();
    const spam = store.add();
    const busy = store.add();
    const down = store.add();
    mailer.failures.set(unknown.email!, smtpError(550, 'DATA', '550 5.1.1 user unknown'));
    mailer.failures.set(full.email!, smtpError(552, 'DATA', '552 5.2.2 mailbox full'));
    mailer.failures.set(spam.email!, smtpError(554, 'DATA', '554 5.7.1 rejected as spam'));
    mailer.failures.set(busy.email!, smtpError(451, 'RCPT TO', '451 4.2.0 mailbox busy'));
    mailer.failures.set(down.email!, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', command: 'CONN' }));
    await worker.runOnce();
    expect(store.outcome(unknown)).toMatchObject({ kind: 'failed', bounce: { email: unknown.email, type: 'hard' } });
    expect(store.outcome(full)).toMatchObject({ kind: 'failed', bounce: { email: full.email, type: 'soft' } });
    expect(store.outcome(spam)).toMatchObject({ kind: 'failed', blocked: true });
    expect(store.outcome(spam)).not.toHaveProperty('bounce');
    expect(store.outcome(busy)).toMatchObject({ kind: 'retry' });
    expect(store.outcome(down)).toMatchObject({ kind: 'retry' });
    await worker.runOnce();
    await worker.runOnce();
    expect(store.outcome(busy)).toMatchObject({ kind: 'failed', bounce: { email: busy.email, type: 'soft' }, error: expect.stringContaining('gave up after 3 attempts') });
    expect(store.outcome(down)).toMatchObject({ kind: 'failed', error: expect.stringContaining('gave up after 3 attempts') });
    expect(store.outcome(down)).not.toHaveProperty('bounce');
  });

  it('fails, without sending, a message whose template version is gone', async () => {
    const { store, mailer, worker } = setUp();
    const m = store.add({ templateVersionId: '00000000-0000-7000-8000-0000000000ff' });
    await worker.runOnce();
    expect(store.outcome(m)).toMatchObject({ kind: 'failed', error: 'template version no longer exists' });
    expect(mailer.sent).toEqual([]);
  });

  it('retries a failed write of outcomes instead of sending again', async () => {
    const { store, mailer, worker } = setUp();
    const m = store.add();
    store.failNextRecord = 2;
    await worker.runOnce();
    expect(store.outcome(m)).toMatchObject({ kind: 'sent' });
    expect(mailer.sent).toHaveLength(1);
  });

  it('start() keeps claiming until the queue is empty; stop() releases what it still holds', async () => {
    const { store, mailer, worker } = setUp({ loops: 2, batchSize: 4, sendConcurrency: 2 });
    for (let i = 0; i < 25; i++) store.add();
    worker.start();
    for (let i = 0; i < 2000 && mailer.sent.length < 25; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    await worker.stop();
    expect(mailer.sent).toHaveLength(25);
    expect(new Set(mailer.sent.map((s) => s.to)).size).toBe(25);
    expect(store.messages.every((m) => m.status === 'DONE')).toBe(true);
    expect(store.released).toEqual([worker.owner]);
  });

  it('writes outcomes in small groups as sends finish: a worker dying mid-batch has recorded all but its sends in flight', async () => {
    const { store, mailer, worker } = setUp({ batchSize: 100, sendConcurrency: 5, outcomeGroups: { maxPending: 5, maxDelayMs: 5 }, sendTimeoutMs: 60_000 });
    for (let i = 0; i < 100; i++) store.add();
    // From the 61st send on, the relay stops answering: five sends hang, as when the process is killed.
    const stuck: (() => void)[] = [];
    const send = mailer.send.bind(mailer);
    mailer.send = async (mail) => {
      if (mailer.sent.length >= 60) await new Promise<void>((resolve) => stuck.push(resolve));
      return send(mail);
    };
    const round = worker.runOnce();
    for (let i = 0; i < 400 && (stuck.length < 5 || store.messages.filter((m) => m.status === 'DONE').length < 60); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Killed now, only the five in flight would go out again; the batch as a whole is far from done.
    expect(mailer.sent).toHaveLength(60);
    expect(store.messages.filter((m) => m.status === 'DONE')).toHaveLength(60);
    expect(store.messages.filter((m) => m.status === 'SENDING')).toHaveLength(40);
    mailer.send = send; // the relay answers again
    for (const resolve of stuck) resolve();
    await round;
    expect(store.messages.every((m) => m.status === 'DONE')).toBe(true);
    expect(new Set(mailer.sent.map((s) => s.to)).size).toBe(100);
  });
});

