import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { DEFAULTS, type SendingPolicy } from '../config.js';
import type { SkipReason } from '../db/enums.js';
import type { ProjectRow } from '../projects/project.repository.js';
import type { Clock } from '../shared/time.js';
import type { CampaignMailBuilder } from './campaign-mail.js';
import type { SigningKey } from './dkim.js';
import type {
  CampaignRef,
  ClaimedCampaignMessage,
  ClaimedMessage,
  ClaimedTransactionalMessage,
  DeliverableVersion,
  DeliveryStore,
  Lane,
  MessageOutcome,
  SendTimeState,
} from './delivery-store.js';
import { outcomeOf } from './delivery-store.js';
import { CaptureMailer } from './mailer.js';
import type { RateLimiter } from './rate-limiter.js';
import { SEND_GATE_DEFAULTS, SendGate, type SendGateOptions } from './send-gate.js';
import { OutcomeRecorder } from './outcome-recorder.js';
import { canRetry, retryDelayMs } from './retry-policy.js';
import { classifyFailure, type SmtpFailure } from './bounce-classification.js';
import type { Route } from './transports.js';
import type Mail from 'nodemailer/lib/mailer/index.js';

/** The part of the sending policy (config.ts) a worker runs by; the priority lane's defaults when omitted. */
export type WorkerOptions = Omit<SendingPolicy, 'fanoutLeaseMs' | 'fanoutChunkRows' | 'priority' | 'outcomeGroups' | 'smtpConnections'> & {
  priority?: SendingPolicy['priority'];
  outcomeGroups?: SendingPolicy['outcomeGroups'];
};

/** Which transport and sender an email leaves by (TransportRegistry); the priority lane has connections of its own. */
export interface Routes {
  route(project: ProjectRow | undefined, testMode: boolean, lane?: Lane): Route;
}

export interface WorkerDeps {
  store: DeliveryStore;
  routes: Routes;
  mail: CampaignMailBuilder;
  rateLimiter: RateLimiter;
  clock: Clock;
  logger: FastifyBaseLogger;
  /** Told what each round did (Prometheus metrics); optional. */
  observer?: DeliveryObserver;
  /** The send-time re-check's freshness and batching (SEND_GATE_DEFAULTS when omitted). */
  gate?: SendGateOptions;
  /** Told when this process queues messages: the lane that claims them wakes at once. */
  queued?: QueueSignal;
}

/**
 * "Messages of this lane were queued", within one process: the API (a
 * transactional email) or the fan-out (a committed chunk) tells the worker
 * beside it, which looks at once instead of at its next poll.
 */
export class QueueSignal {
  private readonly listeners = new Set<(lane: Lane) => void>();

  listen(listener: (lane: Lane) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(lane: Lane): void {
    for (const listener of this.listeners) listener(lane);
  }
}

/** What the worker reports: counts and timings only, never addresses, tenants or campaigns. */
export interface DeliveryObserver {
  /** The outcomes of one round, once written. */
  recorded(outcomes: readonly MessageOutcome[]): void;
  /** One hand-over to the transport, timed without the rate limiter's wait. */
  sent(transport: 'smtp' | 'capture', result: 'ok' | 'error', seconds: number): void;
}

/**
 * Claims due messages, renders and sends them, records the outcomes. It
 * knows nothing of HTTP or SQL: a store (DeliveryStore) and messengers
 * (Routes → Mailer) are all it talks to. Status changes are guarded by the
 * lease, so a duplicate or late worker changes nothing.
 */
export class DeliveryWorker {
  readonly owner = `worker-${randomUUID()}`;
  private stopping = false;
  private loops: Promise<void>[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly sleepers = new Set<() => void>();
  /** The priority lane's sleep, cut short by `nudge`. */
  private readonly prioritySleepers = new Set<() => void>();
  private readonly gate: SendGate;
  private readonly priority: SendingPolicy['priority'];
  private unlisten: (() => void) | undefined;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly options: WorkerOptions,
  ) {
    this.gate = new SendGate(deps.store, deps.gate ?? SEND_GATE_DEFAULTS);
    this.priority = options.priority ?? DEFAULTS.sending.priority;
  }

  /** Messages of `lane` were just queued (in this process): its loops look now instead of at their next poll. */
  nudge(lane: Lane = 'transactional'): void {
    for (const wake of lane === 'transactional' ? this.prioritySleepers : this.sleepers) wake();
  }

