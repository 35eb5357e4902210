import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('defaults to the embedded SQLite file under ./data', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ dialect: 'sqlite', file: path.resolve('data/mailingcore.db') });
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.publicUrl).toBe('http://127.0.0.1:3000');
    expect(config.secret).toBeUndefined();
  });

  it('reads every setting', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://u:p@db:5432/mc',
      DATA_DIR: '/var/lib/mc',
      PORT: '8080',
      HOST: '0.0.0.0',
      PUBLIC_URL: 'https://mail.example.com/',
      MAILINGCORE_SECRET: 'x'.repeat(32),
      SMTP_URL: 'smtp://user:pw@smtp.example.com:587',
    });
    expect(config.database).toEqual({ dialect: 'postgres', url: 'postgresql://u:p@db:5432/mc' });
    expect(config.dataDir).toBe('/var/lib/mc');
    expect(config.port).toBe(8080);
    expect(config.publicUrl).toBe('https://mail.example.com');
    expect(config.secret).toBe('x'.repeat(32));
    expect(config.smtpUrl).toBe('smtp://user:pw@smtp.example.com:587');
  });

  it('takes sqlite: and file: URLs', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:/tmp/a.db' }).database).toEqual({ dialect: 'sqlite', file: '/tmp/a.db' });
    expect(loadConfig({ DATABASE_URL: 'file:rel.db' }).database).toEqual({ dialect: 'sqlite', file: path.resolve('rel.db') });
  });

  it.each([
    [{ PORT: 'abc' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ PUBLIC_URL: 'ftp://x' }, /PUBLIC_URL/],
    [{ MAILINGCORE_SECRET: 'short' }, /at least 32/],
    [{ SMTP_URL: 'http://x' }, /SMTP_URL/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ LOG_FORMAT: 'xml' }, /^LOG_FORMAT must be pretty or json \(got "xml"\)$/],
    [{ METRICS_TOKEN: 'short' }, /METRICS_TOKEN/],
    [{ TRUST_PROXY: 'true' }, /^TRUST_PROXY must be proxy addresses or CIDRs .*trusting every sender/],
    [{ TRUST_PROXY: '10.0.0.5, proxy.lan' }, /^TRUST_PROXY must be proxy addresses or CIDRs .*"proxy.lan" is not one$/],
    [{ TRUST_PROXY: '10.0.0.0/33' }, /^TRUST_PROXY/],
    [{ TRUST_PROXY: '2' }, /^TRUST_PROXY/],
    [{ METRICS_PORT: 'nine' }, /^METRICS_PORT must be an integer/],
    [{ ALLOW_PRIVATE_NETWORKS: 'yes' }, /^ALLOW_PRIVATE_NETWORKS must be true or false \(got "yes"\)$/],
    [{ SMTP_ALLOW_PLAIN_AUTH: 'on' }, /^SMTP_ALLOW_PLAIN_AUTH must be true or false/],
    [{ SMTP_ALLOW_HOSTS: '10.0.0.0/8, relay lan' }, /^SMTP_ALLOW_HOSTS: "relay lan" is not a host name, IP address or CIDR range$/],
    [{ SMTP_ALLOW_HOSTS: '10.0.0.0/40' }, /^SMTP_ALLOW_HOSTS: "10.0.0.0\/40" is not a valid CIDR range$/],
    [{ RENDER_THREADS: '0' }, /^RENDER_THREADS must be an integer from 1 to 64/],
    [{ RENDER_TIMEOUT_MS: '50' }, /^RENDER_TIMEOUT_MS must be a whole number of milliseconds from 100 to 60000/],
    [{ RENDER_MAX_HEAP_MB: '8' }, /^RENDER_MAX_HEAP_MB must be an integer from 32 to 16384/],
    [{ RENDER_MAX_BYTES: '1MiB' }, /^RENDER_MAX_BYTES must be an integer from 1024 to 67108864/],
    [{ TRACKING_FLUSH_MS: '5' }, /^TRACKING_FLUSH_MS must be a whole number of milliseconds from 10 to 60000 \(got "5"\)$/],
    [{ TRACKING_FLUSH_HITS: '0' }, /^TRACKING_FLUSH_HITS must be an integer from 1 to 10000/],
    [{ TRACKING_MACHINE_OPEN_SECONDS: '1.5' }, /^TRACKING_MACHINE_OPEN_SECONDS must be an integer from 0 to 3600/],
  ])('refuses %j with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reads TEST_SENDS_PER_HOUR: 50 by default, a whole number from 1 to 100000', () => {
    expect(loadConfig({}).testSendsPerHour).toBe(50);
    expect(loadConfig({ TEST_SENDS_PER_HOUR: ' 5 ' }).testSendsPerHour).toBe(5);
    for (const bad of ['0', '-1', '1.5', 'lots', '100001']) {
      expect(() => loadConfig({ TEST_SENDS_PER_HOUR: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ TEST_SENDS_PER_HOUR: bad }), bad).toThrow(/TEST_SENDS_PER_HOUR/);
    }
  });

  it('reads LIST_TOTAL_CACHE_MS: 1000 by default, 0 (count every full page) to 60000', () => {
    expect(loadConfig({}).listTotalCacheMs).toBe(1000);
    expect(loadConfig({ LIST_TOTAL_CACHE_MS: '0' }).listTotalCacheMs).toBe(0);
    expect(loadConfig({ LIST_TOTAL_CACHE_MS: '5000' }).listTotalCacheMs).toBe(5000);
    for (const bad of ['-1', 'soon', '60001']) expect(() => loadConfig({ LIST_TOTAL_CACHE_MS: bad }), bad).toThrow(/LIST_TOTAL_CACHE_MS/);
  });

  it('reads SOFT_BOUNCE_LIMIT: 3 by default, a whole number from 1 to 1000', () => {
    expect(loadConfig({}).softBounceLimit).toBe(3);
    expect(loadConfig({ SOFT_BOUNCE_LIMIT: '5' }).softBounceLimit).toBe(5);
    for (const bad of ['0', '-1', '2.5', 'many', '1001']) {
      expect(() => loadConfig({ SOFT_BOUNCE_LIMIT: bad }), bad).toThrow(/SOFT_BOUNCE_LIMIT/);
    }
  });

  it('reads the priority lane settings: TX_CONCURRENCY, TX_POLL_MS, TX_SMTP_CONNECTIONS, with defaults and bounds', () => {
    expect(loadConfig({}).sending.priority).toEqual({ sendConcurrency: 10, pollMs: 25, connections: 2 });
    expect(loadConfig({ TX_CONCURRENCY: '4', TX_POLL_MS: '100', TX_SMTP_CONNECTIONS: '3' }).sending.priority).toEqual({ sendConcurrency: 4, pollMs: 100, connections: 3 });
    expect(() => loadConfig({ TX_CONCURRENCY: '0' })).toThrow(/TX_CONCURRENCY/);
    expect(() => loadConfig({ TX_POLL_MS: '1' })).toThrow(/TX_POLL_MS/);
    expect(() => loadConfig({ TX_SMTP_CONNECTIONS: '21' })).toThrow(/TX_SMTP_CONNECTIONS/);
  });

  it('reads SMTP_MAX_CONNECTIONS and WORKER_SEND_CONCURRENCY; by default a loop has enough sends in flight for two per connection', () => {
    const defaults = loadConfig({}).sending;
    expect([defaults.smtpConnections, defaults.loops, defaults.sendConcurrency]).toEqual([5, 2, 10]);
    // 20 connections over 2 loops: 40 in flight, 20 per loop.
    expect(loadConfig({ SMTP_MAX_CONNECTIONS: '20' }).sending).toMatchObject({ smtpConnections: 20, sendConcurrency: 20 });
    expect(loadConfig({ SMTP_MAX_CONNECTIONS: '50', WORKER_CONCURRENCY: '4' }).sending).toMatchObject({ smtpConnections: 50, sendConcurrency: 25 });
    expect(loadConfig({ SMTP_MAX_CONNECTIONS: '20', WORKER_SEND_CONCURRENCY: '7' }).sending).toMatchObject({ smtpConnections: 20, sendConcurrency: 7 });
    for (const bad of ['0', '51', 'five', '2.5']) expect(() => loadConfig({ SMTP_MAX_CONNECTIONS: bad }), bad).toThrow(/SMTP_MAX_CONNECTIONS/);
    for (const bad of ['0', '501']) expect(() => loadConfig({ WORKER_SEND_CONCURRENCY: bad }), bad).toThrow(/WORKER_SEND_CONCURRENCY/);
  });

  it('reads TRUST_PROXY as a list of proxy addresses and CIDRs, unset by default', () => {
    expect(loadConfig({}).trustProxy).toBeUndefined();
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBeUndefined();
    expect(loadConfig({ TRUST_PROXY: ' 10.0.0.5, 10.1.0.0/16,::1 ' }).trustProxy).toEqual(['10.0.0.5', '10.1.0.0/16', '::1']);
  });

  it('reads the metrics token and the worker metrics port, both optional', () => {
    expect(loadConfig({})).toMatchObject({ metricsToken: undefined, metricsPort: undefined });
    expect(loadConfig({ METRICS_TOKEN: ' scrape-token-0123456789 ', METRICS_PORT: '9464' })).toMatchObject({
      metricsToken: 'scrape-token-0123456789',
      metricsPort: 9464,
    });
  });

  it('logs pretty on a terminal and JSON otherwise, unless LOG_FORMAT says', () => {
    expect(loadConfig({}, true).logFormat).toBe('pretty');
    expect(loadConfig({}, false).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'json' }, true).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: ' Pretty ' }, false).logFormat).toBe('pretty');
  });

  it('reads the outbound-connection allow-list: nothing private by default', () => {
    expect(loadConfig({}).outbound).toEqual({ allowPrivateNetworks: false, smtpAllowHosts: [], smtpAllowPlainAuth: false, webhookAllowPrivate: false });
    expect(
      loadConfig({ ALLOW_PRIVATE_NETWORKS: 'true', SMTP_ALLOW_HOSTS: ' relay.lan, 10.0.0.0/8 ,,127.0.0.1', SMTP_ALLOW_PLAIN_AUTH: 'TRUE' }).outbound,
    ).toEqual({ allowPrivateNetworks: true, smtpAllowHosts: ['relay.lan', '10.0.0.0/8', '127.0.0.1'], smtpAllowPlainAuth: true, webhookAllowPrivate: false });
  });

  it('reads the tracking settings, with defaults', () => {
    expect(loadConfig({}).tracking).toEqual({ flushMs: 250, flushHits: 500, machineOpenSeconds: 10 });
    expect(loadConfig({ TRACKING_FLUSH_MS: '1000', TRACKING_FLUSH_HITS: '50', TRACKING_MACHINE_OPEN_SECONDS: '0' }).tracking).toEqual({
      flushMs: 1000,
      flushHits: 50,
      machineOpenSeconds: 0,
    });
  });

  it('reads the render pool settings, with defaults', () => {
    expect(loadConfig({}).render).toEqual({ threads: expect.any(Number), timeoutMs: 2000, maxHeapMb: 128, maxBytes: 1024 * 1024 });
    expect(loadConfig({}).render.threads).toBeGreaterThanOrEqual(2);
    expect(loadConfig({ RENDER_THREADS: '3', RENDER_TIMEOUT_MS: '500', RENDER_MAX_HEAP_MB: '256', RENDER_MAX_BYTES: '65536' }).render).toEqual({
      threads: 3,
      timeoutMs: 500,
      maxHeapMb: 256,
      maxBytes: 65536,
    });
  });

  it('never echoes an SMTP password in its error', () => {
    expect(() => loadConfig({ SMTP_URL: 'http://user:hunter2@x' })).toThrow(/^(?!.*hunter2)/);
  });
});

