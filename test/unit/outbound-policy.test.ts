import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  canonicalIp,
  classifyAddress,
  HostNotAllowedError,
  OutboundPolicy,
  parseAllowList,
  parseIpLiteral,
  type LookupAll,
} from '../../src/net/outbound-policy.js';

const lookupFrom =
  (table: Record<string, string[]>): LookupAll =>
  async (host) => {
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: net.isIP(address) }));
  };

describe('classifyAddress: hostile notations', () => {
  const table: [string, string][] = [
    // IPv4 loopback in every notation the resolver accepts
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['2130706433', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['0X7F000001', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['0x7f.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['127.0.1', 'loopback'],
    ['017700000001', 'loopback'],
    // private, CGNAT, link-local and the metadata service
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.0.1', 'private'],
    ['0xa000001', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.254', 'carrier-grade NAT'],
    ['169.254.169.254', 'link-local'],
    ['2852039166', 'link-local'],
    ['0xa9fea9fe', 'link-local'],
    // not destinations at all
    ['0.0.0.0', 'unspecified'],
    ['0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    // IPv6 and the forms that carry an IPv4 address
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:169.254.169.254]', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::127.0.0.1', 'loopback'],
    ['::7f00:1', 'reserved'],
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::808:808', 'public'],
    ['64:ff9b:1::1', 'reserved'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:a9fe:a9fe::', 'link-local'],
    ['2002:808:808::1', 'public'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['fec0::1', 'reserved'],
    // public addresses
    ['8.8.8.8', 'public'],
    ['93.184.216.34', 'public'],
    ['0x08080808', 'public'],
    ['1.1', 'public'],
    ['::ffff:8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450:4001:80b::200e', 'public'],
  ];
  it.each(table)('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('parses IP literals the way the resolver would, and nothing else', () => {
    expect(canonicalIp('0x7f000001')).toBe('127.0.0.1');
    expect(canonicalIp('2130706433')).toBe('127.0.0.1');
    expect(canonicalIp('[::1]')).toBe('::1');
    expect(canonicalIp('::FFFF:127.0.0.1')).toBe('::ffff:7f00:1');
    for (const name of ['smtp.example.com', 'localhost', '256.1.1.1', '1.2.3.4.5', '08.8.8.8', '4294967296', '', '[]']) {
      expect(parseIpLiteral(name), name).toBeUndefined();
    }
  });
});

describe('OutboundPolicy.checkHost', () => {
  const lookup = lookupFrom({
    'mail.example.com': ['93.184.216.34', '2606:2800:220:1::1'],
    'internal.example.com': ['10.1.2.3'],
    'mixed.example.com': ['93.184.216.34', '127.0.0.1'],
    'metadata.example.com': ['169.254.169.254'],
    'relay.lan': ['192.168.1.20'],
    localhost: ['127.0.0.1', '::1'],
  });
  const strict = new OutboundPolicy({ lookup });

  it('allows public hosts and gives the addresses to connect to', async () => {
    await expect(strict.checkHost('mail.example.com', { purpose: 'smtp' })).resolves.toEqual({
      host: 'mail.example.com',
      addresses: ['93.184.216.34', '2606:2800:220:1::1'],
      allowListed: false,
    });
    await expect(strict.checkHost('0x08080808', { purpose: 'smtp' })).resolves.toMatchObject({ addresses: ['8.8.8.8'] });
  });

  it.each([
    ['127.0.0.1', /127\.0\.0\.1 is a loopback address/],
    ['0x7f000001', /loopback/],
    ['[::1]', /loopback/],
    ['169.254.169.254', /link-local/],
    ['10.0.0.1', /private/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['localhost', /loopback name/],
    ['mail.localhost', /loopback name/],
    ['internal.example.com', /resolves to a private-network address/],
    ['metadata.example.com', /resolves to a link-local address/],
    // One bad address is enough: a name mixing public and internal addresses is refused.
    ['mixed.example.com', /resolves to a loopback address/],
  ])('refuses %s', async (host, message) => {
    const refusal = strict.checkHost(host, { purpose: 'smtp' });
    await expect(refusal).rejects.toBeInstanceOf(HostNotAllowedError);
    await expect(refusal).rejects.toThrow(message);
  });

  it('does not name the internal address a host name resolves to', async () => {
    await expect(strict.checkHost('internal.example.com', { purpose: 'smtp' })).rejects.toThrow(/^(?!.*10\.1\.2\.3)/);
  });

  it('passes DNS errors through as they are', async () => {
    await expect(strict.checkHost('nowhere.example.com', { purpose: 'smtp' })).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('gives up on a lookup that does not answer', async () => {
    const hanging = new OutboundPolicy({ lookup: () => new Promise(() => {}), lookupTimeoutMs: 50 });
    await expect(hanging.checkHost('slow.example.com', { purpose: 'smtp' })).rejects.toMatchObject({ code: 'EAI_AGAIN' });
  });
});

describe('operator allow-list', () => {
  const lookup = lookupFrom({ 'relay.lan': ['192.168.1.20'], 'other.lan': ['192.168.1.21'], localhost: ['127.0.0.1', '::1'] });

  it('SMTP_ALLOW_HOSTS: a CIDR range allows its addresses, in IPv4-mapped form too', async () => {
    const policy = new OutboundPolicy({ lookup, smtpAllowHosts: ['192.168.1.0/24'] });
    await expect(policy.checkHost('192.168.1.99', { purpose: 'smtp' })).resolves.toMatchObject({ allowListed: true });
    await expect(policy.checkHost('::ffff:192.168.1.99', { purpose: 'smtp' })).resolves.toMatchObject({ allowListed: true });
    await expect(policy.checkHost('relay.lan', { purpose: 'smtp' })).resolves.toMatchObject({ addresses: ['192.168.1.20'] });
    await expect(policy.checkHost('192.168.2.1', { purpose: 'smtp' })).rejects.toBeInstanceOf(HostNotAllowedError);
    await expect(policy.checkHost('127.0.0.1', { purpose: 'smtp' })).rejects.toBeInstanceOf(HostNotAllowedError);
  });

  it('SMTP_ALLOW_HOSTS: a single address, in any notation, allows only itself', async () => {
    const policy = new OutboundPolicy({ lookup, smtpAllowHosts: ['127.0.0.1'] });
    await expect(policy.checkHost('127.0.0.1', { purpose: 'smtp' })).resolves.toMatchObject({ addresses: ['127.0.0.1'], allowListed: true });
    await expect(policy.checkHost('0x7f000001', { purpose: 'smtp' })).resolves.toMatchObject({ addresses: ['127.0.0.1'] });
    await expect(policy.checkHost('127.0.0.2', { purpose: 'smtp' })).rejects.toBeInstanceOf(HostNotAllowedError);
    // localhost also resolves to ::1, which is not listed.
    await expect(policy.checkHost('localhost', { purpose: 'smtp' })).rejects.toBeInstanceOf(HostNotAllowedError);
  });

  it('SMTP_ALLOW_HOSTS: a host name allows whatever it resolves to, and only that name', async () => {
    const policy = new OutboundPolicy({ lookup, smtpAllowHosts: ['Relay.LAN'] });
    await expect(policy.checkHost('relay.lan', { purpose: 'smtp' })).resolves.toMatchObject({ addresses: ['192.168.1.20'], allowListed: true });
    await expect(policy.checkHost('RELAY.lan.', { purpose: 'smtp' })).resolves.toMatchObject({ allowListed: true });
    await expect(policy.checkHost('other.lan', { purpose: 'smtp' })).rejects.toBeInstanceOf(HostNotAllowedError);
    await expect(policy.checkHost('192.168.1.20', { purpose: 'smtp' })).rejects.toBeInstanceOf(HostNotAllowedError);
  });

  it('the SMTP allow-list is for SMTP only', async () => {
    const policy = new OutboundPolicy({ lookup, smtpAllowHosts: ['127.0.0.1'] });
    await expect(policy.checkHost('127.0.0.1', { purpose: 'webhook' })).rejects.toBeInstanceOf(HostNotAllowedError);
  });

  it('ALLOW_PRIVATE_NETWORKS allows private, loopback and CGNAT targets, not link-local, multicast or unspecified', async () => {
    const policy = new OutboundPolicy({ lookup, allowPrivateNetworks: true });
    for (const host of ['127.0.0.1', '::1', 'localhost', '10.0.0.1', '192.168.1.20', 'relay.lan', 'fd00::1', '100.64.0.1', '0x7f000001']) {
      await expect(policy.checkHost(host, { purpose: 'smtp' }), host).resolves.toMatchObject({ allowListed: true });
    }
    for (const host of ['169.254.169.254', 'fe80::1', '0.0.0.0', '::', '224.0.0.1', '255.255.255.255', '240.0.0.1']) {
      await expect(policy.checkHost(host, { purpose: 'smtp' }), host).rejects.toBeInstanceOf(HostNotAllowedError);
    }
    // Public addresses are allowed as ever, but not "allow-listed" (plain AUTH stays refused there).
    await expect(policy.checkHost('8.8.8.8', { purpose: 'smtp' })).resolves.toMatchObject({ allowListed: false });
  });

  it('cloud metadata services outside link-local space stay refused with every setting (Alibaba, Azure, AWS IPv6)', async () => {
    const everything = new OutboundPolicy({ lookup, allowPrivateNetworks: true, webhookAllowPrivate: true, smtpAllowHosts: ['0.0.0.0/0', '::/0'] });
    for (const host of ['100.100.100.200', '168.63.129.16', 'fd00:ec2::254', 'fd00:ec2::253', 'fd00:ec2::123', '::ffff:100.100.100.200', '::ffff:168.63.129.16']) {
      expect(classifyAddress(host), host).toBe('cloud metadata');
      for (const purpose of ['smtp', 'webhook'] as const) {
        await expect(everything.checkHost(host, { purpose }), `${host} ${purpose}`).rejects.toBeInstanceOf(HostNotAllowedError);
      }
    }
    // Their neighbours are what they were.
    expect(classifyAddress('100.100.100.201')).toBe('carrier-grade NAT');
    expect(classifyAddress('168.63.129.17')).toBe('public');
    expect(classifyAddress('fd00:ec3::254')).toBe('private');
  });

  it('an allow-list cannot make multicast, broadcast or unspecified addresses destinations', async () => {
    const policy = new OutboundPolicy({ lookup, smtpAllowHosts: ['0.0.0.0/0', '::/0'] });
    await expect(policy.checkHost('169.254.169.254', { purpose: 'smtp' })).resolves.toMatchObject({ allowListed: true });
    for (const host of ['0.0.0.0', '224.0.0.1', '255.255.255.255', '::']) {
      await expect(policy.checkHost(host, { purpose: 'smtp' }), host).rejects.toBeInstanceOf(HostNotAllowedError);
    }
  });

  it('parses entries and names a bad one', () => {
    const list = parseAllowList([' 10.0.0.0/8 ', 'relay.lan', '[fd00::]/8', '127.0.0.1', '']);
    expect([...list.names]).toEqual(['relay.lan']);
    expect(list.ranges.map(([address, bits]) => `${address.toString()}/${bits}`)).toEqual(['10.0.0.0/8', 'fd00::/8', '127.0.0.1/32']);
    expect(() => parseAllowList(['10.0.0.0/33'])).toThrow('"10.0.0.0/33" is not a valid CIDR range');
    expect(() => parseAllowList(['smtp host'])).toThrow('"smtp host" is not a host name, IP address or CIDR range');
    expect(() => parseAllowList(['http://relay'])).toThrow(/"http:\/\/relay" is not/);
  });
});

describe('OutboundPolicy.connect', () => {
  it('connects to the checked address without a second lookup (DNS rebinding)', async () => {
    const server = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    let lookups = 0;
    // First answer allowed, every later one internal: a second lookup would be caught connecting there.
    const policy = new OutboundPolicy({
      smtpAllowHosts: ['127.0.0.1'],
      lookup: async () => [{ address: lookups++ === 0 ? '127.0.0.1' : '10.9.9.9', family: 4 }],
    });
    try {
      const { socket, checked } = await policy.connect('relay.test', port, { purpose: 'smtp', timeoutMs: 2000 });
      expect(checked).toEqual({ host: 'relay.test', addresses: ['127.0.0.1'], allowListed: true });
      expect(socket.remoteAddress).toBe('127.0.0.1');
      expect(lookups).toBe(1);
      socket.destroy();
      await expect(policy.connect('relay.test', port, { purpose: 'smtp', timeoutMs: 2000 })).rejects.toBeInstanceOf(HostNotAllowedError);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