  start(): void {
    this.unlisten = this.deps.queued?.listen((lane) => this.nudge(lane));
    this.heartbeat = setInterval(() => {
      this.deps.store
        .extendLeases(this.owner, this.deps.clock(), this.options.leaseMs)
        .catch((err: unknown) => this.deps.logger.error({ err }, 'lease renewal failed'));
    }, Math.max(250, Math.floor(this.options.leaseMs / 3))); // a third of the lease: two renewals may fail before it runs out
    this.heartbeat.unref();
    this.loops = [...Array.from({ length: this.options.loops }, () => this.loop()), this.priorityLoop()];
  }

  /** Stops claiming, lets claimed batches finish sending and record, then releases anything still leased. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unlisten?.();
    for (const wake of [...this.sleepers, ...this.prioritySleepers]) wake();
    await Promise.all(this.loops);
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.deps.store.releaseLeases(this.deps.clock(), this.owner);
  }

  /**
   * Runs one claim → send → record round of a whole batch, transactional
   * messages first; the number of messages handled (used by tests and benchmarks).
   */
  async runOnce(): Promise<number> {
    let handled = 0;
    for (const lane of ['transactional', 'campaign'] as const) {
      const batch = await this.claim(this.options.batchSize, lane);
      if (batch.length === 0) continue;
      await this.round(batch, new SendSlots(lane === 'transactional' ? this.priority.sendConcurrency : this.options.sendConcurrency), this.recorder());
      handled += batch.length;
    }
    return handled;
  }

  /**
   * The priority lane: claims transactional messages only, sends them
   * through slots and SMTP connections no campaign uses, and looks for due
   * ones every `priority.pollMs` (or at once when nudged), so a receipt
   * never waits behind a newsletter. Each claimed batch is sent and recorded
   * before the next claim: the lane holds at most one batch.
   */
  private async priorityLoop(): Promise<void> {
    const slots = new SendSlots(this.priority.sendConcurrency);
    const outcomes = this.recorder();
    const claimSize = Math.max(1, Math.floor(this.options.batchSize / 2));
    while (!this.stopping) {
      let batch: ClaimedMessage[] = [];
      try {
        if (await this.deps.store.anyDue(this.deps.clock(), 'transactional')) batch = await this.claim(claimSize, 'transactional');
      } catch (err) {
        this.deps.logger.error({ err }, 'claiming transactional messages failed; retrying');
        await this.sleep(Math.max(this.priority.pollMs, 1000), this.prioritySleepers);
        continue;
      }
      if (batch.length === 0) {
        await this.sleep(this.priority.pollMs, this.prioritySleepers);
        continue;
      }
      await this.round(batch, slots, outcomes).catch((err: unknown) => this.deps.logger.error({ err }, 'transactional round failed'));
    }
  }

  /**
   * Claims the next half batch while the current one is still sending, and
   * sends both through the loop's slots in claim order, so the slots stay full
   * across batch boundaries instead of draining while a batch is recorded and
   * the next claimed. A half is claimed only once the one before the current
   * one is recorded: never more than `batchSize` claimed and unrecorded.
   */
  private async loop(): Promise<void> {
    const slots = new SendSlots(this.options.sendConcurrency);
    const outcomes = this.recorder();
    const { claimSize, inProgress } = pipelineShape(this.options.batchSize);
    const rounds: Promise<void>[] = [];
    while (!this.stopping) {
      let batch: ClaimedMessage[];
      try {
        batch = await this.claim(claimSize, 'campaign');
      } catch (err) {
        this.deps.logger.error({ err }, 'claiming messages failed; retrying');
        await this.sleep(Math.max(this.options.idlePollMs, 1000));
        continue;
      }
      if (batch.length === 0) {
        await this.sleep(this.options.idlePollMs);
        continue;
      }
      rounds.push(this.round(batch, slots, outcomes).catch((err: unknown) => this.deps.logger.error({ err }, 'delivery round failed')));
      if (rounds.length >= inProgress) await rounds.shift();
    }
    await Promise.all(rounds);
  }

  private claim(limit: number, lane: Lane): Promise<ClaimedMessage[]> {
    return this.deps.store.claimDue(this.owner, limit, this.deps.clock(), this.options.leaseMs, lane);
  }

  /**
   * Sends a claimed batch; each outcome goes to the loop's recorder as its
   * send finishes, which writes outcomes in small groups and settles the
   * campaigns they touched. Done when every outcome of the batch is written.
   */
  private async round(batch: ClaimedMessage[], slots: SendSlots, outcomes: LoopOutcomes): Promise<void> {
    const loads = new BatchLoads(this.deps.store);
    this.gate.hold(batch.map((m) => m.id));
    const sent = batch.map((message) => slots.run(() => this.deliver(message, loads).finally(() => this.gate.release(message.id))));
    const recorded = sent.map((outcome) => outcome.then((o) => outcomes.recorder.add(o)));
    // Once the batch's last send is done, its last group is written at once rather than after the delay.
    await Promise.allSettled(sent);
    await outcomes.recorder.flush();
    await Promise.all(recorded);
    await outcomes.settle();
  }

