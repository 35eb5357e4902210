import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { ApiKeyService } from './auth/api-key.service.js';
import { AccountService } from './accounts/account.service.js';
import { InvitationMail } from './accounts/invitation-mail.js';
import { MemberService } from './accounts/member.service.js';
import type { ScryptParams } from './accounts/password.js';
import { DEFAULT_SESSION_SETTINGS, SessionService, type SessionSettings } from './accounts/session.service.js';
import { DEFAULT_THROTTLE, SignInThrottle, type ThrottleSettings } from './accounts/sign-in-throttle.js';
import { LastUsedRecorder } from './auth/last-used.js';
import { CampaignBreaker } from './campaigns/campaign-breaker.js';
import { CampaignDeliveryStore } from './campaigns/campaign-delivery.store.js';
import { CampaignPauses } from './campaigns/campaign-pause.js';
import { CampaignProgress, type CampaignProgressOptions } from './campaigns/campaign-progress.js';
import { CampaignReferences } from './campaigns/campaign.references.js';
import { CampaignSendService } from './campaigns/campaign-send.service.js';
import { CampaignService } from './campaigns/campaign.service.js';
import { LocaleCoverage } from './campaigns/coverage.js';
import { FanOut } from './campaigns/fanout.js';
import { MessageLog } from './campaigns/message-log.service.js';
import { TestSendService } from './campaigns/test-send.service.js';
import { DEFAULTS, FANOUT_CHUNK_DEFAULTS, sendSlotsPerLoop, type BreakerSettings, type SendingPolicy, type TrackingSettings, type WebhookSettings } from './config.js';
import { ContactImporter, IMPORT_BATCH_ROWS } from './contacts/contact.import.js';
import { ContactService } from './contacts/contact.service.js';
import { ContactMessages } from './contacts/contact-messages.service.js';
import { AudienceCount } from './audience/audience-count.service.js';
import { ErasureService } from './erasure/erasure.service.js';
import { eventLogOf } from './events/event-log.js';
import { EventService } from './events/event.service.js';
import { transactionOf, type Database } from './db/database.js';
import { CampaignMailBuilder } from './delivery/campaign-mail.js';
import { RateLimiter } from './delivery/rate-limiter.js';
import { TransportRegistry, type DeliverySettings } from './delivery/transports.js';
import { DeliveryWorker, QueueSignal, type WorkerOptions } from './delivery/worker.js';
import { Idempotency } from './http/idempotency.js';
import { IdempotencyRepository } from './http/idempotency.repository.js';
import { createRepositories } from './repositories.js';
import { Metrics } from './operations/metrics.js';
import { OutboundPolicy, type OutboundPolicyOptions } from './net/outbound-policy.js';
import { Readiness } from './operations/readiness.js';
import { ProjectService } from './projects/project.service.js';
import { QuotaService } from './quota/quota.service.js';
import type { RateLimitSettings } from './ratelimit/rate-limit.hook.js';
import { DatabaseCounter, MemoryRateLimitStore, RedisCounter, type RateLimitStore } from './ratelimit/stores.js';
import { TokenBlocks } from './ratelimit/token-blocks.js';
import { Scheduler } from './scheduler/scheduler.js';
import type { Pause } from './shared/pause.js';
import { SecretBox } from './shared/secret-box.js';
import { systemClock, type Clock } from './shared/time.js';
import { SuppressionService } from './suppressions/suppression.service.js';
import { TemplateRenderer, type TemplateRendererOptions } from './templates/render.js';
import { TemplateService } from './templates/template.service.js';
import { TenantService } from './tenants/tenant.service.js';
import { UnsubscribeService } from './unsubscribe/unsubscribe.service.js';
import { CampaignStatsService } from './stats/campaign-stats.service.js';
import { TrackingTokens } from './tracking/token.js';
import { TrackingRecorder } from './tracking/tracking-recorder.js';
import { TrackingService } from './tracking/tracking.service.js';
import { Retention } from './events/retention.js';
import { WebhookDispatcher, type DispatcherOptions } from './webhooks/webhook-dispatcher.js';
import { WebhookQueue } from './webhooks/webhook-queue.js';
import { WebhookSender } from './webhooks/webhook-sender.js';
import { WebhookService } from './webhooks/webhook.service.js';
import { SendingDomainService } from './domains/sending-domain.service.js';
import { PreflightService } from './campaigns/preflight.service.js';
import { SigningKeys } from './domains/signing-keys.js';
import { DnsLookup } from './net/dns-lookup.js';
import { bounceKey } from './delivery/bounce-address.js';
import { InboundReportService } from './inbound/inbound-report.service.js';
import { InboundServer, type InboundLimits } from './inbound/inbound-server.js';
import { BounceProviderService } from './inbound/providers/bounce-provider.service.js';
import { EmailService } from './emails/email.service.js';
import { SendEmailBody } from './emails/email.schemas.js';
import { compileBodySchema } from './http/validation.js';

