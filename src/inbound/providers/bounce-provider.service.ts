import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { verifyBounceToken } from '../../delivery/bounce-address.js';
import { AppError, notFound, validationError } from '../../shared/errors.js';
import { isId, newId } from '../../shared/ids.js';
import { SecretBoxError, type SecretBox } from '../../shared/secret-box.js';
import type { Clock } from '../../shared/time.js';
import type { InboundOutcome, InboundReportService, ReportTarget } from '../inbound-report.service.js';
import { messageKeyOf } from '../report-parser.js';
import type { BounceProviderRepository, BounceProviderRow } from './bounce-provider.repository.js';
import { mailgunAdapter, MAILGUN_MAX_SKEW_MS } from './mailgun.js';
import { passwordHashOf, postmarkAdapter } from './postmark.js';
import { providerEffectOf, type BounceProviderAdapter, type BounceProviderName, type ParsedProviderEvent, type ProviderSecrets } from './provider-report.js';

/** Integrations one tenant may have. */
export const MAX_BOUNCE_PROVIDERS_PER_TENANT = 10;

export const BOUNCE_PROVIDER_ADAPTERS: Record<BounceProviderName, BounceProviderAdapter> = { postmark: postmarkAdapter, mailgun: mailgunAdapter };

/** Signing keys are sealed bound to their integration: a sealed key copied to another row does not open. */
export const bounceProviderSecretContext = (id: string): string => `bounce-provider:${id}`;

export const POSTMARK_USERNAME = 'mailingcore';

export interface BounceProviderView {
  id: string;
  provider: BounceProviderName;
  /** The receiver's URL (without credentials). */
  url: string;
  createdAt: string;
  lastReceivedAt: string | null;
}

export interface CreatedBounceProvider extends BounceProviderView {
  /** Postmark: the basic-auth credentials, shown once (also in `webhookUrl`). */
  basicAuth: { username: string; password: string } | null;
  /** What to paste into the provider's console: `url`, with the credentials for Postmark. */
  webhookUrl: string;
}

/** What a webhook request brought about. */
export type ProviderOutcome = InboundOutcome | { outcome: 'ignored'; reason: string };

export interface ProviderWebhookRequest {
  authorization: string | undefined;
  body: unknown;
  remoteAddress: string | null;
}

/**
 * Attribution of a provider's report, strictly within the integration's
 * tenant (pure): our signed token (from the metadata the builder adds) names
 * the message — a token of another tenant names nothing here; else our own
 * Message-ID does, and then only if the message was sent to the address
 * the report names (checked with the message row, `unsigned`).
 */
export function targetOf(tenantId: string, event: { email: string; token?: string; messageId?: string }, key: Buffer): ReportTarget | { reason: string } {
  if (event.token) {
    const claims = verifyBounceToken(key, event.token.toLowerCase());
    if (claims && claims.tenantId !== tenantId) return { reason: "the token names another tenant's message" };
    if (claims) return { tenantId, messageId: claims.messageId, email: event.email };
  }
  const named = event.messageId ? messageKeyOf(event.messageId) : undefined;
  if (named) return { tenantId, messageId: named.messageId, campaignId: named.campaignId, email: event.email, unsigned: true };
  return { reason: event.token ? 'the token does not verify and no Message-ID of ours is given' : 'no token and no Message-ID of ours' };
}

/**
 * Tenants' bounce-provider integrations (Postmark, Mailgun) and the public
 * receiver their webhooks call: the request verified by the provider's
 * adapter, its body read into a report, the report attributed within the
 * integration's tenant and handed to InboundReportService.record — the one
 * path DSNs and ARF reports from the SMTP listener take too.
 */
export class BounceProviderService {
  constructor(
    private readonly deps: {
      integrations: BounceProviderRepository;
      reports: InboundReportService;
      secretBox: SecretBox;
      /** The return-path key (bounceKey of the server secret): verifies message tokens. */
      key: Buffer;
      publicUrl: string;
      clock: Clock;
      logger: FastifyBaseLogger;
      maxPerTenant?: number;
    },
  ) {}

  async create(tenantId: string, body: { provider: BounceProviderName; signingKey?: string }): Promise<CreatedBounceProvider> {
    if (body.provider === 'mailgun' && body.signingKey === undefined) {
      throw validationError('Invalid request body', [{ field: 'signingKey', message: "is required for Mailgun: the domain's HTTP webhook signing key" }]);
    }
    if (body.provider === 'postmark' && body.signingKey !== undefined) {
      throw validationError('Invalid request body', [{ field: 'signingKey', message: 'is for Mailgun only: Postmark webhooks are verified by generated basic-auth credentials' }]);
    }
    const max = this.deps.maxPerTenant ?? MAX_BOUNCE_PROVIDERS_PER_TENANT;
    if ((await this.deps.integrations.countOf(tenantId)) >= max) {
      throw new AppError(409, 'PROVIDER_LIMIT_REACHED', `A tenant may have at most ${max} bounce-provider integrations; delete one first`);
    }
    const id = newId();
    const password = body.provider === 'postmark' ? randomBytes(24).toString('base64url') : null;
    const row: BounceProviderRow = {
      id,
      tenant_id: tenantId,
      provider: body.provider,
      username: password ? POSTMARK_USERNAME : null,
      password_hash: password ? passwordHashOf(password) : null,
      signing_key_encrypted: body.signingKey !== undefined ? this.deps.secretBox.encrypt(body.signingKey, bounceProviderSecretContext(id)) : null,
      created_at: this.deps.clock().toISOString(),
      last_received_at: null,
    };
    await this.deps.integrations.insert(row);
    const view = this.toView(row);
    const webhookUrl = new URL(view.url);
    if (password) {
      webhookUrl.username = POSTMARK_USERNAME;
      webhookUrl.password = password;
    }
    return { ...view, basicAuth: password ? { username: POSTMARK_USERNAME, password } : null, webhookUrl: webhookUrl.toString() };
  }

