import { OutboundPolicy } from '../net/outbound-policy.js';
import type { ProjectRow } from '../projects/project.repository.js';
import type { Lane } from './delivery-store.js';
import type { SecretBox } from '../shared/secret-box.js';
import { parseSender, type Sender } from './compose.js';
import { CaptureMailer, SmtpMailer, type Mailer } from './mailer.js';
import type { SendRate } from './rate-limiter.js';
import { createSmtpTransport, smtpSettingsOfProject } from '../net/smtp-transport.js';

export interface DeliverySettings {
  /** Default SMTP server for campaigns without a project; undefined: capture to files. */
  smtpUrl: string | undefined;
  /** Where captured emails are written. */
  outboxDir: string;
  /** Sender of emails without a project. */
  mailFrom: string;
  /** Base of unsubscribe links. */
  publicUrl: string;
  /** Pooled SMTP connections per transport for campaigns (SMTP_MAX_CONNECTIONS); a project's `max_connections` overrides it. */
  maxConnections?: number;
  /** Pooled SMTP connections per transport kept for the priority lane (transactional email); default 2. */
  priorityConnections?: number;
  /** How long an SMTP conversation may be silent before it is abandoned (and retried); default 30 s. */
  socketTimeoutMs?: number;
}

export interface Route {
  mailer: Mailer;
  sender: Sender;
  /** The project's rate limit, when it sets one (delivery/rate-limiter.ts). */
  rate?: SendRate;
}

/**
 * Which transport an email leaves by: a test-mode send is always captured;
 * a campaign with an SMTP project uses that project's pooled transport
 * (rebuilt when the project changes), which connects only where the
 * outbound-connection policy allows; otherwise SMTP_URL (the operator's own,
 * not subject to the policy), or capture when there is none. Transports are
 * kept open between batches. Each lane has transports of its own: the
 * priority lane's few connections are never busy with a campaign.
 */
export class TransportRegistry {
  private readonly projects: Record<Lane, Map<string, { version: string; route: Route }>> = { campaign: new Map(), transactional: new Map() };
  readonly capture: CaptureMailer;
  private readonly fallbacks: Record<Lane, Route>;

  constructor(
    private readonly settings: DeliverySettings,
    private readonly secretBox: SecretBox,
    /** Where tenants' SMTP servers may be connected to (default: public addresses only). */
    private readonly policy: OutboundPolicy = new OutboundPolicy(),
  ) {
    this.capture = new CaptureMailer(settings.outboxDir);
    const sender = parseSender(settings.mailFrom) ?? { fromEmail: 'noreply@mailingcore.invalid', fromName: 'MailingCore', replyTo: null };
    const fallback = (lane: Lane): Route => ({
      mailer: settings.smtpUrl ? new SmtpMailer(createSmtpTransport(settings.smtpUrl, this.transportOptions(lane))) : this.capture,
      sender,
    });
    this.fallbacks = { campaign: fallback('campaign'), transactional: fallback('transactional') };
  }

  /** A campaign lane's pool: the project's `maxConnections` when it sets one, else the process default (SMTP_MAX_CONNECTIONS). */
  private transportOptions(lane: Lane, project?: ProjectRow) {
    const maxConnections =
      lane === 'transactional' ? (this.settings.priorityConnections ?? 2) : (project?.max_connections ?? this.settings.maxConnections);
    return { maxConnections, socketTimeoutMs: this.settings.socketTimeoutMs };
  }

  /** The sender of emails without a project (MAIL_FROM). */
  get defaultSender(): Sender {
    return this.fallbacks.campaign.sender;
  }

  get publicUrl(): string {
    return this.settings.publicUrl;
  }

  route(project: ProjectRow | undefined, testMode: boolean, lane: Lane = 'campaign'): Route {
    const base = project ? this.projectRoute(project, lane) : this.fallbacks[lane];
    return testMode ? { mailer: this.capture, sender: base.sender } : base;
  }

  private projectRoute(project: ProjectRow, lane: Lane): Route {
    const version = project.updated_at;
    const projects = this.projects[lane];
    const cached = projects.get(project.id);
    if (cached?.version === version) return cached.route;
    cached?.route.mailer.close();
    const route: Route = {
      mailer: new SmtpMailer(
        createSmtpTransport(smtpSettingsOfProject(project, this.secretBox), { ...this.transportOptions(lane, project), policy: this.policy }),
      ),
      sender: { fromEmail: project.from_email, fromName: project.from_name, replyTo: project.reply_to },
      ...(project.rate_limit_per_second ? { rate: { tenantId: project.tenant_id, key: project.id, perSecond: project.rate_limit_per_second } } : {}),
    };
    projects.set(project.id, { version, route });
    return route;
  }

  close(): void {
    for (const lane of ['campaign', 'transactional'] as const) {
      for (const { route } of this.projects[lane].values()) route.mailer.close();
      this.projects[lane].clear();
      this.fallbacks[lane].mailer.close();
    }
  }
}