  /**
   * A loop's outcomes: written in groups as sends finish (outcome-recorder.ts);
   * the campaigns they touched are settled once per batch, as before.
   */
  private recorder(): LoopOutcomes {
    const touched = new Map<string, CampaignRef>();
    const recorder = new OutcomeRecorder<MessageOutcome>(async (outcomes) => {
      for (const ref of await this.record(outcomes)) {
        // One ref per campaign; parked if any of its writes parked a message (settle then un-parks after a resume).
        const key = `${ref.tenantId}:${ref.campaignId}`;
        touched.set(key, touched.get(key)?.parked ? { ...ref, parked: true } : ref);
      }
      this.deps.observer?.recorded(outcomes);
    }, this.options.outcomeGroups ?? DEFAULTS.sending.outcomeGroups);
    const settle = async () => {
      const refs = [...touched.values()];
      touched.clear();
      await this.deps.store.settle(refs, this.deps.clock());
    };
    return { recorder, settle };
  }

  /**
   * The emails are out: their outcomes must be written, or they would be sent
   * again once the lease runs out. A failed write (deadlock, lost connection,
   * busy database) is retried — every update is guarded by the lease, so a
   * repeat is harmless — while the heartbeat keeps the lease alive.
   */
  private async record(outcomes: MessageOutcome[]): Promise<CampaignRef[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.store.recordOutcomes(this.owner, outcomes, this.deps.clock());
      } catch (err) {
        if (attempt >= 50) throw err;
        this.deps.logger.warn({ err, attempt }, 'recording delivery outcomes failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 50 * 2 ** attempt)));
      }
    }
  }

