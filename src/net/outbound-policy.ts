import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The one outbound-connection policy: every connection MailingCore opens on a
 * tenant's behalf (SMTP projects and webhook endpoints; DNS checks later) asks it
 * which address it may connect to, and connects to exactly that address.
 *
 * - Addresses are classified with ipaddr.js, which also parses the odd IPv4
 *   notations (`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`). IPv6
 *   addresses that embed an IPv4 one (IPv4-mapped and -translated, NAT64
 *   `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the IPv4 address inside.
 * - Only globally routable unicast addresses are allowed by default. The
 *   operator's allow-list (`SMTP_ALLOW_HOSTS`: host names, IPs, CIDRs) and
 *   `ALLOW_PRIVATE_NETWORKS` (private, loopback, CGNAT) widen it. Multicast,
 *   broadcast and unspecified addresses are never destinations.
 *   WEBHOOK_ALLOW_PRIVATE widens it like ALLOW_PRIVATE_NETWORKS, for webhooks only.
 * - A host name is resolved once; if ANY of its addresses is refused the host
 *   is refused (a name that mixes public and internal addresses is what a
 *   rebinding attack looks like). The connection then goes to a checked
 *   address — never through a second lookup — while the caller keeps the
 *   name for TLS (SNI and the certificate check).
 */

export type OutboundPurpose = 'smtp' | 'webhook' | 'dns';

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'carrier-grade NAT'
  | 'link-local'
  | 'multicast'
  | 'broadcast'
  | 'unspecified'
  | 'reserved'
  | 'cloud metadata';

export interface OutboundSettings {
  /** ALLOW_PRIVATE_NETWORKS: private, loopback and CGNAT targets are allowed (link-local and reserved stay refused). */
  allowPrivateNetworks?: boolean;
  /** SMTP_ALLOW_HOSTS: host names, IP addresses or CIDRs an SMTP project may reach even if not public. */
  smtpAllowHosts?: readonly string[];
  /** SMTP_ALLOW_PLAIN_AUTH: credentials may go unencrypted to a host allowed by the allow-list. */
  smtpAllowPlainAuth?: boolean;
  /** WEBHOOK_ALLOW_PRIVATE: webhook endpoints may be private, loopback or CGNAT addresses, and plain `http:` (development, tests). */
  webhookAllowPrivate?: boolean;
}

export type LookupAll = (host: string) => Promise<{ address: string; family: number }[]>;

export interface OutboundPolicyOptions extends OutboundSettings {
  /** Resolver (tests); default `dns.lookup(host, {all: true})`. */
  lookup?: LookupAll;
  /** How long a lookup may take; default 5 s. */
  lookupTimeoutMs?: number;
}

/** The address(es) a host may be connected to. */
export interface CheckedHost {
  /** The host as asked (a name is kept for TLS). */
  host: string;
  /** Allowed addresses, canonical, in resolver order; connect only to these. */
  addresses: string[];
  /** True when the host is allowed because of the operator's allow-list or ALLOW_PRIVATE_NETWORKS, not because it is public. */
  allowListed: boolean;
}

/** A target the policy refuses; `message` is safe to show the tenant (no resolved addresses of a name). */
export class HostNotAllowedError extends Error {
  readonly code = 'HOST_NOT_ALLOWED';
  constructor(
    message: string,
    readonly addressClass: AddressClass,
  ) {
    super(message);
    this.name = 'HostNotAllowedError';
  }
}

export const isHostNotAllowed = (error: unknown): error is HostNotAllowedError =>
  error instanceof HostNotAllowedError || (error as { code?: unknown } | null)?.code === 'HOST_NOT_ALLOWED';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * An IP address in any notation the resolver would also accept: dotted,
 * short (`127.1`), decimal, hex or octal IPv4; IPv6 with or without brackets
 * (a zone index is dropped). Undefined for anything else (a host name).
 */
export function parseIpLiteral(host: string): Address | undefined {
  let text = host.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (text.includes(':')) text = text.replace(/%.*$/, '');
  if (!ipaddr.isValid(text)) return undefined;
  try {
    return ipaddr.parse(text);
  } catch {
    return undefined;
  }
}

/** The canonical text of an IP literal in any notation (`0x7f000001` → `127.0.0.1`), or undefined for a name. */
export function canonicalIp(host: string): string | undefined {
  return parseIpLiteral(host)?.toString();
}

const IPV4_CLASSES: Record<string, AddressClass> = {
  unicast: 'public',
  loopback: 'loopback',
  private: 'private',
  carrierGradeNat: 'carrier-grade NAT',
  linkLocal: 'link-local',
  multicast: 'multicast',
  broadcast: 'broadcast',
  unspecified: 'unspecified',
};

const IPV6_CLASSES: Record<string, AddressClass> = {
  unicast: 'public',
  loopback: 'loopback',
  uniqueLocal: 'private',
  linkLocal: 'link-local',
  multicast: 'multicast',
  unspecified: 'unspecified',
};

/**
 * Cloud metadata and platform services outside link-local space, refused
 * whatever the settings: they hand out credentials. Alibaba's metadata
 * service sits in carrier-grade NAT space, Azure's wire server on a public
 * address, AWS's IPv6 metadata/DNS/NTP endpoints in a unique-local prefix —
 * all of which ALLOW_PRIVATE_NETWORKS or WEBHOOK_ALLOW_PRIVATE would
 * otherwise let through. (169.254.0.0/16 and fe80::/10 are link-local: never
 * allowed either.)
 */
const CLOUD_METADATA: readonly [Address, number][] = [
  [ipaddr.parse('100.100.100.200'), 32],
  [ipaddr.parse('168.63.129.16'), 32],
  [ipaddr.parse('fd00:ec2::'), 64],
];

/** What an address is (pure). Anything ipaddr.js does not call plain unicast is not public. */
export function classifyAddress(address: Address | string): AddressClass {
  const parsed = typeof address === 'string' ? parseIpLiteral(address) : address;
  if (!parsed) throw new TypeError(`not an IP address: ${String(address)}`);
  if (CLOUD_METADATA.some(([network, bits]) => parsed.kind() === network.kind() && parsed.match(network, bits))) return 'cloud metadata';
  if (parsed.kind() === 'ipv4') return IPV4_CLASSES[parsed.range()] ?? 'reserved';
  const v6 = parsed as ipaddr.IPv6;
  const embedded = embeddedIpv4(v6);
  if (embedded) return classifyAddress(embedded);
  const range = v6.range();
  if (range === 'unicast') {
    // ::a.b.c.d (IPv4-compatible, deprecated) and other addresses in ::/96 are not public.
    const parts = v6.parts;
    if (parts.slice(0, 6).every((part) => part === 0)) return 'reserved';
  }
  return IPV6_CLASSES[range] ?? 'reserved';
}

/** The IPv4 address an IPv6 one carries, for the ranges that route to it. */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = address.range();
  const p = address.parts;
  const v4 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  // ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated), 64:ff9b::a.b.c.d (NAT64 well-known prefix, /96 only).
  if (range === 'ipv4Mapped' || range === 'rfc6145') return v4(p[6]!, p[7]!);
  if (range === 'rfc6052' && p[1] === 0xff9b && p.slice(2, 6).every((part) => part === 0)) return v4(p[6]!, p[7]!);
  // 2002:AABB:CCDD::/48 — 6to4.
  if (range === '6to4') return v4(p[1]!, p[2]!);
  return undefined;
}

/** Allow-list entries: exact host names (lower-case, no trailing dot) and address ranges. */
export interface AllowList {
  names: Set<string>;
  ranges: [Address, number][];
}

/** Parses SMTP_ALLOW_HOSTS entries; throws an Error naming the first bad entry. */
export function parseAllowList(entries: readonly string[]): AllowList {
  const list: AllowList = { names: new Set(), ranges: [] };
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry.includes('/')) {
      try {
        const [address, bits] = ipaddr.parseCIDR(entry.replace(/^\[(.*)\](\/\d+)$/, '$1$2'));
        list.ranges.push([address, bits]);
        continue;
      } catch {
        throw new Error(`"${raw.trim()}" is not a valid CIDR range`);
      }
    }
    const ip = parseIpLiteral(entry);
    if (ip) {
      list.ranges.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
      continue;
    }
    const name = entry.replace(/\.$/, '');
    if (!isHostNameSyntax(name)) throw new Error(`"${raw.trim()}" is not a host name, IP address or CIDR range`);
    list.names.add(name);
  }
  return list;
}

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
function isHostNameSyntax(name: string): boolean {
  return name.length > 0 && name.length <= 253 && name.split('.').every((label) => HOST_LABEL.test(label));
}

const PRIVATE_CLASSES = new Set<AddressClass>(['loopback', 'private', 'carrier-grade NAT']);
const NEVER = new Set<AddressClass>(['multicast', 'broadcast', 'unspecified', 'cloud metadata']);

const DESCRIPTIONS: Record<AddressClass, string> = {
  public: 'a public address',
  loopback: 'a loopback address',
  private: 'a private-network address',
  'carrier-grade NAT': 'a carrier-grade NAT address',
  'link-local': 'a link-local address (e.g. a cloud metadata service)',
  multicast: 'a multicast address',
  broadcast: 'a broadcast address',
  unspecified: 'an unspecified address',
  reserved: 'a reserved or special-purpose address',
  'cloud metadata': 'a cloud metadata or platform service address',
};

const isLocalhostName = (name: string) => name === 'localhost' || name.endsWith('.localhost');

export class OutboundPolicy {
  private readonly allowPrivate: boolean;
  private readonly webhookAllowPrivate: boolean;
  private readonly allowLists: Record<OutboundPurpose, AllowList>;
  readonly smtpAllowPlainAuth: boolean;
  private readonly lookup: LookupAll;
  private readonly lookupTimeoutMs: number;

  constructor(options: OutboundPolicyOptions = {}) {
    this.allowPrivate = options.allowPrivateNetworks === true;
    this.webhookAllowPrivate = options.webhookAllowPrivate === true;
    const empty = (): AllowList => ({ names: new Set(), ranges: [] });
    this.allowLists = { smtp: parseAllowList(options.smtpAllowHosts ?? []), webhook: empty(), dns: empty() };
    this.smtpAllowPlainAuth = options.smtpAllowPlainAuth === true;
    this.lookup = options.lookup ?? defaultLookup;
    this.lookupTimeoutMs = options.lookupTimeoutMs ?? 5000;
  }

  /**
   * Pure: may `address` be connected to for `host`? `allowListed` says the
   * operator's configuration (not the public internet rule) allowed it.
   */
  decide(
    host: string,
    address: Address | string,
    purpose: OutboundPurpose,
  ): { allowed: boolean; addressClass: AddressClass; allowListed: boolean } {
    const parsed = typeof address === 'string' ? parseIpLiteral(address) : address;
    if (!parsed) throw new TypeError(`not an IP address: ${String(address)}`);
    const addressClass = classifyAddress(parsed);
    if (NEVER.has(addressClass)) return { allowed: false, addressClass, allowListed: false };
    const list = this.allowLists[purpose];
    const listed = list.names.has(normaliseName(host)) || list.ranges.some((range) => inRange(parsed, range));
    if (listed) return { allowed: true, addressClass, allowListed: true };
    if (addressClass === 'public') return { allowed: true, addressClass, allowListed: false };
    if (this.privateAllowed(purpose) && PRIVATE_CLASSES.has(addressClass)) return { allowed: true, addressClass, allowListed: true };
    return { allowed: false, addressClass, allowListed: false };
  }

  /**
   * Whether private, loopback and CGNAT targets are allowed for `purpose`
   * (ALLOW_PRIVATE_NETWORKS, or WEBHOOK_ALLOW_PRIVATE for webhooks); for
   * webhooks this also allows plain `http:` URLs.
   */
  privateAllowed(purpose: OutboundPurpose): boolean {
    return this.allowPrivate || (purpose === 'webhook' && this.webhookAllowPrivate);
  }

  /**
   * Resolves `host` (an IP literal in any notation is not looked up) and
   * checks every address. Throws HostNotAllowedError if any is refused; DNS
   * errors (ENOTFOUND, a lookup timeout) are thrown as they are.
   */
  async checkHost(host: string, { purpose }: { purpose: OutboundPurpose }): Promise<CheckedHost> {
    const literal = parseIpLiteral(host);
    if (literal) {
      const decision = this.decide(host, literal, purpose);
      if (!decision.allowed) throw refused(`${host} is ${DESCRIPTIONS[decision.addressClass]}`, decision.addressClass);
      return { host, addresses: [literal.toString()], allowListed: decision.allowListed };
    }
    const name = normaliseName(host);
    if (isLocalhostName(name)) {
      const decision = this.decide(name, '127.0.0.1', purpose);
      if (!decision.allowed) throw refused(`${host} is a loopback name`, 'loopback');
    }
    const resolved = await this.resolve(name);
    if (resolved.length === 0) throw Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' });
    const addresses: string[] = [];
    let allowListed = false;
    for (const { address } of resolved) {
      const parsed = parseIpLiteral(address);
      if (!parsed) throw Object.assign(new Error(`${host} resolved to something that is not an address`), { code: 'ENOTFOUND' });
      const decision = this.decide(name, parsed, purpose);
      // The resolved address is not named: it may be internal information.
      if (!decision.allowed) throw refused(`${host} resolves to ${DESCRIPTIONS[decision.addressClass]}`, decision.addressClass);
      allowListed ||= decision.allowListed;
      const canonical = parsed.toString();
      if (!addresses.includes(canonical)) addresses.push(canonical);
    }
    return { host, addresses, allowListed };
  }

  /**
   * Checks `host`, then opens a TCP connection to one of its checked
   * addresses (in order, until one answers, within `timeoutMs` in all).
   * The socket has Nagle's algorithm off; TLS, if any, is the caller's, with
   * `checked.host` as the server name.
   */
  async connect(
    host: string,
    port: number,
    { purpose, timeoutMs }: { purpose: OutboundPurpose; timeoutMs: number },
  ): Promise<{ socket: net.Socket; checked: CheckedHost }> {
    const deadline = Date.now() + timeoutMs;
    const checked = await this.checkHost(host, { purpose });
    let lastError: unknown;
    for (const address of checked.addresses) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      try {
        return { socket: await connectTcp(address, port, remaining), checked };
      } catch (error) {
        lastError = error;
        if ((error as NodeJS.ErrnoException).code === 'ETIMEDOUT') break;
      }
    }
    throw lastError ?? Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT' });
  }

  private resolve(name: string): Promise<{ address: string; family: number }[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`DNS lookup of ${name} timed out`), { code: 'EAI_AGAIN' })),
        this.lookupTimeoutMs,
      );
    });
    return Promise.race([this.lookup(name), timeout]).finally(() => clearTimeout(timer));
  }
}

const defaultLookup: LookupAll = (host) => dns.promises.lookup(host, { all: true, verbatim: true });

const normaliseName = (host: string) => host.trim().toLowerCase().replace(/\.$/, '');

function inRange(address: Address, [network, bits]: [Address, number]): boolean {
  if (address.kind() === network.kind()) return address.match(network, bits);
  // An IPv4 range also covers the IPv6 forms that carry an address inside it, and vice versa.
  if (address.kind() === 'ipv6') {
    const embedded = embeddedIpv4(address as ipaddr.IPv6);
    return embedded !== undefined && network.kind() === 'ipv4' && embedded.match(network, bits);
  }
  return (address as ipaddr.IPv4).toIPv4MappedAddress().match(network, bits);
}

const refused = (message: string, addressClass: AddressClass) =>
  new HostNotAllowedError(`${message}; connections to it are not allowed`, addressClass);

/** A connected TCP socket with Nagle's algorithm off, or a rejection within `timeoutMs`. */
export function connectTcp(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(Object.assign(error, { code: (error as NodeJS.ErrnoException).code ?? 'ECONNECTION' }));
    };
    const timer = setTimeout(() => fail(Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT' })), timeoutMs);
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      socket.setNoDelay(true);
      socket.setKeepAlive(true);
      resolve(socket);
    });
  });
}
