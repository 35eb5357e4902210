import os from 'node:os';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { CampaignReferences } from './campaigns/campaign.references.js';
import { CampaignSendService } from './campaigns/campaign-send.service.js';
import { FanOut } from './campaigns/fanout.js';
import { LocaleCoverage } from './campaigns/coverage.js';
import { MessageRepository } from './delivery/message.repository.js';
import { RateLimiter } from './delivery/rate-limiter.js';
import { TransportRegistry, type DeliverySettings } from './delivery/transports.js';
import { DEFAULT_WORKER_OPTIONS, DeliveryWorker, type WorkerOptions } from './delivery/worker.js';
import { QuotaService } from './quota/quota.service.js';
import { UsageRepository } from './quota/usage.repository.js';
import { Scheduler } from './scheduler/scheduler.js';
import { UnsubscribeService } from './unsubscribe/unsubscribe.service.js';
import { Idempotency } from './http/idempotency.js';
import { Metrics } from './operations/metrics.js';
import { Readiness } from './operations/readiness.js';
import { DatabaseCounter, MemoryRateLimitStore, RedisCounter, type RateLimitStore } from './ratelimit/stores.js';
import { TokenBlocks } from './ratelimit/token-blocks.js';
import type { RateLimitSettings } from './ratelimit/rate-limit.hook.js';
import { Redis } from 'ioredis';
import { ApiKeyRepository } from './auth/api-key.repository.js';
import { ApiKeyService } from './auth/api-key.service.js';
import { LastUsedRecorder } from './auth/last-used.js';
import { CampaignRepository } from './campaigns/campaign.repository.js';
import { CampaignService } from './campaigns/campaign.service.js';
import { ContactImporter } from './contacts/contact.import.js';
import { ContactRepository } from './contacts/contact.repository.js';
import { ContactService } from './contacts/contact.service.js';
import type { Database } from './db/database.js';
import { ProjectRepository } from './projects/project.repository.js';
import { ProjectService } from './projects/project.service.js';
import { SecretBox } from './shared/secret-box.js';
import { systemClock, type Clock } from './shared/time.js';
import { SuppressionRepository } from './suppressions/suppression.repository.js';
import { SuppressionService } from './suppressions/suppression.service.js';
import { TemplateRenderer, type TemplateRendererOptions } from './templates/render.js';
import { TemplateRepository } from './templates/template.repository.js';
import { TemplateService } from './templates/template.service.js';
import { TenantRepository } from './tenants/tenant.repository.js';
import { TenantService } from './tenants/tenant.service.js';

/** The composition root: every repository and service, wired once. */
export interface Container {
  database: Database;
  /** Signs unsubscribe tokens and encrypts SMTP passwords (MAILINGCORE_SECRET or the stored one). */
  secret: string;
  clock: Clock;
  apiKeys: ApiKeyService;
  lastUsed: LastUsedRecorder;
  tenants: TenantService;
  campaigns: CampaignService;
  projects: ProjectService;
  /** For the send pipeline: getById (then smtpSettingsOfProject with secretBox). */
  projectRepository: ProjectRepository;
  /** Encrypts secrets at rest (SMTP passwords) with a key derived from `secret`. */
  secretBox: SecretBox;
  contacts: ContactService;
  contactImporter: ContactImporter;
  suppressions: SuppressionService;
  /** For other features: suppress(tenantId, email, reason), isSuppressed(tenantId, email). */
  suppressionRepository: SuppressionRepository;
  templates: TemplateService;
  /** For the send pipeline: getVersion, publishedVariants. */
  templateRepository: TemplateRepository;
  /** Renders and freezes templates in a pool of worker threads (each parses a version once); shared by preview and delivery. */
  templateRenderer: TemplateRenderer;
  quota: QuotaService;
  campaignSend: CampaignSendService;
  localeCoverage: LocaleCoverage;
  messageRepository: MessageRepository;
  transports: TransportRegistry;
  unsubscribe: UnsubscribeService;
  fanout: FanOut;
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
  /** Default 300 requests per 60 s per API key. */
  rateLimit?: RateLimitSettings;
  /** Share rate-limit counts through Redis instead of the database. */
  redisUrl?: string;
  clock?: Clock;
  /** How long a verified API key is trusted without a look-up (API_KEY_CACHE_MS, default 1 s); 0 looks up every request. */
  apiKeyCacheMs?: number;
  lastUsedFlushMs?: number;
  onBackgroundError?: (error: unknown) => void;
  /** How long a process holds a campaign's fan-out before another may take it over (FANOUT_LEASE_MS). */
  fanoutLeaseMs?: number;
  /** Also export Node.js process metrics (CPU, memory, event loop, GC): on in real processes, off in tests. */
  processMetrics?: boolean;
  /** The render thread pool: threads, time, heap and output limits (RENDER_* settings). */
  render?: TemplateRendererOptions;
}

