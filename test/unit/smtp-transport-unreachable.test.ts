import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createSmtpTransport } from '../../src/net/smtp-transport.js';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('pooled SMTP transport to an unreachable server', () => {
  it('rejects every queued message instead of leaving some waiting forever', async () => {
    // Regression: a getSocket error left the pool resource busy and later messages never settled.
    const transport = createSmtpTransport({ host: '127.0.0.1', port: await closedPort(), secure: false }, { maxConnections: 2 });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) => transport.sendMail({ from: 'a@b.test', to: `x${i}@y.test`, subject: 's', text: 't' })),
      );
      expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
      for (const r of results) expect(String((r as PromiseRejectedResult).reason)).toMatch(/ECONNREFUSED/);
    } finally {
      transport.close();
    }
  }, 20_000);
});