describe('bounces: BOUNCE_DOMAIN, INBOUND_SMTP_HOST, INBOUND_SMTP_PORT', () => {
  it('defaults to no VERP and no inbound listener on 127.0.0.1', () => {
    const config = loadConfig({});
    expect(config.bounceDomain).toBeUndefined();
    expect(config.inbound).toEqual({ host: '127.0.0.1', port: undefined });
  });

  it('reads them, and refuses a bad port', () => {
    const config = loadConfig({ BOUNCE_DOMAIN: 'Bounces.MC.example', INBOUND_SMTP_HOST: '0.0.0.0', INBOUND_SMTP_PORT: '2525' });
    expect(config.bounceDomain).toBe('bounces.mc.example');
    expect(config.inbound).toEqual({ host: '0.0.0.0', port: 2525 });
    expect(() => loadConfig({ INBOUND_SMTP_PORT: 'smtp' })).toThrow(/INBOUND_SMTP_PORT/);
  });

  it('BOUNCE_MX_HOST: unset by default (the host of PUBLIC_URL is used); a host name, IDN as punycode; anything else refused', () => {
    expect(loadConfig({}).bounceMxHost).toBeUndefined();
    expect(loadConfig({ BOUNCE_MX_HOST: ' Inbound.MC.example. ' }).bounceMxHost).toBe('inbound.mc.example');
    expect(loadConfig({ BOUNCE_MX_HOST: 'mx.bücher.example' }).bounceMxHost).toBe('mx.xn--bcher-kva.example');
    for (const bad of ['localhost', 'mx mc.example', 'https://mx.mc.example', '-mx.example', 'mx..example']) {
      expect(() => loadConfig({ BOUNCE_MX_HOST: bad }), bad).toThrow(/^BOUNCE_MX_HOST must be a domain name/);
    }
  });
});
