/**
 * A real SMTP server for tests (the `smtp-server` package), listening on
 * 127.0.0.1 at a random port, that records every message it accepts.
 *
 *   const sink = await startSmtpSink({ auth: { user: 'u', pass: 'p' } });
 *   // point a transport at 127.0.0.1:sink.port and send …
 *   const [message] = await sink.waitFor(1);          // resolves once ≥ 1 message arrived
 *   message.envelope.to;                              // ['a@example.com']
 *   message.headers.get('list-unsubscribe');          // parsed by mailparser
 *   message.raw;                                      // the exact bytes received (Buffer)
 *   await sink.close();
 *
 * Options
 * - `auth: {user, pass}`: AUTH PLAIN/LOGIN required, only these credentials
 *   pass (535 otherwise). Without it AUTH is optional and any login passes.
 * - `rejectAuth`: every AUTH attempt fails with 535.
 * - `recipientResponse(address)`: return `{code, message}` to refuse that RCPT
 *   TO (e.g. 550 for a hard bounce, 451 for a soft one); undefined accepts.
 *   Refused recipients are listed in `sink.refused`.
 * - `secure: true` + `tls: {key, cert}`: implicit TLS from the first byte.
 *   `tls` without `secure`: STARTTLS offered. Neither: plain text only
 *   (STARTTLS disabled, AUTH allowed without TLS).
 * - `delayMs`: wait this long after each message's data before recording
 *   it and answering 250, like a slow server (default 0: answer at once).
 * - `parse: false`: skip mailparser (costly with thousands of messages):
 *   `headers` holds each header's raw unfolded text, and `parsed` only
 *   `headers`, `headerLines`, `messageId` and `subject` (html is false).
 *
 * A message is recorded (and parsed) before the server answers 250 to DATA,
 * so once a client's sendMail resolves the message is already in
 * `sink.messages`. `sink.sessions` records each connection's remote port
 * and whether it was secure, so a test can tie a client socket to a server
 * session. `sink.reset()` forgets everything recorded so far.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type HeaderValue, type Headers, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { afterAll, beforeAll } from 'vitest';

export interface SinkMessage {
  envelope: { from: string | null; to: string[] };
  raw: Buffer;
  /** Lower-cased header names, as mailparser gives them. */
  headers: Map<string, HeaderValue>;
  parsed: ParsedMail;
  /** The user that authenticated on the connection, if any. */
  user: string | null;
  secure: boolean;
  /** When its data was accepted (epoch ms, after any `delayMs`). */
  receivedAt: number;
}

export interface SinkSession {
  remoteAddress: string;
  remotePort: number;
  secure: boolean;
}

export interface SmtpSinkOptions {
  auth?: { user: string; pass: string };
  rejectAuth?: boolean;
  recipientResponse?: (address: string) => { code: number; message?: string } | undefined;
  secure?: boolean;
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Per-message delay before the message is recorded and DATA answered (ms). */
  delayMs?: number;
  /** False: headers only, without mailparser (default true). */
  parse?: boolean;
  /** Listen on this port (e.g. to come back after a simulated outage); default: a free one. */
  port?: number;
  /**
   * A fault at the end of DATA for a message to these recipients: 'drop' cuts the
   * connection before answering, 'stall' never answers (the client times out),
   * `{code}` answers with that SMTP code. Undefined: accept.
   */
  dataFault?: (recipients: string[]) => 'drop' | 'stall' | { code: number; message?: string } | undefined;
}

export interface SmtpSink {
  host: '127.0.0.1';
  port: number;
  messages: SinkMessage[];
  refused: { address: string; code: number }[];
  sessions: SinkSession[];
  authAttempts: { user: string; ok: boolean }[];
  waitFor(count: number, timeoutMs?: number): Promise<SinkMessage[]>;
  reset(): void;
  close(): Promise<void>;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  const refused: SmtpSink['refused'] = [];
  const sessions: SinkSession[] = [];
  const authAttempts: SmtpSink['authAttempts'] = [];
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((check) => check());

  const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