/** The composition root: every service, wired once. Repositories stay inside; services are what the outside uses. */
export interface Container {
  database: Database;
  /** Signs unsubscribe tokens and encrypts SMTP passwords (MAILINGCORE_SECRET or the stored one). */
  secret: string;
  clock: Clock;
  apiKeys: ApiKeyService;
  lastUsed: LastUsedRecorder;
  /** Sign-in, GET /me, first-run setup, invitations accepted, the users CLI. */
  accounts: AccountService;
  /** Cookie sessions: what the authentication hook checks. */
  sessions: SessionService;
  /** A tenant's members and invitations. */
  members: MemberService;
  tenants: TenantService;
  quota: QuotaService;
  campaigns: CampaignService;
  campaignSend: CampaignSendService;
  testSend: TestSendService;
  messageLog: MessageLog;
  /** Live counters of a campaign (Server-Sent Events). */
  campaignProgress: CampaignProgress;
  localeCoverage: LocaleCoverage;
  preflight: PreflightService;
  projects: ProjectService;
  contacts: ContactService;
  /** A contact's messages, both streams (GET /contacts/{id}/messages). */
  contactMessages: ContactMessages;
  /** The live audience count (POST /audience/count). */
  audienceCount: AudienceCount;
  /** The event log as the API reads it. */
  events: EventService;
  /** Webhook endpoints and deliveries as the API manages them. */
  webhooks: WebhookService;
  /** Sending domains: keys, records, verify, rotation. */
  domains: SendingDomainService;
  /** A webhook dispatcher (not started); `start` and `worker` processes run one. */
  createWebhookDispatcher(options?: Partial<DispatcherOptions>): WebhookDispatcher;
  /** Prunes events, finished webhook deliveries and tracking firsts past EVENTS_RETENTION_DAYS (not started). */
  createRetention(intervalMs?: number): Retention;
  /** Reports that came back to a bounce address: attribution and effects. */
  inboundReports: InboundReportService;
  /** Tenants' Postmark and Mailgun integrations and their public webhook receiver. */
  bounceProviders: BounceProviderService;
  /** The inbound SMTP listener for bounce addresses (not listening until `listen`). */
  createInboundServer(options: { host: string; port: number; limits?: Partial<InboundLimits> }): InboundServer;
  /** GDPR erasure: every copy of a contact, in one transaction. */
  erasure: ErasureService;
  /** Transactional email: send, batch, logs, scheduled sends. */
  emails: EmailService;
  /** Told when this process queues messages (a transactional email, a fan-out chunk): its workers' lanes wake at once. */
  queueSignal: QueueSignal;
  contactImporter: ContactImporter;
  suppressions: SuppressionService;
  templates: TemplateService;
  unsubscribe: UnsubscribeService;
  /** The public open pixel and tracked links. */
  tracking: TrackingService;
  /** Where tracking hits wait to be counted; `flush()` writes them now (tests), close() writes the rest. */
  trackingRecorder: TrackingRecorder;
  /** GET /campaigns/{id}/stats, from the aggregates. */
  campaignStats: CampaignStatsService;
  transports: TransportRegistry;
  /** Renders and freezes templates in a pool of worker threads; shared by preview, test sends and delivery. */
  renderer: TemplateRenderer;
  /** Queues a SENDING campaign's audience (the scheduler and send do; tests may force a run). */
  fanout: FanOut;
  /** What delivery workers and the scheduler store through (tests may watch it). */
  deliveryStore: CampaignDeliveryStore;
  /** A delivery worker (not started); `start` and `worker` processes run one. */
  createWorker(options?: Partial<WorkerOptions>): DeliveryWorker;
  createScheduler(tickMs?: number): Scheduler;
  rateLimit: RateLimitSettings;
  rateLimitStore: RateLimitStore;
  idempotency: Idempotency;
  /** Prometheus metrics of this process (a registry of its own). */
  metrics: Metrics;
  /** GET /readyz: the database answers and its schema is current. */
  readiness: Readiness;
  close(): Promise<void>;
}

