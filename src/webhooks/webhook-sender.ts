import http from 'node:http';
import net from 'node:net';
import type stream from 'node:stream';
import tls from 'node:tls';
import { isHostNotAllowed, type OutboundPolicy } from '../net/outbound-policy.js';
import { webhookSignature } from './webhook-signature.js';
import { hostOf, portOf } from './webhook-url.js';

/** The most of a receiver's answer that is read and kept; the connection is dropped after it. */
export const MAX_RESPONSE_BYTES = 2048;

export const USER_AGENT = 'MailingCore-Webhook/1.0';

export interface WebhookRequest {
  url: string;
  deliveryId: string;
  eventType: string;
  /** The stored payload: the exact bytes that are signed and sent. */
  body: string;
  secret: string;
}

export interface WebhookResult {
  /** Any 2xx within the timeout. */
  ok: boolean;
  statusCode: number | null;
  /** At most MAX_RESPONSE_BYTES of the answer, as text. */
  responseBody: string | null;
  /** Why it is not a success, in one short line (never the receiver's own text). */
  error: string | null;
}

/**
 * A run of requests to one endpoint (one claim): connections are kept alive
 * between its requests and every new connection goes through the outbound
 * policy. Close it when the claim ends.
 */
export interface WebhookSession {
  agent: http.Agent;
  close(): void;
}

/**
 * Posts signed webhook requests with Node's http client. Every TCP
 * connection is opened by the outbound policy (`OutboundPolicy.connect`),
 * which resolves the host once, refuses it if any address is not allowed,
 * and connects to a checked address — so a name that resolves somewhere
 * else at delivery time than at registration (DNS rebinding) is refused at
 * delivery. TLS is then started on that socket with the URL's host name
 * (SNI and certificate check). Redirects are not followed (a 3xx is a
 * failure), at most 2 KiB of the answer is read, and the whole attempt —
 * connect, TLS, request, status, body — must finish within `timeoutMs`.
 */
export class WebhookSender {
  private readonly now: () => number;

  constructor(
    private readonly policy: OutboundPolicy,
    private readonly timeoutMs: number,
    private readonly options: {
      /** Wall-clock time for the signature's timestamp (receivers compare it with theirs); default Date.now. */
      now?: () => number;
      /** Extra TLS options, e.g. `ca` for a private certificate authority (tests). */
      tls?: Pick<tls.ConnectionOptions, 'ca'>;
    } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  openSession(): WebhookSession {
    const agent = new CheckedAgent(this.policy, this.timeoutMs, this.options.tls ?? {});
    return { agent, close: () => agent.destroy() };
  }

  /** Sends one request; never throws (a failure is a result). Without a session a one-off connection is used. */
  async send(request: WebhookRequest, session?: WebhookSession): Promise<WebhookResult> {
    const own = session ?? this.openSession();
    try {
      return await this.post(request, own.agent);
    } finally {
      if (!session) own.close();
    }
  }

  private post(request: WebhookRequest, agent: http.Agent): Promise<WebhookResult> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return Promise.resolve(failure('the endpoint URL is not valid'));
    }
    if (url.protocol === 'http:' && !this.policy.privateAllowed('webhook')) {
      return Promise.resolve(failure('plain http is not allowed (https only, unless WEBHOOK_ALLOW_PRIVATE is set)'));
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.resolve(failure('the endpoint URL is not http(s)'));
    const body = Buffer.from(request.body, 'utf8');
    const timestamp = Math.floor(this.now() / 1000);
    const headers = {
      Host: url.host,
      'Content-Type': 'application/json',
      'Content-Length': String(body.length),
      'User-Agent': USER_AGENT,
      'X-MailingCore-Event': request.eventType,
      'X-MailingCore-Delivery-Id': request.deliveryId,
      'X-MailingCore-Signature': webhookSignature(body, request.secret, timestamp),
    };

    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: WebhookResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = http.request({
        method: 'POST',
        host: hostOf(url),
        port: portOf(url),
        path: `${url.pathname}${url.search}`,
        headers,
        agent,
        // Read by CheckedAgent.createConnection: whether to start TLS on the checked socket.
        ...({ webhookTls: url.protocol === 'https:' } as object),
      });
      const timer = setTimeout(() => {
        finish(failure(`timeout: no complete answer within ${this.timeoutMs} ms`));
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (error) => finish(failure(describeError(error))));
      // Interim 1xx answers are parsed without end by Node until the timeout: a receiver looping
      // `102 Processing` would burn the worker's CPU. Two are plenty (100 Continue, 103 Early Hints).
      let interim = 0;
      req.on('information', () => {
        if (++interim <= MAX_INTERIM_RESPONSES) return;
        finish(failure(`more than ${MAX_INTERIM_RESPONSES} interim (1xx) answers`));
        req.destroy();
      });
      req.on('response', (res) => {
        const statusCode = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          const responseBody = textOf(Buffer.concat(chunks));
          const ok = statusCode >= 200 && statusCode < 300;
          finish({ ok, statusCode, responseBody, error: ok ? null : describeStatus(statusCode) });
        };
        res.on('data', (chunk: Buffer) => {
          if (size >= MAX_RESPONSE_BYTES) return;
          const part = chunk.subarray(0, MAX_RESPONSE_BYTES - size);
          chunks.push(part);
          size += part.length;
          if (size >= MAX_RESPONSE_BYTES) {
            // Enough: a huge answer is never buffered; the connection is dropped (not reused).
            done();
            res.destroy();
          }
        });
        res.on('end', done);
        res.on('error', () => done());
        res.on('close', done);
      });
      req.end(body);
    });
  }
}

