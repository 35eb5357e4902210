import { Packet, createServer, type DnsServer } from 'dns2';

type Behaviour = 'timeout' | 'servfail' | 'malformed';

/** RFC 1035 response codes (dns2's typings leave Packet.RCODE out). */
const RCODE = { SERVFAIL: 2, NXDOMAIN: 3 } as const;

interface Zone {
  txt: string[];
  mx: { exchange: string; priority: number }[];
}

/**
 * A DNS server on 127.0.0.1 (UDP) that answers from records the test sets:
 * TXT and MX, NXDOMAIN for anything else, and names that time out, SERVFAIL
 * or answer with a malformed packet.
 */
export class TestDnsServer {
  private readonly zones = new Map<string, Zone>();
  private readonly behaviours = new Map<string, Behaviour>();
  private server: DnsServer | undefined;
  address = '';

  async start(): Promise<string> {
    this.server = createServer({
      udp: true,
      handle: (request, send) => {
        const response = Packet.createResponseFromRequest(request);
        const question = request.questions[0];
        const name = (question?.name ?? '').toLowerCase();
        const behaviour = this.behaviours.get(name);
        if (behaviour === 'timeout') return;
        if (behaviour === 'servfail') {
          response.header.rcode = RCODE.SERVFAIL;
          return send(response);
        }
        const zone = this.zones.get(name);
        if (!zone) {
          response.header.rcode = RCODE.NXDOMAIN;
          return send(response);
        }
        if (question!.type === Packet.TYPE.TXT) {
          for (const value of zone.txt) {
            const chunks = value.match(/.{1,255}/g) ?? [''];
            response.answers.push({ name: question!.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 1, data: chunks } as never);
          }
        } else if (question!.type === Packet.TYPE.MX) {
          for (const mx of zone.mx) {
            response.answers.push({ name: question!.name, type: Packet.TYPE.MX, class: Packet.CLASS.IN, ttl: 1, ...mx } as never);
          }
        }
        if (behaviour === 'malformed') {
          const buffer = response.toBuffer();
          return send(buffer.subarray(0, buffer.length - 7) as never);
        }
        send(response);
      },
    });
    const addresses = await this.server.listen({ udp: { port: 0, address: '127.0.0.1' } } as never);
    const udp = (addresses as { udp: { port: number } }).udp;
    this.address = `127.0.0.1:${udp.port}`;
    return this.address;
  }

  async close(): Promise<void> {
    await this.server?.close();
  }

  private zone(name: string): Zone {
    const key = name.toLowerCase();
    let zone = this.zones.get(key);
    if (!zone) {
      zone = { txt: [], mx: [] };
      this.zones.set(key, zone);
    }
    return zone;
  }

  /** Replaces the TXT records at `name` (none: the name answers NODATA for TXT). */
  txt(name: string, ...values: string[]): void {
    this.zone(name).txt = values;
  }

  mx(name: string, ...records: { exchange: string; priority: number }[]): void {
    this.zone(name).mx = records;
  }

  /** The name no longer exists (NXDOMAIN). */
  remove(name: string): void {
    this.zones.delete(name.toLowerCase());
  }

  behave(name: string, behaviour: Behaviour | null): void {
    if (behaviour === null) this.behaviours.delete(name.toLowerCase());
    else this.behaviours.set(name.toLowerCase(), behaviour);
  }

  reset(): void {
    this.zones.clear();
    this.behaviours.clear();
  }
}
