import net from 'node:net';
import selfsigned from 'selfsigned';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createSmtpTransport,
  parseSmtpUrl,
  projectPasswordContext,
  smtpSettingsOfProject,
  type SmtpTransport,
} from '../../src/delivery/smtp-transport.js';
import { OutboundPolicy, type OutboundPolicyOptions } from '../../src/net/outbound-policy.js';
import { SecretBox } from '../../src/shared/secret-box.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

let tls: { key: string; cert: string };

beforeAll(async () => {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] }],
  });
  tls = { key: pems.private, cert: pems.cert };
});

/** Sockets on which setNoDelay(true) was called, spied on the shared prototype. */
function spyNoDelay() {
  const sockets: net.Socket[] = [];
  const original = net.Socket.prototype.setNoDelay;
  const spy = vi.spyOn(net.Socket.prototype, 'setNoDelay').mockImplementation(function (this: net.Socket, noDelay?: boolean) {
    if (noDelay === true) sockets.push(this);
    return original.call(this, noDelay);
  });
  return { sockets, restore: () => spy.mockRestore() };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sinkWith(options: Parameters<typeof startSmtpSink>[0]): Promise<SmtpSink> {
  const sink = await startSmtpSink(options);
  cleanups.push(() => sink.close());
  return sink;
}

function transport(...args: Parameters<typeof createSmtpTransport>): SmtpTransport {
  const t = createSmtpTransport(...args);
  cleanups.push(() => t.close());
  return t;
}

/** The client sockets that set TCP_NODELAY and are the peers of the sink's sessions. */
function noDelayPeers(sink: SmtpSink, sockets: net.Socket[]) {
  const ports = new Set(sockets.map((s) => s.localPort));
  return sink.sessions.filter((session) => ports.has(session.remotePort));
}

const mail = (n: number) => ({
  from: 'sender@example.com',
  to: `rcpt${n}@example.com`,
  subject: `Message ${n}`,
  text: `Body ${n}`,
});

describe('createSmtpTransport', () => {
  it('delivers over plain SMTP with auth, on sockets that have Nagle turned off', async () => {
    const sink = await sinkWith({ auth: { user: 'u', pass: 'p' } });
    const spy = spyNoDelay();
    cleanups.push(spy.restore);
    const t = transport({ host: sink.host, port: sink.port, secure: false, user: 'u', pass: 'p' }, { maxConnections: 2 });

    await Promise.all([1, 2, 3, 4].map((n) => t.sendMail(mail(n))));

    expect(sink.messages.map((m) => m.envelope.to[0]).sort()).toEqual(
      ['rcpt1@example.com', 'rcpt2@example.com', 'rcpt3@example.com', 'rcpt4@example.com'],
    );
    expect(sink.messages.every((m) => m.user === 'u' && !m.secure)).toBe(true);
    expect(sink.sessions.length).toBeGreaterThan(0);
    // Every connection the sink saw came from a socket with setNoDelay(true).
    expect(noDelayPeers(sink, spy.sockets)).toHaveLength(sink.sessions.length);
  });

  it('keeps Nagle off with implicit TLS (secure: true)', async () => {
    const sink = await sinkWith({ secure: true, tls });
    const spy = spyNoDelay();
    cleanups.push(spy.restore);
    const t = transport({ host: sink.host, port: sink.port, secure: true }, { tls: { ca: tls.cert } });

    await t.sendMail(mail(1));

    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]!.secure).toBe(true);
    expect(sink.sessions).toHaveLength(1);
    expect(noDelayPeers(sink, spy.sockets)).toHaveLength(1);
  });

  it('keeps Nagle off through a STARTTLS upgrade', async () => {
    const sink = await sinkWith({ tls, auth: { user: 'u', pass: 'p' } });
    const spy = spyNoDelay();
    cleanups.push(spy.restore);
    const t = transport({ host: sink.host, port: sink.port, secure: false, user: 'u', pass: 'p' }, { tls: { ca: tls.cert } });

    await t.sendMail(mail(1));

    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]!.secure).toBe(true);
    expect(sink.sessions[0]!.secure).toBe(true);
    expect(noDelayPeers(sink, spy.sockets)).toHaveLength(1);
  });

  it('refuses a certificate it cannot verify', async () => {
    const sink = await sinkWith({ secure: true, tls });
    const t = transport({ host: sink.host, port: sink.port, secure: true }, { pool: false });
    await expect(t.sendMail(mail(1))).rejects.toThrow(/certificate/i);
    expect(sink.messages).toHaveLength(0);
  });

  it('works unpooled and from an smtp:// URL', async () => {
    const sink = await sinkWith({ auth: { user: 'us er', pass: 'p@ss:word' } });
    const spy = spyNoDelay();
    cleanups.push(spy.restore);
    const t = transport(`smtp://us%20er:p%40ss%3Aword@127.0.0.1:${sink.port}`, { pool: false });
    await t.sendMail(mail(1));
    expect(sink.messages[0]!.user).toBe('us er');
    expect(noDelayPeers(sink, spy.sockets)).toHaveLength(1);
  });

  it('reports the server refusing a recipient and a bad login', async () => {
    const sink = await sinkWith({
      auth: { user: 'u', pass: 'p' },
      recipientResponse: (address) => (address === 'gone@example.com' ? { code: 550, message: '5.1.1 No such user' } : undefined),
    });
    const good = transport({ host: sink.host, port: sink.port, secure: false, user: 'u', pass: 'p' }, { pool: false });
    await expect(good.sendMail({ ...mail(1), to: 'gone@example.com' })).rejects.toMatchObject({ responseCode: 550 });
    expect(sink.refused).toEqual([{ address: 'gone@example.com', code: 550 }]);

    const bad = transport({ host: sink.host, port: sink.port, secure: false, user: 'u', pass: 'wrong' }, { pool: false });
    await expect(bad.verify()).rejects.toMatchObject({ responseCode: 535 });
  });

  it('fails a connection to a closed port with an error, not a hang', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const t = transport({ host: '127.0.0.1', port, secure: false }, { pool: false });
    // Nodemailer reports it (code ESOCKET) once our own no-delay connection attempt has failed.
    await expect(t.verify()).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('createSmtpTransport with the outbound-connection policy', () => {
  let mailTestTls: { key: string; cert: string };
  beforeAll(async () => {
    // A certificate for the name only: it verifies only if TLS checks the host name, not the address connected to.
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'mail.test' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'mail.test' }] }],
    });
    mailTestTls = { key: pems.private, cert: pems.cert };
  });

  const policyWith = (options: OutboundPolicyOptions) =>
    new OutboundPolicy({ lookup: async (host) => (host === 'mail.test' ? [{ address: '127.0.0.1', family: 4 }] : []), ...options });

  it('connects a host name to its checked address and keeps the name for TLS (implicit TLS and STARTTLS)', async () => {
    const policy = policyWith({ smtpAllowHosts: ['mail.test'] });
    const implicit = await sinkWith({ secure: true, tls: mailTestTls });
    await transport({ host: 'mail.test', port: implicit.port, secure: true }, { policy, tls: { ca: mailTestTls.cert } }).sendMail(mail(1));
    expect(implicit.messages[0]!.secure).toBe(true);

    const starttls = await sinkWith({ tls: mailTestTls, auth: { user: 'u', pass: 'p' } });
    const t = transport({ host: 'mail.test', port: starttls.port, secure: false, user: 'u', pass: 'p' }, { policy, tls: { ca: mailTestTls.cert } });
    await t.sendMail(mail(2));
    expect(starttls.messages[0]).toMatchObject({ secure: true, user: 'u' });
  });

  it('checks the certificate against the host name, not the address', async () => {
    // `tls` is valid for 127.0.0.1 and localhost, not for mail.test.
    const sink = await sinkWith({ secure: true, tls });
    const policy = policyWith({ smtpAllowHosts: ['mail.test'] });
    const t = transport({ host: 'mail.test', port: sink.port, secure: true }, { policy, pool: false, tls: { ca: tls.cert } });
    await expect(t.verify()).rejects.toThrow(/altnames|mail\.test/i);
  });

  it('sends a password only over TLS: STARTTLS is required, unless SMTP_ALLOW_PLAIN_AUTH and the host is allow-listed', async () => {
    const sink = await sinkWith({ auth: { user: 'u', pass: 'p' } });
    const settings = { host: sink.host, port: sink.port, secure: false, user: 'u', pass: 'p' };
    const strict = transport(settings, { pool: false, policy: policyWith({ smtpAllowHosts: ['127.0.0.1'] }) });
    await expect(strict.verify()).rejects.toMatchObject({ code: 'ETLS', command: 'STARTTLS' });
    expect(sink.authAttempts).toEqual([]);

    const plain = transport(settings, { pool: false, policy: policyWith({ smtpAllowHosts: ['127.0.0.1'], smtpAllowPlainAuth: true }) });
    await expect(plain.verify()).resolves.toBe(true);
    expect(sink.authAttempts).toEqual([{ user: 'u', ok: true }]);

    // Without credentials there is nothing to protect: no STARTTLS needed.
    const anonymous = transport({ host: sink.host, port: sink.port, secure: false }, { pool: false, policy: policyWith({ smtpAllowHosts: ['127.0.0.1'] }) });
    await expect(anonymous.verify()).resolves.toBe(true);
  });

  it.each([false, true])('rejects every queued message to a refused host (secure: %s), without connecting or hanging', async (secure) => {
    const sink = await sinkWith({});
    const t = transport({ host: sink.host, port: sink.port, secure }, { maxConnections: 2, policy: policyWith({}) });
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => t.sendMail(mail(i))));
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toMatchObject({ code: 'HOST_NOT_ALLOWED', message: expect.stringMatching(/loopback/) });
    }
    expect(sink.sessions).toEqual([]);
  });

  it('leaves the operator\'s own SMTP_URL alone (no policy)', async () => {
    const sink = await sinkWith({});
    await transport(`smtp://127.0.0.1:${sink.port}`, { pool: false }).sendMail(mail(1));
    expect(sink.messages).toHaveLength(1);
  });
});