/**
 * A keep-alive agent whose connections are opened by the outbound policy
 * (checked address, no second lookup) and, for https, wrapped in TLS with
 * the URL's host name.
 */
/** Interim (1xx) answers accepted before the final one. */
const MAX_INTERIM_RESPONSES = 2;

class CheckedAgent extends http.Agent {
  constructor(
    private readonly policy: OutboundPolicy,
    private readonly timeoutMs: number,
    private readonly tlsOptions: Pick<tls.ConnectionOptions, 'ca'>,
  ) {
    super({ keepAlive: true, maxSockets: 1 });
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: stream.Duplex) => void,
  ): stream.Duplex | null | undefined {
    const host = String(options.host ?? '');
    const port = Number(options.port);
    const useTls = (options as { webhookTls?: boolean }).webhookTls === true;
    this.policy
      .connect(host, port, { purpose: 'webhook', timeoutMs: this.timeoutMs })
      .then(({ socket }) => {
        if (!useTls) return callback?.(null, socket);
        const secure = tls.connect({
          ...this.tlsOptions,
          socket,
          host,
          ...(net.isIP(host) ? {} : { servername: host }),
          ALPNProtocols: ['http/1.1'],
        });
        callback?.(null, secure);
      })
      .catch((error: Error) => callback?.(error, undefined as never));
    return undefined;
  }

  // Keep-alive sockets are keyed by host:port: http and https to the same port must not share one.
  override getName(options?: http.ClientRequestArgs & { webhookTls?: boolean }): string {
    return `${super.getName(options)}:${options?.webhookTls ? 'tls' : 'plain'}`;
  }
}

const failure = (error: string): WebhookResult => ({ ok: false, statusCode: null, responseBody: null, error });

function describeStatus(statusCode: number): string {
  if (statusCode >= 300 && statusCode < 400) return `HTTP ${statusCode}: redirects are not followed`;
  return `HTTP ${statusCode}`;
}

const TLS_CODES = /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/** One short phrase per failure; a refused host keeps the policy's message (it names no resolved address). */
function describeError(error: Error): string {
  if (isHostNotAllowed(error)) return `host not allowed: ${error.message}`;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return 'host not found';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'connection reset';
  if (code === 'ETIMEDOUT') return 'connection timeout';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
  if (code === 'HPE_INVALID_CONSTANT' || code.startsWith('HPE_')) return 'not an HTTP answer';
  if (TLS_CODES.test(code) || /certificate|SSL|TLS/i.test(error.message)) return `TLS failed (${code || 'handshake'})`;
  if (/socket hang up/i.test(error.message)) return 'connection closed before an answer';
  return `request failed${code ? ` (${code})` : ''}`;
}

/** The kept answer as text that both engines store: UTF-8, NUL characters replaced (PostgreSQL text refuses them). */
function textOf(bytes: Buffer): string {
  return bytes.toString('utf8').replace(/\u0000/g, '\uFFFD');
}
