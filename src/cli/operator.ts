import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CAMPAIGN_STATUSES, isFinal } from '../campaigns/lifecycle.js';

/**
 * Operator commands that talk to the HTTP API like any client (plain fetch,
 * so the root package does not depend on the SDK): campaigns list/show/send/
 * cancel/watch and contacts import. Connection from --url/--key/--tenant or
 * MAILINGCORE_URL / MAILINGCORE_API_KEY / MAILINGCORE_TENANT_ID. An API error
 * becomes an OperatorError whose message is `<code>: <message>`; cli.ts
 * prints it as one line `mailingcore: <code>: <message>` and exits 1.
 */

export class OperatorError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
  ) {
    super(`${code}: ${message}`);
  }
}

interface Connection {
  url: string;
  key: string;
  tenant: string;
}

interface ConnectionFlags {
  url?: string;
  key?: string;
  tenant?: string;
}

interface Counters {
  total: number;
  queued: number;
  sent: number;
  failed: number;
  cancelled: number;
  skipped: { quota: number; suppressed: number };
}

interface Campaign {
  id: string;
  name: string;
  status: string;
  subject: string | null;
  templateVersionId: string | null;
  scheduledAt: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
  counters: Counters;
}

const FINAL = new Set<string>(CAMPAIGN_STATUSES.filter(isFinal));
const STATUSES: readonly string[] = CAMPAIGN_STATUSES;

function connection(flags: ConnectionFlags): Connection {
  const url = flags.url ?? process.env.MAILINGCORE_URL ?? 'http://127.0.0.1:3000';
  const key = flags.key ?? process.env.MAILINGCORE_API_KEY;
  const tenant = flags.tenant ?? process.env.MAILINGCORE_TENANT_ID;
  if (!key) throw new OperatorError('MISSING_API_KEY', 'pass --key or set MAILINGCORE_API_KEY');
  if (!tenant) throw new OperatorError('MISSING_TENANT', 'pass --tenant or set MAILINGCORE_TENANT_ID');
  return { url: url.replace(/\/+$/, ''), key, tenant };
}

async function api<T>(
  conn: Connection,
  method: string,
  route: string,
  init: { body?: RequestInit["body"]; headers?: Record<string, string> } = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${conn.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${conn.key}`, 'x-tenant-id': conn.tenant, ...init.headers },
      body: init.body,
      ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new OperatorError('UNREACHABLE', `${conn.url}: ${cause ?? (error as Error).message}`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const err = (body ?? {}) as { code?: string; message?: string };
    throw new OperatorError(err.code ?? `HTTP_${response.status}`, err.message ?? (text.trim() || response.statusText), response.status);
  }
  return body as T;
}

function withConnection(command: Command): Command {
  return command
    .option('--url <url>', 'API base URL (env MAILINGCORE_URL, default http://127.0.0.1:3000)')
    .option('--key <apiKey>', 'API key (env MAILINGCORE_API_KEY)')
    .option('--tenant <id>', 'tenant id (env MAILINGCORE_TENANT_ID)');
}

/** Left-aligned columns, two spaces apart. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

const out = (text: string): void => void process.stdout.write(`${text}\n`);
const json = (value: unknown) => out(JSON.stringify(value, null, 2));

function showCampaign(c: Campaign): string {
  const k = c.counters;
  const rows: [string, string | null][] = [
    ['id', c.id],
    ['name', c.name],
    ['status', c.status],
    ['subject', c.subject],
    ['template version', c.templateVersionId],
    ['scheduled at', c.scheduledAt],
    ['created at', c.createdAt],
    ['started at', c.startedAt],
    ['completed at', c.completedAt],
    ['cancelled at', c.cancelledAt],
    ['recipients', `${k.total} total, ${k.sent} sent, ${k.queued} queued, ${k.failed} failed, ${k.cancelled} cancelled`],
    ['skipped', `${k.skipped.quota} over quota, ${k.skipped.suppressed} suppressed`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value ?? '-'}`).join('\n');
}

interface Sample {
  at: number;
  done: number;
}

/** Messages handled per second over the samples of the last 10 s, and the seconds left at that rate. */
export function rateAndEta(samples: Sample[], remaining: number): { rate: number; eta: number | null } {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last || last.at === first.at) return { rate: 0, eta: null };
  const rate = ((last.done - first.done) * 1000) / (last.at - first.at);
  return { rate, eta: rate > 0 ? Math.ceil(remaining / rate) : null };
}