  async list(tenantId: string): Promise<{ data: BounceProviderView[] }> {
    return { data: (await this.deps.integrations.listOf(tenantId)).map((row) => this.toView(row)) };
  }

  async delete(tenantId: string, id: string): Promise<void> {
    if (!isId(id) || !(await this.deps.integrations.delete(tenantId, id))) throw notFound('Bounce provider');
  }

  /**
   * One webhook request: 404 for an unknown integration, 401 unless the
   * provider's authentication holds (and, for Mailgun, its token is new),
   * 400 for a body that is not the provider's shape; then the report is
   * applied or kept, or (deliveries, opens…) ignored.
   */
  async receive(provider: string, id: string, request: ProviderWebhookRequest): Promise<ProviderOutcome> {
    const adapter = BOUNCE_PROVIDER_ADAPTERS[provider as BounceProviderName] as BounceProviderAdapter | undefined;
    const row = adapter && isId(id) ? await this.deps.integrations.find(id, provider) : undefined;
    if (!adapter || !row) throw notFound('Bounce provider integration');
    const now = this.deps.clock();
    const auth = adapter.authenticate({ authorization: request.authorization, body: request.body }, this.secretsOf(row), now);
    if (!auth.ok) throw new AppError(401, 'UNAUTHORIZED', `Webhook authentication failed: ${auth.reason}`);
    const event = adapter.parse(request.body);
    if (event.kind === 'invalid') throw validationError('Invalid request body', [{ field: '(body)', message: event.reason }]);

    const token = auth.replayToken;
    if (token !== undefined) {
      const forgetBefore = new Date(now.getTime() - 2 * MAILGUN_MAX_SKEW_MS).toISOString();
      if (!(await this.deps.integrations.claimToken(row.id, token, now.toISOString(), forgetBefore))) {
        throw new AppError(401, 'UNAUTHORIZED', 'Webhook authentication failed: this signature was already used (replay)');
      }
    }
    try {
      const outcome = await this.apply(row, adapter.name, event, request);
      await this.deps.integrations.noteReceived(row.id, now.toISOString());
      return outcome;
    } catch (error) {
      // Not processed: the provider's retry (same signature) must not be refused as a replay.
      if (token !== undefined) await this.deps.integrations.releaseToken(row.id, token).catch(() => undefined);
      throw error;
    }
  }

  private apply(row: BounceProviderRow, name: BounceProviderName, event: Exclude<ParsedProviderEvent, { kind: 'invalid' }>, request: ProviderWebhookRequest): Promise<ProviderOutcome> {
    if (event.kind === 'ignored') return Promise.resolve({ outcome: 'ignored', reason: event.reason });
    const tenantId = row.tenant_id;
    const original = { remoteAddress: request.remoteAddress, mailFrom: null, rcptTo: event.kind === 'report' ? event.report.email : event.email, raw: Buffer.from(JSON.stringify(request.body), 'utf8') };
    const source = `${name}: `;
    if (event.kind === 'unsupported') {
      return this.deps.reports.record({ tenantId, target: { reason: event.reason }, effect: { kind: null, reason: event.reason }, original, source });
    }
    const { report } = event;
    return this.deps.reports.record({ tenantId, target: targetOf(tenantId, report, this.deps.key), effect: providerEffectOf(report), original, source });
  }

  private secretsOf(row: BounceProviderRow): ProviderSecrets {
    let signingKey: string | undefined;
    if (row.signing_key_encrypted) {
      try {
        signingKey = this.deps.secretBox.decrypt(row.signing_key_encrypted, bounceProviderSecretContext(row.id));
      } catch (error) {
        if (!(error instanceof SecretBoxError)) throw error;
        // The server secret changed since it was sealed: no request can verify until the key is given again.
        this.deps.logger.error({ integrationId: row.id }, 'bounce provider: the signing key cannot be opened (was MAILINGCORE_SECRET changed?)');
      }
    }
    return {
      ...(row.username ? { username: row.username } : {}),
      ...(row.password_hash ? { passwordHash: row.password_hash } : {}),
      ...(signingKey !== undefined ? { signingKey } : {}),
    };
  }

  private toView(row: BounceProviderRow): BounceProviderView {
    return {
      id: row.id,
      provider: row.provider as BounceProviderName,
      url: `${this.deps.publicUrl.replace(/\/+$/, '')}/inbound/providers/${row.provider}/${row.id}`,
      createdAt: new Date(row.created_at).toISOString(),
      lastReceivedAt: row.last_received_at === null ? null : new Date(row.last_received_at).toISOString(),
    };
  }
}
