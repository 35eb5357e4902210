import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { SCOPES, type Scope } from '../../src/auth/scopes.js';
import { createContainer, type Container, type ContainerOptions } from '../../src/container.js';
import type { TrackingSettings } from '../../src/config.js';
import type { DatabaseConfig, WebhookSettings } from '../../src/config.js';
import type { DeliverySettings } from '../../src/delivery/transports.js';
import type { OutboundPolicyOptions } from '../../src/net/outbound-policy.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { buildApp } from '../../src/app.js';
import type { App } from '../../src/http/types.js';
import type { Pause } from '../../src/shared/pause.js';
import type { TemplateRendererOptions } from '../../src/templates/render.js';
import type { ScryptParams } from '../../src/accounts/password.js';
import { createTestDatabase, type TestDialect } from './databases.js';

/**
 * scrypt at 1/32 of the production cost (1 MiB instead of 32, a few ms instead of ~90): the route
 * fixtures, the account and dashboard tests hash hundreds of passwords, and at full cost that was most
 * of their CPU. Stored hashes name their own parameters, so signing in works exactly as in production;
 * the production cost itself is tested in test/unit/password.test.ts and test/api/accounts.test.ts.
 */
export const TEST_PASSWORD_PARAMS: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };

/** A settable clock so tests can move time (schedules, quotas) without sleeping. */
export class TestClock {
  constructor(public now = new Date()) {}
  readonly fn = () => new Date(this.now);
  advance(ms: number) {
    this.now = new Date(this.now.getTime() + ms);
  }
}

export interface TestTenant {
  tenantId: string;
  apiKey: string;
  headers: Record<string, string>;
  /** A further key of this tenant with only the given scopes. */
  keyWith(scopes: Scope[], mode?: 'live' | 'test'): Promise<{ apiKey: string; id: string; headers: Record<string, string> }>;
}

export interface TestContext {
  dialect: TestDialect;
  /** The test database, for a second process's handle on it (e.g. two workers on one database). */
  databaseConfig: DatabaseConfig;
  app: App;
  container: Container;
  clock: TestClock;
  newTenant(name?: string): Promise<TestTenant>;
  request(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    options?: { tenant?: TestTenant; headers?: Record<string, string>; body?: unknown; payload?: string },
  ): Promise<LightMyRequestResponse>;
  /** Counts rows of a table, for "nothing was written" assertions. */
  count(table: string): Promise<number>;
}

export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

/**
 * The suite's SMTP sinks listen on 127.0.0.1, which the outbound-connection
 * policy refuses by default: test apps allow it (SMTP_ALLOW_HOSTS=127.0.0.1)
 * and plain AUTH to it (SMTP_ALLOW_PLAIN_AUTH=true), and webhook receivers on it
 * over plain http (WEBHOOK_ALLOW_PRIVATE=true), unless a test says otherwise.
 */
/** Domain verification asks a closed local port unless a test runs its own DNS server: refused at once, no network. */
export const TEST_DNS: NonNullable<ContainerOptions['dns']> = { servers: ['127.0.0.1:9'], timeoutMs: 500 };

export const TEST_OUTBOUND: OutboundPolicyOptions = { smtpAllowHosts: ['127.0.0.1'], smtpAllowPlainAuth: true, webhookAllowPrivate: true };

const headersFor = (tenantId: string, apiKey: string) => ({ authorization: `Bearer ${apiKey}`, 'x-tenant-id': tenantId });

/**
 * Registers beforeAll/afterAll hooks that start the real app (every route,
 * real database) for one dialect, and returns a handle filled in before the
 * tests run.
 */