describe('parseSmtpUrl', () => {
  it('reads smtp and smtps URLs with default ports and encoded credentials', () => {
    expect(parseSmtpUrl('smtp://mail.example.com')).toEqual({ host: 'mail.example.com', port: 587, secure: false, user: null, pass: null });
    expect(parseSmtpUrl('smtps://a%40b:c%2Fd@mail.example.com')).toEqual({
      host: 'mail.example.com',
      port: 465,
      secure: true,
      user: 'a@b',
      pass: 'c/d',
    });
    expect(parseSmtpUrl('smtp://[::1]:2525').host).toBe('::1');
  });

  it('refuses other schemes and non-URLs', () => {
    expect(() => parseSmtpUrl('http://mail.example.com')).toThrow(/smtp:\/\//);
    expect(() => parseSmtpUrl('not a url')).toThrow(/valid URL/);
  });
});

describe('smtpSettingsOfProject', () => {
  const box = new SecretBox('secret');
  const row = {
    id: 'p1',
    smtp_host: 'mail.example.com',
    smtp_port: 465,
    smtp_secure: 1,
    smtp_user: 'user',
    smtp_pass_encrypted: box.encrypt('hunter2', projectPasswordContext('p1')),
  };

  it('decrypts the password sealed for that project', () => {
    expect(smtpSettingsOfProject(row, box)).toEqual({ host: 'mail.example.com', port: 465, secure: true, user: 'user', pass: 'hunter2' });
    expect(smtpSettingsOfProject({ ...row, smtp_secure: 0, smtp_pass_encrypted: null }, box)).toMatchObject({ secure: false, pass: null });
  });

  it('refuses a password sealed for another project', () => {
    expect(() => smtpSettingsOfProject({ ...row, id: 'p2' }, box)).toThrow();
  });
});

afterAll(() => vi.restoreAllMocks());