async function watch(conn: Connection, id: string, intervalMs: number): Promise<Campaign> {
  const tty = Boolean(process.stdout.isTTY);
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: '{status} [{bar}] {percentage}% | sent {sent}/{total} | queued {queued} | failed {failed} | {rate}/s | ETA {etaText}',
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const samples: Sample[] = [];
  let lastLine = '';
  let started = false;
  for (;;) {
    const c = await api<Campaign>(conn, 'GET', `/campaigns/${encodeURIComponent(id)}`);
    const k = c.counters;
    const done = k.sent + k.failed + k.cancelled;
    const now = Date.now();
    samples.push({ at: now, done });
    while (samples.length > 2 && now - samples[0]!.at > 10_000) samples.shift();
    const { rate, eta } = rateAndEta(samples, k.queued);
    const payload = {
      status: c.status,
      sent: k.sent,
      queued: k.queued,
      failed: k.failed,
      rate: rate.toFixed(1),
      etaText: FINAL.has(c.status) ? '0s' : eta === null ? '-' : `${eta}s`,
    };
    if (bar) {
      const total = Math.max(k.total, 1);
      if (!started) bar.start(total, done, payload);
      else bar.setTotal(total);
      bar.update(done, { ...payload, total: k.total });
      started = true;
    } else {
      const line = `${c.status} sent ${k.sent}/${k.total} queued ${k.queued} failed ${k.failed} rate ${payload.rate}/s eta ${payload.etaText}`;
      if (line !== lastLine) out(line);
      lastLine = line;
    }
    if (FINAL.has(c.status)) {
      bar?.stop();
      return c;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.ndjson': 'application/x-ndjson',
  '.jsonl': 'application/x-ndjson',
};

interface ImportSummary {
  processed: number;
  created: number;
  updated: number;
  failed: number;
  errors: { line: number; message: string }[];
}

async function importContacts(conn: Connection, file: string): Promise<ImportSummary> {
  const contentType = CONTENT_TYPES[path.extname(file).toLowerCase()];
  if (!contentType) throw new OperatorError('UNSUPPORTED_FILE', `${file}: use a .csv, .ndjson or .jsonl file`);
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (error) {
    throw new OperatorError('FILE_NOT_FOUND', `${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: 'uploading [{bar}] {percentage}% | {value}/{total} bytes', hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(size, 0);
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      bar?.update(sent);
      callback(null, chunk);
    },
  });
  const stream = fs.createReadStream(file).pipe(counter);
  try {
    return await api<ImportSummary>(conn, 'POST', '/contacts/import', {
      body: Readable.toWeb(stream) as unknown as ReadableStream,
      headers: { 'content-type': contentType, 'content-length': String(size) },
    });
  } finally {
    bar?.stop();
  }
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive whole number');
  return Number(value);
}

export function registerOperatorCommands(program: Command): void {
  const campaigns = program.command('campaigns').description('campaigns, through the HTTP API (--url/--key/--tenant or MAILINGCORE_* env)');

  withConnection(campaigns.command('list'))
    .description('list campaigns, newest first')
    .addOption(new Option('--status <status>', 'only this status').choices(STATUSES))
    .option('--page <n>', 'page number', positiveInt, 1)
    .option('--limit <n>', 'campaigns per page (1-100)', positiveInt, 20)
    .option('--json', 'print JSON')
    .action(async (opts: ConnectionFlags & { status?: string; page: number; limit: number; json?: boolean }) => {
      const query = new URLSearchParams({ page: String(opts.page), limit: String(opts.limit) });
      if (opts.status) query.set('status', opts.status);
      const page = await api<{ data: Campaign[]; meta: Record<string, unknown> }>(connection(opts), 'GET', `/campaigns?${query}`);
      if (opts.json) return json(page);
      if (!page.data.length) return out('no campaigns');
      out(
        table(
          ['ID', 'STATUS', 'SENT', 'FAILED', 'CREATED', 'NAME'],
          page.data.map((c) => [c.id, c.status, `${c.counters.sent}/${c.counters.total}`, String(c.counters.failed), c.createdAt, c.name]),
        ),
      );
    });

  withConnection(campaigns.command('show'))
    .description("a campaign's status and counters")
    .argument('<id>', 'campaign id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: ConnectionFlags & { json?: boolean }) => {
      const c = await api<Campaign>(connection(opts), 'GET', `/campaigns/${encodeURIComponent(id)}`);
      if (opts.json) json(c);
      else out(showCampaign(c));
    });

  withConnection(campaigns.command('send'))
    .description('send a DRAFT or SCHEDULED campaign now (follow it with `campaigns watch`)')
    .argument('<id>', 'campaign id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: ConnectionFlags & { json?: boolean }) => {
      const c = await api<Campaign>(connection(opts), 'POST', `/campaigns/${encodeURIComponent(id)}/send`, {
        headers: { 'idempotency-key': globalThis.crypto.randomUUID() },
      });
      if (opts.json) json(c);
      else out(`campaign ${c.id} is ${c.status}`);
    });

  withConnection(campaigns.command('cancel'))
    .description('cancel a DRAFT, SCHEDULED or SENDING campaign (its queued messages with it)')
    .argument('<id>', 'campaign id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: ConnectionFlags & { json?: boolean }) => {
      const c = await api<Campaign>(connection(opts), 'POST', `/campaigns/${encodeURIComponent(id)}/cancel`);
      if (opts.json) json(c);
      else out(`campaign ${c.id} is ${c.status}`);
    });

  withConnection(campaigns.command('watch'))
    .description('follow delivery (queued/sent/failed, rate, ETA) until SENT or CANCELLED; one line per change when not a terminal')
    .argument('<id>', 'campaign id')
    .option('--interval <ms>', 'poll interval in milliseconds', positiveInt, 1000)
    .option('--json', 'print the final campaign as JSON')
    .action(async (id: string, opts: ConnectionFlags & { interval: number; json?: boolean }) => {
      const c = await watch(connection(opts), id, opts.interval);
      if (opts.json) json(c);
      else out(`campaign ${c.id} ${c.status}: ${c.counters.sent} sent, ${c.counters.failed} failed, ${c.counters.cancelled} cancelled`);
    });

  const contacts = program.command('contacts').description('contacts, through the HTTP API (--url/--key/--tenant or MAILINGCORE_* env)');
  withConnection(contacts.command('import'))
    .description('stream a .csv, .ndjson or .jsonl file to POST /contacts/import (any size) and print the summary')
    .argument('<file>', 'the file to import')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: ConnectionFlags & { json?: boolean }) => {
      const summary = await importContacts(connection(opts), file);
      if (opts.json) return json(summary);
      out(`processed ${summary.processed}: ${summary.created} created, ${summary.updated} updated, ${summary.failed} failed`);
      for (const e of summary.errors) out(`  line ${e.line}: ${e.message}`);
    });
}