  private sleep(ms: number, sleepers = this.sleepers): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });
  }

  private async deliver(m: ClaimedMessage, loads: BatchLoads): Promise<MessageOutcome> {
    const of = outcomeOf(m);
    // First look, on what the claim read: the contact may have been erased, suppressed or opted out since it was queued.
    const early = mayNotSend(m, m);
    if (early) return early;
    if (!m.email || (m.stream === 'campaign' && !m.contactId)) return { ...of, kind: 'skipped', reason: 'contact_erased' };

    let prepared: Prepared | MessageOutcome;
    try {
      prepared = m.stream === 'campaign' ? await this.prepareCampaign(m, m.email, loads) : await this.prepareTransactional(m, m.email, loads);
    } catch (error) {
      // The database hiccuped: not the message's fault, try it again later.
      if (error instanceof LoadFailure) return this.retryOrFail(m, `could not load the template, project or signing keys: ${error.message}`);
      // Rendering or configuration errors will not fix themselves by retrying.
      return { ...of, kind: 'failed', error: `could not prepare the email: ${(error as Error).message}` };
    }
    if ('kind' in prepared) return prepared;
    const { mail, route, capture } = prepared;

    if (route.rate) {
      try {
        await this.deps.rateLimiter.take(route.rate);
      } catch (error) {
        return this.retryOrFail(m, `could not reserve a send under the project's rate limit: ${(error as Error).message}`);
      }
    }
    // Send-time re-check, after any rate-limiter wait: what the claim read may be minutes old by now.
    let state: SendTimeState | null;
    try {
      state = await this.gate.check(m.id);
    } catch (error) {
      return this.retryOrFail(m, `could not re-check the message before sending: ${(error as Error).message}`);
    }
    const late = state ? mayNotSend(m, state) : ({ ...of, kind: 'cancelled' } as const);
    if (late) return late;

    try {
      const mailer = route.mailer;
      const info = await timed(this.deps.observer, mailer instanceof CaptureMailer ? 'capture' : 'smtp', () =>
        withTimeout(mailer.send(mail, capture), this.options.sendTimeoutMs),
      );
      return { ...of, kind: 'sent', providerMessageId: info.messageId, response: info.response };
    } catch (error) {
      const failure = error as Error & SmtpFailure;
      const description = describeFailure(failure);
      const verdict = classifyFailure(failure);
      if (verdict.temporary) return this.retryOrFail(m, description, verdict.class === 'soft');
      switch (verdict.class) {
        case 'hard':
        case 'soft':
          return { ...of, kind: 'failed', error: description, bounce: { email: m.email, type: verdict.class } };
        case 'blocked':
          return { ...of, kind: 'failed', error: description, blocked: true };
        default:
          return { ...of, kind: 'failed', error: description };
      }
    }
  }

  /** A campaign message: its (published) variant rendered for the contact, by the campaign's project. */
  private async prepareCampaign(m: ClaimedCampaignMessage, email: string, loads: BatchLoads): Promise<Prepared | MessageOutcome> {
    const fail = (error: string): MessageOutcome => ({ ...outcomeOf(m), kind: 'failed', error });
    const [version, project, signingKeys] = await LoadFailure.guard(
      Promise.all([loads.version(m.tenantId, m.templateVersionId), loads.project(m.tenantId, m.campaignProjectId), loads.keys(m.tenantId)]),
    );
    if (!version) return fail('template version no longer exists');
    // Only published content is ever sent (a version unpublished since, e.g. before a retry-failed, is not).
    if (version.status !== 'PUBLISHED') return fail(`template version ${version.id} is not published (status ${version.status}); publish it, or send a new campaign with a published version`);
    if (m.campaignProjectId && !project) return fail('SMTP project no longer exists');
    const route = this.deps.routes.route(project, m.campaignSendMode === 'test', 'campaign');
    const mail = await this.deps.mail.build({
      tenantId: m.tenantId,
      campaign: { id: m.campaignId, subject: m.campaignSubject, name: m.campaignName ?? null },
      senderId: m.campaignProjectId ?? 'default',
      version,
      recipient: {
        email,
        contact: { id: m.contactId!, locale: m.contactLocale, externalId: m.contactExternalId, attributes: m.contactAttributes },
      },
      sender: route.sender,
      signingKeys,
      messageKey: `${m.campaignId}.${m.id}`,
      messageId: m.id,
      relayHost: project?.smtp_host ?? null,
      tracking: { messageId: m.id, opens: m.campaignTrackOpens, clicks: m.campaignTrackClicks },
    });
    return { mail, route, capture: { folder: m.campaignId, name: String(m.id) } };
  }

  /** A transactional email: its content as accepted (already rendered), from its sender, over the priority lane's connections. */
  private async prepareTransactional(m: ClaimedTransactionalMessage, email: string, loads: BatchLoads): Promise<Prepared | MessageOutcome> {
    const content = m.content;
    const [project, signingKeys] = await LoadFailure.guard(Promise.all([loads.project(m.tenantId, content.projectId), loads.keys(m.tenantId)]));
    if (content.projectId && !project) return { ...outcomeOf(m), kind: 'failed', error: 'SMTP project no longer exists' };
    const route = this.deps.routes.route(project, content.sendMode === 'test', 'transactional');
    const mail = await this.deps.mail.buildTransactional({ tenantId: m.tenantId, messageId: m.id, to: email, content, signingKeys, relayHost: project?.smtp_host ?? null });
    return { mail, route, capture: { folder: transactionalCaptureFolder(m.tenantId), name: String(m.id) } };
  }

  /**
   * Back to the queue after a backoff, or FAILED once the attempt budget is
   * spent — a soft bounce when the last refusal was a temporary one from the
   * receiving server (4xx).
   */
  private retryOrFail(m: ClaimedMessage, description: string, softBounce = false): MessageOutcome {
    const of = outcomeOf(m);
    if (!canRetry(this.options.retry, m.attempts)) {
      const error = `${description} (gave up after ${m.attempts} attempts)`;
      return softBounce && m.email ? { ...of, kind: 'failed', error, bounce: { email: m.email, type: 'soft' } } : { ...of, kind: 'failed', error };
    }
    const delay = retryDelayMs(this.options.retry, m.attempts);
    return { ...of, kind: 'retry', error: description, nextAttemptAt: new Date(this.deps.clock().getTime() + delay).toISOString() };
  }
}

/**
 * Why a message may not go out, judged on `state` (what the claim read, or
 * the send-time re-check). A campaign message: its campaign is PAUSED →
 * back to the queue (`paused`); otherwise no longer sending → cancelled;
 * its contact was erased, its address suppressed, or — for mail that
 * requires opt-in — the contact opted out → skipped with that reason. A
 * transactional message: the contact it named was erased, or its address
 * is suppressed (for `unsubscribe` only, it may bypass that) → skipped;
 * opt-in is a campaign rule.
 */