export interface ContainerOptions {
  secret: string;
  delivery?: Partial<DeliverySettings>;
  logger?: FastifyBaseLogger;
  /** Session timeouts and the membership cache (default DEFAULT_SESSION_SETTINGS). */
  sessions?: Partial<SessionSettings>;
  /** Sign-in backoff per account and per IP (default DEFAULT_THROTTLE). */
  signInThrottle?: Partial<ThrottleSettings>;
  /** Password hashing cost (default accounts/password.ts DEFAULT_PARAMS; tests may lower it). */
  passwordParams?: ScryptParams;
  /** Requests per API key per window (default DEFAULTS.rateLimit). */
  rateLimit?: RateLimitSettings;
  /** Share rate-limit counts through Redis instead of the database. */
  redisUrl?: string;
  clock?: Clock;
  /** How long a verified API key is trusted without a look-up (API_KEY_CACHE_MS); 0 looks up every request. */
  apiKeyCacheMs?: number;
  /** How long a list page's total is kept (LIST_TOTAL_CACHE_MS); 0 counts every full page. */
  listTotalCacheMs?: number;
  lastUsedFlushMs?: number;
  onBackgroundError?: (error: unknown) => void;
  /** Workers, leases, retries (default DEFAULTS.sending). */
  sending?: Partial<SendingPolicy>;
  /** Also export Node.js process metrics (CPU, memory, event loop, GC): on in real processes, off in tests. */
  processMetrics?: boolean;
  /** Race tests hold requests between a check and its write (shared/pause.ts). */
  pause?: Pause;
  /** Where tenants' servers may be connected to (config.outbound); default: public addresses only. */
  outbound?: OutboundPolicyOptions;
  /** The render thread pool: threads, time, heap and output limits (RENDER_* settings; default DEFAULTS.render). */
  render?: TemplateRendererOptions;
  /** Test sends per tenant per UTC hour (TEST_SENDS_PER_HOUR; default DEFAULTS.testSendsPerHour). */
  testSendsPerHour?: number;
  /** Soft bounces in a row that suppress an address (SOFT_BOUNCE_LIMIT; default DEFAULTS.softBounceLimit). */
  softBounceLimit?: number;
  /** When the circuit breaker pauses a campaign (BREAKER_*; default DEFAULTS.breaker). */
  breaker?: Partial<BreakerSettings>;
  /** The progress stream's interval and per-tenant cap (default DEFAULTS.progress). */
  progress?: Partial<CampaignProgressOptions>;
  /** Tracking hits' batching and the machine-open window (TRACKING_*; default DEFAULTS.tracking). */
  tracking?: Partial<TrackingSettings>;
  /** Webhook retries, timeout, auto-disable, dispatcher shape (WEBHOOK_* settings; default DEFAULTS.webhooks). */
  webhooks?: Partial<WebhookSettings>;
  /** EVENTS_RETENTION_DAYS (default DEFAULTS.eventsRetentionDays). */
  eventsRetentionDays?: number;
  /** Where verify looks records up (DNS_SERVERS; default the system's resolvers) and how long it waits (default DEFAULTS.dns). */
  dns?: { servers?: readonly string[] | undefined; timeoutMs?: number };
  /** BOUNCE_DOMAIN: the VERP return path's domain when no verified return-path host covers the From domain. */
  bounceDomain?: string | undefined;
  /** BOUNCE_MX_HOST: where sending domains' return-path MX points (the inbound listener's host); default the host of PUBLIC_URL. */
  bounceMxHost?: string | undefined;
}

