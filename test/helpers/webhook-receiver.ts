/**
 * A real webhook receiver for tests: an HTTP server on 127.0.0.1 (random
 * port) that checks every request the way docs/WEBHOOKS.md tells customers
 * to — the raw body, the X-MailingCore-Signature header and the endpoint's
 * secret through the SDK's `verifyWebhook` (±5 min) — and records it.
 *
 *   const receiver = await startWebhookReceiver();
 *   receiver.secret = created.secret;               // the endpoint's secret (from POST /webhooks/endpoints)
 *   receiver.behave('status', 500);                 // or 'ok', 'hang', 'slow', 'reset', 'redirect', 'huge', 'down'
 *   await receiver.waitFor(3);                      // ≥ 3 verified deliveries received
 *   receiver.received;                              // every request, verified or not
 *   await receiver.close();
 *
 * Behaviours: `ok` answers 200 "ok"; `status` answers the given code; `hang`
 * never answers (the connection stays open until the receiver closes);
 * `slow` answers 200 after `delayMs`; `reset` destroys the connection
 * without an answer; `redirect` answers 302 to a URL of its own; `huge`
 * answers 200 with an endless body (counting what the client read);
 * `hold` keeps each answer until `release()` answers them all 200;
 * `down` drops every connection as soon as it is made (the port stays
 * bound, so nothing else can take it while the receiver is "down").
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { verifyWebhook, WebhookVerificationError, type WebhookEvent } from '../../sdk/src/webhooks.js';

export type ReceiverBehaviour = 'ok' | 'status' | 'hang' | 'hold' | 'slow' | 'reset' | 'redirect' | 'huge' | 'down';

export interface ReceivedWebhook {
  /** The request path, without the query. */
  path: string;
  deliveryId: string;
  eventType: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  /** The verified event, or undefined when verification failed (see `error`). */
  event: WebhookEvent | undefined;
  error: string | undefined;
  /** What the receiver answered (0: no answer). */
  answered: number;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  secret: string;
  received: ReceivedWebhook[];
  /** Verified deliveries by delivery id: how many times each arrived. */
  countsByDelivery(): Map<string, number>;
  behave(behaviour: ReceiverBehaviour, statusOrDelayMs?: number): Promise<void>;
  /** Bytes the client read of `huge` bodies so far. */
  hugeBytesWritten: number;
  /** The most requests to one path that were in flight at once, by path. */
  maxInFlight: Map<string, number>;
  /** Answers every `hold`-held request 200; the number answered. */
  release(): number;
  waitFor(verified: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: { secret?: string; port?: number } = {}): Promise<WebhookReceiver> {
  let behaviour: ReceiverBehaviour = 'ok';
  let parameter = 0;
  const sockets = new Set<Socket>();
  const held = new Set<http.ServerResponse>();
  const holding: [ReceivedWebhook, http.ServerResponse][] = [];
  const inFlight = new Map<string, number>();

  const receiver: WebhookReceiver = {
    url: '',
    port: 0,
    secret: options.secret ?? '',
    received: [],
    hugeBytesWritten: 0,
    maxInFlight: new Map(),
    release() {
      const waiting = holding.splice(0);
      for (const [record, res] of waiting) {
        record.answered = 200;
        res.end('released');
      }
      return waiting.length;
    },
    countsByDelivery() {
      const counts = new Map<string, number>();
      for (const r of receiver.received) if (r.event) counts.set(r.deliveryId, (counts.get(r.deliveryId) ?? 0) + 1);
      return counts;
    },
    async behave(next, value = 0) {
      if (next === 'down') for (const socket of sockets) socket.destroy();
      behaviour = next;
      parameter = value;
    },
    async waitFor(verified, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ok = receiver.received.filter((r) => r.event);
        if (ok.length >= verified) return ok;
        if (Date.now() > deadline) throw new Error(`only ${ok.length} of ${verified} verified webhooks arrived: ${JSON.stringify(receiver.received.map((r) => r.error))}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async close() {
      for (const res of held) res.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const now = (inFlight.get(path) ?? 0) + 1;
    inFlight.set(path, now);
    receiver.maxInFlight.set(path, Math.max(now, receiver.maxInFlight.get(path) ?? 0));
    res.on('close', () => inFlight.set(path, (inFlight.get(path) ?? 1) - 1));
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let event: WebhookEvent | undefined;
      let error: string | undefined;
      try {
        event = verifyWebhook(rawBody, header(req, 'x-mailingcore-signature'), receiver.secret);
      } catch (e) {
        error = e instanceof WebhookVerificationError ? e.code : String(e);
      }
      const record: ReceivedWebhook = {
        path,
        deliveryId: header(req, 'x-mailingcore-delivery-id') ?? '',
        eventType: header(req, 'x-mailingcore-event') ?? '',
        headers: req.headers,
        rawBody,
        event,
        error,
        answered: 0,
      };
      receiver.received.push(record);
      answer(record, res);
    });
  });
  server.on('connection', (socket) => {
    if (behaviour === 'down') return socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function answer(record: ReceivedWebhook, res: http.ServerResponse) {
    switch (behaviour) {
      case 'ok':
      case 'down':
        record.answered = 200;
        res.end('ok');
        return;
      case 'status':
        record.answered = parameter;
        res.writeHead(parameter, { 'content-type': 'text/plain' }).end(`answered ${parameter}`);
        return;
      case 'hang':
        held.add(res);
        return;
      case 'hold':
        holding.push([record, res]);
        return;
      case 'slow':
        setTimeout(() => {
          record.answered = 200;
          res.end('slow ok');
        }, parameter);
        return;
      case 'reset':
        res.socket?.destroy();
        return;
      case 'redirect':
        record.answered = 302;
        res.writeHead(302, { location: `${receiver.url}/elsewhere` }).end();
        return;
      case 'huge': {
        record.answered = 200;
        res.writeHead(200, { 'content-type': 'text/plain' });
        const block = Buffer.alloc(64 * 1024, 'x');
        const pump = () => {
          while (!res.destroyed && res.write(block)) {
            receiver.hugeBytesWritten += block.length;
            // A client that stopped reading long ago: stop, this is far past 2 KiB.
            if (receiver.hugeBytesWritten > 64 * 1024 * 1024) return res.destroy();
          }
          if (!res.destroyed) res.once('drain', pump);
        };
        res.on('close', () => held.delete(res));
        held.add(res);
        pump();
        return;
      }
    }
  }

  async function listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    receiver.port = (server.address() as AddressInfo).port;
    receiver.url = `http://127.0.0.1:${receiver.port}`;
  }

  await listen(options.port ?? 0);
  return receiver;
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
