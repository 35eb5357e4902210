import { OutboundPolicy } from '../net/outbound-policy.js';
import type { ProjectRow } from '../projects/project.repository.js';
import type { SecretBox } from '../shared/secret-box.js';
import { parseSender, type Sender } from './compose.js';
import { CaptureMailer, SmtpMailer, type Mailer } from './mailer.js';
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
  /** Pooled SMTP connections per transport. */
  maxConnections?: number;
  /** How long an SMTP conversation may be silent before it is abandoned (and retried); default 30 s. */
  socketTimeoutMs?: number;
}

export interface Route {
  mailer: Mailer;
  sender: Sender;
  /** Rate-limit key and rate, when the project sets one. */
  rate?: { key: string; perSecond: number };
}

/**
 * Which transport an email leaves by: a test-mode send is always captured;
 * a campaign with an SMTP project uses that project's pooled transport
 * (rebuilt when the project changes), which connects only where the
 * outbound-connection policy allows; otherwise SMTP_URL (the operator's own,
 * not subject to the policy), or capture when there is none. Transports are
 * kept open between batches.
 */
export class TransportRegistry {
  private readonly projects = new Map<string, { version: string; route: Route }>();
  readonly capture: CaptureMailer;
  private readonly fallback: Route;

  constructor(
    private readonly settings: DeliverySettings,
    private readonly secretBox: SecretBox,
    /** Where tenants' SMTP servers may be connected to (default: public addresses only). */
    private readonly policy: OutboundPolicy = new OutboundPolicy(),
  ) {
    this.capture = new CaptureMailer(settings.outboxDir);
    const sender = parseSender(settings.mailFrom) ?? { fromEmail: 'noreply@mailingcore.invalid', fromName: 'MailingCore', replyTo: null };
    this.fallback = {
      mailer: settings.smtpUrl
        ? new SmtpMailer(createSmtpTransport(settings.smtpUrl, this.transportOptions()))
        : this.capture,
      sender,
    };
  }

  private transportOptions() {
    return { maxConnections: this.settings.maxConnections, socketTimeoutMs: this.settings.socketTimeoutMs };
  }

  /** The sender of campaigns without a project (MAIL_FROM). */
  get defaultSender(): Sender {
    return this.fallback.sender;
  }

  get publicUrl(): string {
    return this.settings.publicUrl;
  }

  route(project: ProjectRow | undefined, testMode: boolean): Route {
    const base = project ? this.projectRoute(project) : this.fallback;
    return testMode ? { mailer: this.capture, sender: base.sender } : base;
  }

  private projectRoute(project: ProjectRow): Route {
    const version = project.updated_at;
    const cached = this.projects.get(project.id);
    if (cached?.version === version) return cached.route;
    cached?.route.mailer.close();
    const route: Route = {
      mailer: new SmtpMailer(
        createSmtpTransport(smtpSettingsOfProject(project, this.secretBox), { ...this.transportOptions(), policy: this.policy }),
      ),
      sender: { fromEmail: project.from_email, fromName: project.from_name, replyTo: project.reply_to },
      ...(project.rate_limit_per_second ? { rate: { key: project.id, perSecond: project.rate_limit_per_second } } : {}),
    };
    this.projects.set(project.id, { version, route });
    return route;
  }

  close(): void {
    for (const { route } of this.projects.values()) route.mailer.close();
    this.projects.clear();
    this.fallback.mailer.close();
  }
}