export function createContainer(database: Database, options: ContainerOptions): Container {
  const clock = options.clock ?? systemClock;
  const { db } = database;
  const sending: SendingPolicy = { ...DEFAULTS.sending, ...options.sending };
  // Unless given, a loop's send slots follow the connections (enough to keep each busy).
  if (options.sending?.sendConcurrency === undefined) sending.sendConcurrency = sendSlotsPerLoop(sending.loops, sending.smtpConnections);
  const logger = options.logger ?? pino({ level: 'silent' });
  const transaction = transactionOf(db);
  const pause = options.pause;

  const repositories = createRepositories(database, { listTotalCacheMs: options.listTotalCacheMs ?? DEFAULTS.listTotalCacheMs });

  const { tenants, projects, contacts, suppressions, templates, campaigns, messages, usage, audience } = repositories;

  const eventLog = eventLogOf(repositories);
  const pauses = new CampaignPauses({ transaction, campaigns, messages, stats: repositories.campaignStats, eventLog });
  const breaker = new CampaignBreaker({ campaigns, pauses, settings: { ...DEFAULTS.breaker, ...options.breaker } });
  const inboundReports = new InboundReportService({
    transaction,
    reports: repositories.inboundReports,
    messages,
    suppressions,
    softBounces: repositories.softBounces,
    contacts,
    eventLog,
    softBounceLimit: options.softBounceLimit ?? DEFAULTS.softBounceLimit,
    breaker,
    clock,
  });
  const secretBox = new SecretBox(options.secret);
  const outbound = new OutboundPolicy(options.outbound);
  const apiKeys = new ApiKeyService({ keys: repositories.apiKeys, tenants, clock }, options.apiKeyCacheMs ?? DEFAULTS.apiKeyCacheMs);
  const metrics = new Metrics({ db, processMetrics: options.processMetrics });
  const quota = new QuotaService({ usage, tenants, clock });
  const renderer = new TemplateRenderer(options.render);
  const transports = new TransportRegistry(
    {
      smtpUrl: undefined,
      outboxDir: path.join(os.tmpdir(), 'mailingcore-outbox'),
      mailFrom: DEFAULTS.mailFrom,
      publicUrl: `http://${DEFAULTS.host}:${DEFAULTS.port}`,
      maxConnections: sending.smtpConnections,
      priorityConnections: sending.priority.connections,
      ...options.delivery,
    },
    secretBox,
    outbound,
  );
  const queueSignal = new QueueSignal();
  const mail = new CampaignMailBuilder({ renderer, secret: options.secret, publicUrl: transports.publicUrl, bounceDomain: options.bounceDomain });
  const references = new CampaignReferences({ templates, projects });
  const fanout = new FanOut({
    transaction,
    eventLog,
    campaigns,
    messages,
    audience,
    usage,
    tenants,
    templates,
    clock,
    leaseMs: sending.fanoutLeaseMs,
    chunkRows: sending.fanoutChunkRows ?? FANOUT_CHUNK_DEFAULTS[database.dialect],
    observer: metrics.fanout,
    onUsageChanged: (tenantId) => quota.forget(tenantId),
    onQueued: () => queueSignal.notify('campaign'),
  });
  const localeCoverage = new LocaleCoverage({ campaigns, templates, audience });
  const signingKeys = new SigningKeys({ domains: repositories.sendingDomains, secretBox });
  const preflight = new PreflightService({
    campaigns,
    templates,
    projects,
    domains: repositories.sendingDomains,
    coverage: localeCoverage,
    defaultSender: transports.defaultSender,
  });
  const deliveryStore = new CampaignDeliveryStore({
    transaction,
    messages,
    campaigns,
    suppressions,
    softBounces: repositories.softBounces,
    softBounceLimit: options.softBounceLimit ?? DEFAULTS.softBounceLimit,
    breaker,
    templates,
    projects,
    eventLog,
    signingKeys,
  });
  // A project's rateLimitPerSecond holds across every worker process: slices of each second granted through the database.
  const rateLimiter = new RateLimiter(undefined, repositories.sendRates);
  const rateLimitStore = rateLimitStoreFor(database, options.redisUrl);
  const lastUsed = new LastUsedRecorder(repositories.apiKeys, options.lastUsedFlushMs, options.onBackgroundError);
  const idempotencyKeys = new IdempotencyRepository(db);
  const contactService = new ContactService({ transaction, clientTransaction: database.clientTransaction, contacts, clock });
  const trackingSettings: TrackingSettings = { ...DEFAULTS.tracking, ...options.tracking };
  const trackingRecorder = new TrackingRecorder(
    {
      transaction,
      messages,
      firsts: repositories.trackingFirsts,
      stats: repositories.campaignStats,
      eventLog,
      onError: options.onBackgroundError ?? ((err) => logger.error({ err }, 'tracking hits could not be written')),
    },
    { flushMs: trackingSettings.flushMs, flushHits: trackingSettings.flushHits, windowSeconds: trackingSettings.machineOpenSeconds },
  );
  const webhookSettings: WebhookSettings = { ...DEFAULTS.webhooks, ...options.webhooks };
  const webhookSender = new WebhookSender(outbound, webhookSettings.timeoutMs);
  const webhookQueue = new WebhookQueue({
    transaction,
    endpoints: repositories.webhookEndpoints,
    deliveries: repositories.webhookDeliveries,
    eventLog,
    clock,
  });

  const sessions = new SessionService(
    { sessions: repositories.sessions, memberships: repositories.memberships, clock },
    { ...DEFAULT_SESSION_SETTINGS, ...options.sessions },
  );
  const throttle = new SignInThrottle({ ...DEFAULT_THROTTLE, ...options.signInThrottle }, () => clock().getTime());

  return {
    database,
    secret: options.secret,
    clock,
    apiKeys,
    lastUsed,
    sessions,
    accounts: new AccountService({
      transaction,
      users: repositories.users,
      memberships: repositories.memberships,
      tenants,
      invitations: repositories.invitations,
      setupTokens: repositories.setupTokens,
      sessions,
      throttle,
      clock,
      publicUrl: transports.publicUrl,
      ...(options.passwordParams ? { passwordParams: options.passwordParams } : {}),
    }),
    members: new MemberService({
      transaction,
      users: repositories.users,
      memberships: repositories.memberships,
      invitations: repositories.invitations,
      tenants,
      sessions,
      mail: new InvitationMail(transports),
      clock,
    }),
    tenants: new TenantService({ tenants, apiKeys, clock }),
    quota,
    campaigns: new CampaignService({ transaction, eventLog, campaigns, messages, templates, references, clock, pause, preflight, pauses }),
    campaignSend: new CampaignSendService({
      transaction,
      eventLog,
      campaigns,
      messages,
      templates,
      references,
      audience,
      quota,
      fanout,
      coverage: localeCoverage,
      preflight,
      clock,
      logger,
      pause,
    }),
    testSend: new TestSendService({
      campaigns,
      templates,
      projects,
      contacts,
      suppressions,
      tenants,
      transports,
      mail,
      transaction,
      usage,
      testSendCounts: repositories.testSendCounts,
      signingKeys,
      clock,
      perHour: options.testSendsPerHour ?? DEFAULTS.testSendsPerHour,
      onUsageChanged: (tenantId) => quota.forget(tenantId),
    }),
    messageLog: new MessageLog({ campaigns, messages, capture: transports.capture }),
    campaignProgress: new CampaignProgress({ campaigns, clock }, { ...DEFAULTS.progress, ...options.progress }),
    localeCoverage,
    preflight,
    projects: new ProjectService({ projects, secretBox, clock, outbound }),
    contacts: contactService,
    contactMessages: new ContactMessages({ contacts, messages }),
    audienceCount: new AudienceCount({ audience }),
    erasure: new ErasureService({
      transaction,
      contacts,
      suppressions,
      softBounces: repositories.softBounces,
      inboundReports: repositories.inboundReports,
      messages,
      transactionalEmails: repositories.transactionalEmails,
      idempotencyKeys,
      eventLog,
      events: repositories.events,
      webhookDeliveries: repositories.webhookDeliveries,
      campaignStats: repositories.campaignStats,
      capturedCopies: transports.capture,
      clock,
    }),
    emails: new EmailService({
      transaction,
      emails: repositories.transactionalEmails,
      messages,
      contacts,
      suppressions,
      templates,
      tenants,
      projects,
      domains: repositories.sendingDomains,
      usage,
      events: repositories.events,
      renderer,
      capture: transports.capture,
      defaultSender: transports.defaultSender,
      secret: options.secret,
      publicUrl: transports.publicUrl,
      clock,
      queued: queueSignal,
      validateItem: compileBodySchema(SendEmailBody),
      onUsageChanged: (tenantId) => quota.forget(tenantId),
    }),
    queueSignal,
    events: new EventService({ events: repositories.events }),
    webhooks: new WebhookService({
      endpoints: repositories.webhookEndpoints,
      deliveries: repositories.webhookDeliveries,
      secretBox,
      outbound,
      sender: webhookSender,
      clock,
    }),
    domains: new SendingDomainService({
      domains: repositories.sendingDomains,
      campaigns,
      secretBox,
      dns: new DnsLookup({ servers: options.dns?.servers, timeoutMs: options.dns?.timeoutMs ?? DEFAULTS.dns.timeoutMs }),
      clock,
      returnPathTarget: options.bounceMxHost ?? new URL(transports.publicUrl).hostname,
      defaultFromEmail: transports.defaultSender.fromEmail,
    }),
    createWebhookDispatcher: (dispatcherOptions = {}) =>
      new WebhookDispatcher(
        { queue: webhookQueue, sender: webhookSender, secretBox, clock, logger, observer: metrics.webhooks },
        { ...webhookSettings, ...dispatcherOptions },
      ),
    createRetention: (intervalMs) =>
      new Retention(
        { events: repositories.events, webhookDeliveries: repositories.webhookDeliveries, trackingFirsts: repositories.trackingFirsts, clock, logger },
        { days: options.eventsRetentionDays ?? DEFAULTS.eventsRetentionDays, ...(intervalMs === undefined ? {} : { intervalMs }) },
      ),
    inboundReports,
    bounceProviders: new BounceProviderService({
      integrations: repositories.bounceProviders,
      reports: inboundReports,
      secretBox,
      key: bounceKey(options.secret),
      publicUrl: transports.publicUrl,
      clock,
      logger,
    }),
    createInboundServer: ({ host, port, limits }) =>
      new InboundServer({ host, port, key: bounceKey(options.secret), reports: inboundReports, logger, clock, ...(limits ? { limits } : {}) }),
    contactImporter: new ContactImporter({ contacts: contactService, batchSize: IMPORT_BATCH_ROWS[database.dialect] }),
    suppressions: new SuppressionService({ transaction, suppressions, contacts, eventLog, clock }),
    templates: new TemplateService({ transaction, templates, contacts, renderer, clock, pause }),
    unsubscribe: new UnsubscribeService({ transaction, contacts, suppressions, eventLog, campaigns, secret: options.secret, clock }),
    tracking: new TrackingService({ tokens: new TrackingTokens(options.secret), recorder: trackingRecorder, clock }),
    trackingRecorder,
    campaignStats: new CampaignStatsService({ campaigns, stats: repositories.campaignStats }),
    transports,
    renderer,
    fanout,
    deliveryStore,
    createWorker: (workerOptions = {}) =>
      new DeliveryWorker(
        { store: deliveryStore, routes: transports, mail, rateLimiter, clock, logger, observer: metrics.delivery, queued: queueSignal },
        { ...sending, ...workerOptions },
      ),
    createScheduler: (tickMs) => new Scheduler({ transaction, campaigns, eventLog, store: deliveryStore, fanout, clock, logger }, tickMs),
    rateLimit: options.rateLimit ?? DEFAULTS.rateLimit,
    rateLimitStore,
    idempotency: new Idempotency({ keys: idempotencyKeys, clock }),
    metrics,
    readiness: new Readiness({ database }),
    async close() {
      transports.close();
      await renderer.close();
      await rateLimitStore.close();
      await lastUsed.flush();
      await trackingRecorder.close();
      await database.close();
    },
  };
}

/** Counts must be shared by every API process: Redis if given, else PostgreSQL; SQLite is one host. */
function rateLimitStoreFor(database: Database, redisUrl: string | undefined): RateLimitStore {
  if (redisUrl) {
    // Loaded only here: most processes never talk to Redis, and the client costs ~15 MB of memory to load.
    const { Redis } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
    // Errors surface on each command (and the request is let through); the client reconnects by itself.
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2000 }).on('error', () => {});
    return new TokenBlocks(new RedisCounter(redis));
  }
  return database.dialect === 'postgres' ? new TokenBlocks(new DatabaseCounter(database.db)) : new MemoryRateLimitStore();
}