  const serverOptions: SMTPServerOptions = {
    secure: options.secure === true,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    disabledCommands: options.tls ? [] : ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: !options.auth && !options.rejectAuth,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    banner: 'MailingCore test sink',
    size: 50 * 1024 * 1024,
    // close() waits this long for clients (e.g. a pooled transport left open) before cutting them off.
    closeTimeout: 1000,
    onConnect(session, callback) {
      sessions.push({ remoteAddress: session.remoteAddress, remotePort: session.remotePort, secure: session.secure });
      callback();
    },
    onSecure(_socket, session, callback) {
      const recorded = sessions.find((s) => s.remotePort === session.remotePort);
      if (recorded) recorded.secure = true;
      callback();
    },
    onAuth(auth, _session, callback) {
      const user = auth.username ?? '';
      const ok =
        !options.rejectAuth &&
        (!options.auth || (user === options.auth.user && auth.password === options.auth.pass));
      authAttempts.push({ user, ok });
      if (!ok) return callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
      callback(null, { user });
    },
    onRcptTo(address, _session, callback) {
      const answer = options.recipientResponse?.(address.address);
      if (answer) {
        refused.push({ address: address.address, code: answer.code });
        return callback(smtpError(answer.code, answer.message ?? `Recipient ${address.address} refused`));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (error) => callback(error));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const fault = options.dataFault?.(session.envelope.rcptTo.map((r) => r.address));
        if (fault === 'stall') return;
        if (fault === 'drop') {
          const connections = (server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> }).connections;
          for (const connection of connections) if (connection.id === session.id) connection._socket.destroy();
          return;
        }
        if (fault) return callback(smtpError(fault.code, fault.message ?? `${fault.code} fault injected by the sink`));
        const delay = options.delayMs ? new Promise<void>((resolve) => setTimeout(resolve, options.delayMs)) : Promise.resolve();
        delay
          .then(() => record(raw, session, Date.now()))
          .then(() => callback())
          .catch((error: Error) => callback(smtpError(451, `4.3.0 sink could not parse the message: ${error.message}`)));
      });
    },
  };

  async function record(raw: Buffer, session: SMTPServerSession, receivedAt: number): Promise<void> {
    const parsed = options.parse === false ? headersOnly(raw) : await simpleParser(raw);
    const from = session.envelope.mailFrom;
    messages.push({
      envelope: { from: from ? from.address : null, to: session.envelope.rcptTo.map((r) => r.address) },
      raw,
      headers: parsed.headers,
      parsed,
      user: typeof session.user === 'string' ? session.user : null,
      secure: session.secure,
      receivedAt,
    });
    notify();
  }

  const server = new SMTPServer(serverOptions);
  // Clients that drop the connection mid-test are expected; do not crash the run.
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;

  return {
    host: '127.0.0.1',
    port,
    messages,
    refused,
    sessions,
    authAttempts,
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(messages.slice());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`SMTP sink: expected ${count} message(s) within ${timeoutMs} ms, got ${messages.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    reset() {
      messages.length = 0;
      refused.length = 0;
      sessions.length = 0;
      authAttempts.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The header block split into unfolded lines, without decoding anything (for `parse: false`). */
function headersOnly(raw: Buffer): ParsedMail {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const block = end === -1 ? text : text.slice(0, end);
  const headers: Headers = new Map();
  const headerLines: { key: string; line: string }[] = [];
  for (const line of block.split(/\r?\n(?![ \t])/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    headerLines.push({ key, line });
    if (!headers.has(key)) headers.set(key, line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim());
  }
  const messageId = headers.get('message-id');
  const subject = headers.get('subject');
  return {
    attachments: [],
    headers,
    headerLines,
    html: false,
    ...(typeof messageId === 'string' ? { messageId } : {}),
    ...(typeof subject === 'string' ? { subject } : {}),
  };
}

/**
 * A sink for one describe block (started before its tests, closed after) whose
 * DATA answer is 554 once for each address passed to `refuseOnce`, so a test
 * can make a message FAILED and then retry it.
 */
export function useRefusingSink(): { readonly sink: SmtpSink; refuseOnce(...addresses: string[]): void } {
  const refused = new Set<string>();
  let sink: SmtpSink | undefined;
  beforeAll(async () => {
    sink = await startSmtpSink({
      dataFault: ([address]) => {
        if (address && refused.has(address)) {
          refused.delete(address);
          return { code: 554, message: '5.6.0 Content rejected' };
        }
        return undefined;
      },
    });
  });
  afterAll(async () => sink?.close());
  return {
    get sink() {
      if (!sink) throw new Error('the sink starts in beforeAll');
      return sink;
    },
    refuseOnce: (...addresses) => addresses.forEach((a) => refused.add(a)),
  };
}