export function useTestApp(
  dialect: TestDialect,
  options: {
    rateLimit?: { max: number; windowMs: number };
    redisUrl?: string;
    delivery?: Partial<DeliverySettings>;
    /** Default TEST_OUTBOUND. */
    outbound?: OutboundPolicyOptions;
    pause?: Pause;
    /** The render thread pool's size and limits (defaults: the production defaults). */
    render?: TemplateRendererOptions;
    /** TEST_SENDS_PER_HOUR (default DEFAULTS.testSendsPerHour). */
    testSendsPerHour?: number;
    /** SOFT_BOUNCE_LIMIT (default DEFAULTS.softBounceLimit). */
    softBounceLimit?: number;
    /** BREAKER_* (default DEFAULTS.breaker); tests lower `minSent` to stay small. */
    breaker?: ContainerOptions['breaker'];
    /** The progress stream's interval and per-tenant cap (default DEFAULTS.progress). */
    progress?: ContainerOptions['progress'];
    /** Tracking hits' batching and machine-open window (default DEFAULTS.tracking). */
    tracking?: Partial<TrackingSettings>;
    /** WEBHOOK_* settings (default DEFAULTS.webhooks). */
    webhooks?: Partial<WebhookSettings>;
    /** DNS_SERVERS and the look-up timeout; read when the app starts, so a beforeAll registered earlier may fill in `servers`. */
    dns?: ContainerOptions['dns'];
    /** BOUNCE_DOMAIN (default unset: no VERP unless a verified return-path host covers the From domain). */
    bounceDomain?: string;
    /** BOUNCE_MX_HOST (default unset: the host of PUBLIC_URL). */
    bounceMxHost?: string;
    /** TRUST_PROXY (default unset: the socket's address is the client's). */
    trustProxy?: string[];
    /** The sign-in backoff (default DEFAULT_THROTTLE). */
    signInThrottle?: ContainerOptions['signInThrottle'];
    /** scrypt's cost for new password hashes (default TEST_PASSWORD_PARAMS; pass DEFAULT_PARAMS to test the production cost). */
    passwordParams?: ScryptParams;
  } = {},
): TestContext {
  const ctx = { dialect } as TestContext;
  let drop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    const testDb = await createTestDatabase(dialect);
    drop = testDb.drop;
    ctx.databaseConfig = testDb.config;
    const database = openDatabase(testDb.config, { poolSize: 5 });
    await migrateToLatest(database);
    ctx.clock = new TestClock();
    ctx.container = createContainer(database, {
      clock: ctx.clock.fn,
      secret: TEST_SECRET,
      rateLimit: options.rateLimit ?? { max: 1_000_000, windowMs: 60_000 },
      redisUrl: options.redisUrl,
      delivery: options.delivery,
      pause: options.pause,
      outbound: options.outbound ?? TEST_OUTBOUND,
      render: options.render,
      testSendsPerHour: options.testSendsPerHour,
      softBounceLimit: options.softBounceLimit,
      breaker: options.breaker,
      progress: options.progress,
      tracking: options.tracking,
      webhooks: options.webhooks,
      dns: options.dns ?? TEST_DNS,
      bounceDomain: options.bounceDomain,
      signInThrottle: options.signInThrottle,
      bounceMxHost: options.bounceMxHost,
      passwordParams: options.passwordParams ?? TEST_PASSWORD_PARAMS,
    });
    ctx.app = await buildApp(ctx.container, { trustProxy: options.trustProxy });
    ctx.newTenant = async (name = 'Test tenant') => {
      const { tenant, apiKey } = await ctx.container.tenants.create({ name });
      return {
        tenantId: tenant.id,
        apiKey,
        headers: headersFor(tenant.id, apiKey),
        keyWith: async (scopes, mode = 'live') => {
          const key = await ctx.container.apiKeys.create({ tenantId: tenant.id, scopes, mode });
          return { apiKey: key.apiKey, id: key.id, headers: headersFor(tenant.id, key.apiKey) };
        },
      };
    };
    ctx.request = (method, url, options = {}) =>
      ctx.app.inject({
        method,
        url,
        headers: { ...(options.tenant?.headers ?? {}), ...(options.headers ?? {}) },
        ...(options.payload !== undefined
          ? { payload: options.payload }
          : options.body !== undefined
            ? { payload: options.body as object }
            : {}),
      });
    ctx.count = async (table) => {
      const row = await ctx.container.database.db
        .selectFrom(table as never)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number((row as { n: number }).n);
    };
  });

  afterAll(async () => {
    await ctx.app?.close();
    await ctx.container?.close();
    await drop();
  });

  return ctx;
}

export const ALL_SCOPES = SCOPES;

/** Asserts the documented error shape and returns the parsed body. */
export function errorBody(response: LightMyRequestResponse) {
  const body = response.json() as {
    statusCode: number;
    code: string;
    message: string;
    path: string;
    timestamp: string;
    details?: { field: string; message: string }[];
    [key: string]: unknown;
  };
  if (body.statusCode !== response.statusCode) throw new Error(`statusCode ${body.statusCode} ≠ HTTP ${response.statusCode}`);
  for (const field of ['code', 'message', 'path', 'timestamp'] as const) {
    if (typeof body[field] !== 'string') throw new Error(`error body lacks ${field}: ${response.body}`);
  }
  return body;
}
