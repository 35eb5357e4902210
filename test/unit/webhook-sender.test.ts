import https from 'node:https';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import selfsigned from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../sdk/src/webhooks.js';
import { OutboundPolicy } from '../../src/net/outbound-policy.js';
import { WebhookSender } from '../../src/webhooks/webhook-sender.js';

const SECRET = 'whsec_sender-unit-test-0123456789abcdefghij';

/** The HTTP client of webhooks against local servers: TLS with the URL's host name, connections only through the policy. */
describe('WebhookSender', () => {
  let tlsFiles: { key: string; cert: string };
  let server: https.Server;
  let port: number;
  const serverNames: string[] = [];
  let connections = 0;
  const requests: { headers: http.IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    // A certificate for a name only: it verifies only if TLS checks the URL's host name, not the address connected to.
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'hooks.test' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'hooks.test' }] }],
    });
    tlsFiles = { key: pems.private, cert: pems.cert };
    server = https.createServer({ ...tlsFiles }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.end('tls ok');
      });
    });
    server.on('secureConnection', (socket) => {
      connections++;
      serverNames.push(String((socket as unknown as { servername?: string }).servername));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  let lookups = 0;
  const policy = (webhookAllowPrivate: boolean) =>
    new OutboundPolicy({
      webhookAllowPrivate,
      lookup: async () => {
        lookups++;
        return [{ address: '127.0.0.1', family: 4 }];
      },
    });
  const request = (url: string, deliveryId = 'd-1') => ({ url, deliveryId, eventType: 'email.sent', body: '{"id":"e","type":"email.sent","data":{}}', secret: SECRET });

  it('speaks TLS with the URL’s host name (SNI, certificate check) on the address the policy checked, and signs the body', async () => {
    const sender = new WebhookSender(policy(true), 5000, { tls: { ca: tlsFiles.cert } });
    const before = requests.length;
    const result = await sender.send(request(`https://hooks.test:${port}/in?x=1`));
    expect(result).toEqual({ ok: true, statusCode: 200, responseBody: 'tls ok', error: null });
    expect(serverNames.at(-1)).toBe('hooks.test');
    const got = requests[before]!;
    expect(got.headers.host).toBe(`hooks.test:${port}`);
    expect(got.headers['user-agent']).toBe('MailingCore-Webhook/1.0');
    expect(verifyWebhook(got.body, got.headers['x-mailingcore-signature'] as string, SECRET).type).toBe('email.sent');
  });

  it('keeps the connection of a session alive between requests; every new connection is looked up and checked', async () => {
    const sender = new WebhookSender(policy(true), 5000, { tls: { ca: tlsFiles.cert } });
    const session = sender.openSession();
    const [lookupsBefore, connectionsBefore] = [lookups, connections];
    try {
      for (const id of ['k-1', 'k-2', 'k-3']) expect((await sender.send(request(`https://hooks.test:${port}/in`, id), session)).ok).toBe(true);
    } finally {
      session.close();
    }
    expect(connections - connectionsBefore).toBe(1);
    expect(lookups - lookupsBefore).toBe(1);
  });

  it('refuses a certificate it cannot trust, or one for another name', async () => {
    const untrusted = await new WebhookSender(policy(true), 5000).send(request(`https://hooks.test:${port}/in`));
    expect(untrusted).toMatchObject({ ok: false, statusCode: null, error: expect.stringMatching(/^TLS failed/) });
    // The right CA, but the URL names another host (resolving to the same address): the name check fails.
    const mismatch = await new WebhookSender(policy(true), 5000, { tls: { ca: tlsFiles.cert } }).send(request(`https://other.test:${port}/in`));
    expect(mismatch).toMatchObject({ ok: false, error: expect.stringMatching(/^TLS failed/) });
  });

  it('connects to nothing the policy refuses: a name resolving to loopback, plain http without WEBHOOK_ALLOW_PRIVATE', async () => {
    const strict = new WebhookSender(policy(false), 5000, { tls: { ca: tlsFiles.cert } });
    const before = connections;
    expect(await strict.send(request(`https://hooks.test:${port}/in`))).toMatchObject({
      ok: false,
      error: 'host not allowed: hooks.test resolves to a loopback address; connections to it are not allowed',
    });
    expect(await strict.send(request(`http://hooks.test:${port}/in`))).toMatchObject({ ok: false, error: expect.stringContaining('plain http is not allowed') });
    expect(connections).toBe(before);
  });

  it('gives up on a receiver that answers interim 1xx responses without end (no CPU spent until the timeout)', async () => {
    let interims = 0;
    const looping = net.createServer((socket) => {
      socket.once('data', () => {
        const more = () => {
          if (socket.destroyed) return;
          interims++;
          socket.write('HTTP/1.1 102 Processing\r\n\r\n', () => setImmediate(more));
        };
        more();
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => looping.listen(0, '127.0.0.1', resolve));
    const loopPort = (looping.address() as AddressInfo).port;
    try {
      const sender = new WebhookSender(policy(true), 5000);
      const result = await sender.send(request(`http://hooks.test:${loopPort}/in`));
      expect(result).toMatchObject({ ok: false, error: 'more than 2 interim (1xx) answers' });
      expect(interims).toBeLessThan(1000);
    } finally {
      await new Promise<void>((resolve) => looping.close(() => resolve()));
    }
  });
});
