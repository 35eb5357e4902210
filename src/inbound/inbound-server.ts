import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { FastifyBaseLogger } from 'fastify';
import { verifyBounceAddress, type BounceClaims } from '../delivery/bounce-address.js';
import type { Clock } from '../shared/time.js';
import type { InboundReportService } from './inbound-report.service.js';

export interface InboundLimits {
  /** Largest message accepted, bytes (DSNs and ARF reports are a few kB; the original message may be attached). */
  maxBytes: number;
  /** Connections open at once from one IP address. */
  connectionsPerIp: number;
  /** Messages accepted from one IP address per window. */
  messagesPerIp: number;
  windowMs: number;
  /** Messages per connection, and recipients per message. */
  messagesPerConnection: number;
  recipientsPerMessage: number;
  /** Connections open at once in all. */
  maxClients: number;
}

export const DEFAULT_INBOUND_LIMITS: InboundLimits = {
  maxBytes: 1024 * 1024,
  connectionsPerIp: 5,
  messagesPerIp: 120,
  windowMs: 60_000,
  messagesPerConnection: 20,
  recipientsPerMessage: 10,
  maxClients: 100,
};

export interface InboundServerOptions {
  host: string;
  port: number;
  /** The return-path key (bounceKey of the server secret). */
  key: Buffer;
  reports: InboundReportService;
  logger: FastifyBaseLogger;
  clock: Clock;
  limits?: Partial<InboundLimits>;
}

const refusal = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

/**
 * The inbound SMTP listener (`mailingcore inbound`): takes mail for the
 * bounce addresses this server issued and hands each message to
 * InboundReportService. Any other recipient is refused at RCPT (550), so
 * nothing but our own bounce addresses is ever read. No AUTH, no STARTTLS
 * (bounces arrive in plain text from any MTA; nothing secret is exchanged);
 * a size limit announced in EHLO and enforced on DATA; per-IP connection and
 * message limits, per-connection message and recipient limits.
 */
export class InboundServer {
  private readonly limits: InboundLimits;
  private readonly server: SMTPServer;
  private readonly open = new Map<string, number>();
  private window = { startedAt: 0, counts: new Map<string, number>() };
  private readonly claims = new WeakMap<SMTPServerSession, Map<string, BounceClaims>>();

  constructor(private readonly options: InboundServerOptions) {
    this.limits = { ...DEFAULT_INBOUND_LIMITS, ...options.limits };
    this.server = new SMTPServer({
      secure: false,
      disabledCommands: ['AUTH', 'STARTTLS'],
      authOptional: true,
      size: this.limits.maxBytes,
      maxClients: this.limits.maxClients,
      disableReverseLookup: true,
      logger: false,
      banner: 'MailingCore bounce processor',
      onConnect: (session, callback) => this.onConnect(session, callback),
      onClose: (session) => this.onClose(session),
      onMailFrom: (_address, session, callback) => {
        if (session.transaction > this.limits.messagesPerConnection) return callback(refusal(421, '4.7.0 Too many messages on one connection, reconnect'));
        callback();
      },
      onRcptTo: (address, session, callback) => this.onRcptTo(address, session, callback),
      onData: (stream, session, callback) => this.onData(stream, session, callback),
    });
    this.server.on('error', (error) => options.logger.warn({ err: error }, 'inbound SMTP error'));
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.server.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private onConnect(session: SMTPServerSession, callback: (error?: Error) => void): void {
    const ip = session.remoteAddress;
    const open = (this.open.get(ip) ?? 0) + 1;
    if (open > this.limits.connectionsPerIp) return callback(refusal(421, '4.7.0 Too many connections from your address'));
    this.open.set(ip, open);
    callback();
  }

  private onClose(session: SMTPServerSession): void {
    const ip = session.remoteAddress;
    const open = (this.open.get(ip) ?? 1) - 1;
    if (open <= 0) this.open.delete(ip);
    else this.open.set(ip, open);
  }

  /** One more message from this address in the current window; false once it is spent. */
  private takeMessage(ip: string): boolean {
    const now = this.options.clock().getTime();
    // A fixed window, forgotten whole when it ends: memory is bounded by the addresses seen in one window.
    if (now - this.window.startedAt >= this.limits.windowMs) this.window = { startedAt: now, counts: new Map() };
    const count = (this.window.counts.get(ip) ?? 0) + 1;
    this.window.counts.set(ip, count);
    return count <= this.limits.messagesPerIp;
  }

  private onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: (error?: Error) => void): void {
    if (session.envelope.rcptTo.length >= this.limits.recipientsPerMessage) return callback(refusal(452, '4.5.3 Too many recipients'));
    const claims = verifyBounceAddress(this.options.key, address.address);
    if (!claims) return callback(refusal(550, '5.1.1 No such recipient here'));
    let byAddress = this.claims.get(session);
    if (!byAddress) this.claims.set(session, (byAddress = new Map()));
    byAddress.set(address.address, claims);
    callback();
  }

  private onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null, message?: string) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is read and dropped (smtp-server sets sizeExceeded and the answer is 552).
      if (size <= this.limits.maxBytes) chunks.push(chunk);
    });
    stream.once('error', (error) => callback(error));
    stream.once('end', () => {
      if (stream.sizeExceeded || size > this.limits.maxBytes) return callback(refusal(552, `5.3.4 Message too big (at most ${this.limits.maxBytes} bytes)`));
      if (!this.takeMessage(session.remoteAddress)) return callback(refusal(450, '4.7.0 Too many messages from your address, try again later'));
      const raw = Buffer.concat(chunks);
      const byAddress = this.claims.get(session) ?? new Map<string, BounceClaims>();
      this.claims.delete(session);
      const recipients = session.envelope.rcptTo.map((r) => r.address);
      const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : null;
      void (async () => {
        for (const rcptTo of recipients) {
          const claims = byAddress.get(rcptTo);
          if (!claims) continue;
          const result = await this.options.reports.receive({ claims, rcptTo, mailFrom: mailFrom || null, remoteAddress: session.remoteAddress, raw });
          this.options.logger.info({ inbound: result, remoteAddress: session.remoteAddress }, 'inbound report');
        }
      })().then(
        () => callback(null, 'Report accepted'),
        (error: unknown) => {
          this.options.logger.error({ err: error }, 'inbound report could not be recorded');
          callback(refusal(451, '4.3.0 Could not record the report, try again later'));
        },
      );
    });
  }
}
