/**
 * A local SMTP sink for the delivery benchmark, run in its own process so
 * that its work does not count against the sender: the `smtp-server`
 * package on 127.0.0.1 at a random port, accepting every message (no
 * parsing, no storage) and counting them.
 *
 * Started with fork() and an IPC channel: it sends `{type: 'listening', port}`
 * and answers `{type: 'count'}` with `{type: 'count', accepted, bytes, signed}` and
 * `{type: 'reset'}` by zeroing its counters (`firstAt`: when the first message
 * since the reset was accepted, epoch ms); `{type: 'arrivals'}` with the
 * wall-clock time (epoch ms, sub-millisecond) at which each message to a
 * `tx-…` address was accepted (the priority-lane benchmark). SINK_DELAY_MS
 * (default 0): each message is answered that long after its data ended, as a
 * relay far away would (the scale-out benchmark); the connection waits, the
 * others go on. Without an IPC channel
 * (`node bench/sink-process.js`) it prints its port and runs until killed.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

let accepted = 0;
let bytes = 0;
/** Messages that began with a DKIM-Signature header (Nodemailer puts it first): both sides of the delivery benchmark sign. */
let signed = 0;
/** When the first message since the last reset was accepted (epoch ms), for the time-to-first-email benchmark. */
let firstAt: number | null = null;
/** Recipient → when its message was accepted: only the transactional probes (`tx-…@`), few and small. */
let arrivals: Record<string, number> = {};
const epochMs = () => performance.timeOrigin + performance.now();
/** How long each message waits for its answer (SINK_DELAY_MS). */
const delayMs = Number(process.env.SINK_DELAY_MS ?? 0);
if (!Number.isFinite(delayMs) || delayMs < 0) throw new Error(`SINK_DELAY_MS must be a number of milliseconds (got "${process.env.SINK_DELAY_MS}")`);

const server = new SMTPServer({
  secure: false,
  disabledCommands: ['STARTTLS'],
  authOptional: true,
  allowInsecureAuth: true,
  logger: false,
  banner: 'MailingCore benchmark sink',
  size: 50 * 1024 * 1024,
  maxClients: 1000,
  closeTimeout: 1000,
  onData(stream, session, callback) {
    let first = true;
    stream.on('data', (chunk: Buffer) => {
      if (first && chunk.subarray(0, 15).toString('latin1').toLowerCase() === 'dkim-signature:') signed += 1;
      first = false;
      bytes += chunk.length;
    });
    stream.on('end', () => {
      const accept = () => {
        accepted += 1;
        firstAt ??= epochMs();
        const to = session.envelope.rcptTo[0]?.address ?? '';
        if (to.startsWith('tx-')) arrivals[to] = epochMs();
        callback(null, `2.0.0 Ok: queued as ${accepted}`);
      };
      if (delayMs > 0) setTimeout(accept, delayMs);
      else accept();
    });
  },
});
server.on('error', () => {});

server.listen(Number(process.env.SINK_PORT ?? 0), '127.0.0.1', () => {
  const { port } = (server as unknown as { server: { address(): AddressInfo } }).server.address();
  if (process.send) process.send({ type: 'listening', port });
  else console.log(`SMTP sink listening on 127.0.0.1:${port}`);
});

process.on('message', (raw) => {
  const message = raw as { type: string };
  if (message.type === 'count') process.send!({ type: 'count', accepted, bytes, signed, firstAt });
  if (message.type === 'arrivals') process.send!({ type: 'arrivals', arrivals });
  if (message.type === 'reset') {
    accepted = 0;
    bytes = 0;
    signed = 0;
    firstAt = null;
    arrivals = {};
    process.send!({ type: 'reset' });
  }
  if (message.type === 'close') server.close(() => process.exit(0));
});
process.on('disconnect', () => server.close(() => process.exit(0)));