function mayNotSend(
  m: ClaimedMessage,
  state: Pick<SendTimeState, 'contactExists' | 'suppressed'> & Partial<Pick<SendTimeState, 'contactOptIn' | 'campaignStatus' | 'suppressionReason'>>,
): MessageOutcome | undefined {
  const of = outcomeOf(m);
  const skip = (reason: SkipReason): MessageOutcome => ({ ...of, kind: 'skipped', reason });
  if (m.stream === 'transactional') {
    if (!state.contactExists) return skip('contact_erased');
    if (state.suppressed && !(m.content.bypassUnsubscribe && state.suppressionReason === 'unsubscribe')) return skip('suppressed');
    return undefined;
  }
  if (state.campaignStatus === 'PAUSED') return { ...of, kind: 'paused' };
  if (state.campaignStatus !== 'SENDING' && state.campaignStatus !== 'SENT') return { ...of, kind: 'cancelled' };
  if (!state.contactExists) return skip('contact_erased');
  if (state.suppressed) return skip('suppressed');
  if (!state.contactOptIn && m.campaignRequiresOptIn) return skip('opted_out');
  return undefined;
}

/** Where a captured transactional email is written (CaptureMailer), per tenant. */
export function transactionalCaptureFolder(tenantId: string): string {
  return `transactional-${tenantId}`;
}

/** An email ready to go: what Nodemailer sends, by which route, and where a capture writes it. */
interface Prepared {
  mail: Mail.Options;
  route: Route;
  capture: { folder: string; name: string };
}

/** A failure to read what a message needs (the database, not the message): the message is retried. */
class LoadFailure extends Error {
  static async guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      throw new LoadFailure((error as Error).message);
    }
  }
}

/** What a batch's messages share, read once per batch: versions, projects and signing keys. */
class BatchLoads {
  private readonly versions = new Map<string, Promise<DeliverableVersion | undefined>>();
  private readonly projects = new Map<string, Promise<ProjectRow | undefined>>();
  private readonly signingKeys = new Map<string, Promise<SigningKey[]>>();

  constructor(private readonly store: DeliveryStore) {}

  version(tenantId: string, versionId: string): Promise<DeliverableVersion | undefined> {
    return once(this.versions, `${tenantId}:${versionId}`, () => this.store.loadVersion(tenantId, versionId));
  }

  project(tenantId: string, projectId: string | null): Promise<ProjectRow | undefined> {
    if (!projectId) return Promise.resolve(undefined);
    return once(this.projects, `${tenantId}:${projectId}`, () => this.store.loadProject(tenantId, projectId));
  }

  keys(tenantId: string): Promise<SigningKey[]> {
    return once(this.signingKeys, tenantId, () => this.store.loadSigningKeys(tenantId));
  }
}

function once<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let promise = cache.get(key);
  if (!promise) {
    promise = load();
    cache.set(key, promise);
  }
  return promise;
}

/**
 * A loop's claim size and how many claimed batches it keeps going at once:
 * halves of `batchSize`, two at a time. A batch of one cannot be halved and
 * goes one round at a time.
 */
function pipelineShape(batchSize: number): { claimSize: number; inProgress: number } {
  return batchSize >= 2 ? { claimSize: Math.floor(batchSize / 2), inProgress: 2 } : { claimSize: batchSize, inProgress: 1 };
}

/** A loop's outcome recorder and the settling of the campaigns its writes touched. */
interface LoopOutcomes {
  recorder: OutcomeRecorder<MessageOutcome>;
  settle(): Promise<void>;
}

/** At most `size` tasks running at once; the others start in the order they were queued. */
class SendSlots {
  private running = 0;
  private readonly queued: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.size) this.running++;
    else await new Promise<void>((resolve) => this.queued.push(resolve));
    try {
      return await task();
    } finally {
      // The slot passes straight to the next queued task, so a newcomer cannot jump the queue.
      const next = this.queued.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/** Runs one send, telling the observer (if any) how long it took and whether it succeeded. */
async function timed<T>(observer: DeliveryObserver | undefined, transport: 'smtp' | 'capture', send: () => Promise<T>): Promise<T> {
  if (!observer) return send();
  const started = performance.now();
  try {
    const result = await send();
    observer.sent(transport, 'ok', (performance.now() - started) / 1000);
    return result;
  } catch (error) {
    observer.sent(transport, 'error', (performance.now() - started) / 1000);
    throw error;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`send did not settle within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function describeFailure(error: Error & SmtpFailure): string {
  const parts = [error.responseCode ? String(error.responseCode) : error.code, error.command, error.message].filter(Boolean);
  return parts.join(' ').slice(0, 1000);
}