export function createContainer(database: Database, options: ContainerOptions): Container {
  const clock = options.clock ?? systemClock;
  const { db } = database;
  const secretBox = new SecretBox(options.secret);
  const projectRepository = new ProjectRepository(db);
  const tenantRepository = new TenantRepository(db);
  const keyRepository = new ApiKeyRepository(db);
  const apiKeys = new ApiKeyService({ keys: keyRepository, tenants: tenantRepository, clock }, options.apiKeyCacheMs);
  const lastUsed = new LastUsedRecorder(keyRepository, options.lastUsedFlushMs, options.onBackgroundError);
  const contacts = new ContactService({ contacts: new ContactRepository(db), clock });
  const suppressionRepository = new SuppressionRepository(db);
  const templateRepository = new TemplateRepository(db);
  const templateRenderer = new TemplateRenderer(options.render);
  const logger = options.logger ?? pino({ level: 'silent' });
  const campaignRepository = new CampaignRepository(db);
  const messageRepository = new MessageRepository(db, database.dialect);
  const quota = new QuotaService({ usage: new UsageRepository(db), tenants: tenantRepository, clock });
  const references = new CampaignReferences({ templates: templateRepository, projects: projectRepository });
  const metrics = new Metrics({ db, processMetrics: options.processMetrics });
  const fanout = new FanOut({
    db,
    dialect: database.dialect,
    templates: templateRepository,
    clock,
    leaseMs: options.fanoutLeaseMs,
    observer: metrics.fanout,
    onUsageChanged: (tenantId) => quota.forget(tenantId),
  });
  const transports = new TransportRegistry(
    {
      smtpUrl: undefined,
      outboxDir: path.join(os.tmpdir(), 'mailingcore-outbox'),
      mailFrom: 'MailingCore <noreply@mailingcore.invalid>',
      publicUrl: 'http://127.0.0.1:3000',
      ...options.delivery,
    },
    secretBox,
  );
  const rateLimiter = new RateLimiter();
  // Counts must be shared by every API process: Redis if given, else PostgreSQL; SQLite is one host.
  const rateLimitStore: RateLimitStore = options.redisUrl
    ? new TokenBlocks(
        new RedisCounter(
          // Errors surface on each command (and the request is let through); the client reconnects by itself.
          new Redis(options.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2000 }).on('error', () => {}),
        ),
      )
    : database.dialect === 'postgres'
      ? new TokenBlocks(new DatabaseCounter(db))
      : new MemoryRateLimitStore();
  return {
    rateLimit: options.rateLimit ?? { max: 300, windowMs: 60_000 },
    rateLimitStore,
    idempotency: new Idempotency({ db, clock }),
    metrics,
    readiness: new Readiness({ database }),
    database,
    secret: options.secret,
    clock,
    apiKeys,
    lastUsed,
    tenants: new TenantService({ tenants: tenantRepository, apiKeys, clock }),
    campaigns: new CampaignService({ campaigns: campaignRepository, references, clock }),
    quota,
    messageRepository,
    transports,
    fanout,
    campaignSend: new CampaignSendService({
      db,
      campaigns: campaignRepository,
      messages: messageRepository,
      references,
      quota,
      fanout,
      templates: templateRepository,
      projects: projectRepository,
      suppressions: suppressionRepository,
      renderer: templateRenderer,
      transports,
      capture: transports.capture,
      secret: options.secret,
      clock,
      logger,
    }),
    localeCoverage: new LocaleCoverage({ db, dialect: database.dialect, campaigns: campaignRepository, templates: templateRepository }),
    unsubscribe: new UnsubscribeService({ db, secret: options.secret, clock }),
    createWorker: (workerOptions = {}) =>
      new DeliveryWorker(
        {
          messages: messageRepository,
          templates: templateRepository,
          projects: projectRepository,
          renderer: templateRenderer,
          transports,
          rateLimiter,
          clock,
          secret: options.secret,
          logger,
          observer: metrics.delivery,
        },
        { ...DEFAULT_WORKER_OPTIONS, ...workerOptions },
      ),
    createScheduler: (tickMs) =>
      new Scheduler({ campaigns: campaignRepository, messages: messageRepository, fanout, clock, logger }, tickMs),
    projects: new ProjectService({ projects: projectRepository, secretBox, clock }),
    projectRepository,
    secretBox,
    contacts,
    contactImporter: new ContactImporter({ contacts }),
    suppressions: new SuppressionService({ suppressions: suppressionRepository, clock }),
    suppressionRepository,
    templates: new TemplateService({ templates: templateRepository, renderer: templateRenderer, clock }),
    templateRepository,
    templateRenderer,
    async close() {
      transports.close();
      await rateLimitStore.close();
      await lastUsed.flush();
      await templateRenderer.close();
      await database.close();
    },
  };
}
