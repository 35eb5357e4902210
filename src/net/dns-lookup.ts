import { promises as dns } from 'node:dns';

/** Answers that mean "no such record", not "DNS failed". */
const MISSING = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME']);

/** A TXT or MX look-up's outcome: the records, none (NXDOMAIN, no data), or a failure (timeout, SERVFAIL, malformed answer). */
export type DnsAnswer<T> = { kind: 'found'; records: T[] } | { kind: 'missing' } | { kind: 'error'; reason: string };

export interface DnsLookupOptions {
  /** DNS_SERVERS: `ip` or `ip:port` (`[v6]:port`); default the system's resolvers. */
  servers?: readonly string[] | undefined;
  /** The whole look-up, retries included, must answer within this. */
  timeoutMs: number;
}

/**
 * TXT and MX look-ups for domain verification through a node:dns Resolver
 * (servers from DNS_SERVERS). Never throws: NXDOMAIN and no data are
 * `missing`, anything else (timeout, SERVFAIL, refused, a malformed answer)
 * is an `error` with the reason, which verify reports as PENDING.
 */
export class DnsLookup {
  private readonly resolver: dns.Resolver;

  constructor(private readonly options: DnsLookupOptions) {
    this.resolver = new dns.Resolver({ timeout: Math.max(1, Math.floor(options.timeoutMs / 2)), tries: 2 });
    if (options.servers && options.servers.length > 0) this.resolver.setServers([...options.servers]);
  }

  /** Each TXT record with its character-strings joined (a DKIM key is split into 255-byte strings). */
  txt(name: string): Promise<DnsAnswer<string>> {
    return this.ask(name, async () => {
      const records: unknown = await this.resolver.resolveTxt(name);
      if (!Array.isArray(records) || !records.every((r) => Array.isArray(r) && r.every((s) => typeof s === 'string'))) {
        throw Object.assign(new Error('malformed TXT answer'), { code: 'EBADRESP' });
      }
      return (records as string[][]).map((chunks) => chunks.join(''));
    });
  }

  mx(name: string): Promise<DnsAnswer<{ exchange: string; priority: number }>> {
    return this.ask(name, () => this.resolver.resolveMx(name));
  }

  private async ask<T>(name: string, query: () => Promise<T[]>): Promise<DnsAnswer<T>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEOUT' })), this.options.timeoutMs);
    });
    try {
      const records = await Promise.race([query(), timeout]);
      return records.length === 0 ? { kind: 'missing' } : { kind: 'found', records };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      if (MISSING.has(code)) return { kind: 'missing' };
      return { kind: 'error', reason: `${code} looking up ${name}` };
    } finally {
      clearTimeout(timer);
    }
  }
}
