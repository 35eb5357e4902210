import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import readline from 'node:readline/promises';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { CAMPAIGN_STATUSES, isFinal } from '../campaigns/lifecycle.js';
import { CliError, EXIT, type ErrorDetail } from './errors.js';

/**
 * Operator commands that talk to the HTTP API like any client (plain fetch,
 * so the root package does not depend on the SDK): campaigns list/show/send/
 * cancel/watch and contacts import. Connection from --url/--key/--tenant or
 * MAILINGCORE_URL / MAILINGCORE_API_KEY / MAILINGCORE_TENANT_ID. An API error
 * becomes an OperatorError whose message is `<code>: <message>`; cli.ts
 * prints it as `mailingcore: <code>: <message>`, then the API's `details`
 * one per line (`  field: message`), and exits 1.
 */

export class OperatorError extends CliError {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
    details: readonly ErrorDetail[] = [],
    exitCode: (typeof EXIT)[keyof typeof EXIT] = EXIT.error,
  ) {
    super(`${code}: ${message}`, exitCode, details);
  }
}

/** The API's `details`, kept only when well-formed. */
function detailsOf(body: unknown): ErrorDetail[] {
  const details = (body as { details?: unknown } | undefined)?.details;
  if (!Array.isArray(details)) return [];
  return details
    .filter((d): d is { field?: unknown; message?: unknown } => typeof d === 'object' && d !== null)
    .map((d) => ({ field: typeof d.field === 'string' ? d.field : '(request)', message: String(d.message ?? '') }));
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
  /** Why a PAUSED campaign was paused (absent from servers before PAUSED existed). */
  pausedReason?: string | null;
  counters: Counters;
}

const FINAL = new Set<string>(CAMPAIGN_STATUSES.filter(isFinal));
const STATUSES: readonly string[] = CAMPAIGN_STATUSES;

/** A campaign status in any case (`sent`, `Sent`, `SENT`). */
export function parseStatus(value: string): string {
  const status = value.trim().toUpperCase();
  if (!STATUSES.includes(status)) throw new InvalidArgumentError(`must be one of ${STATUSES.join(', ')} (any case)`);
  return status;
}

function connection(flags: ConnectionFlags): Connection {
  const url = flags.url ?? process.env.MAILINGCORE_URL ?? 'http://127.0.0.1:3000';
  const key = flags.key ?? process.env.MAILINGCORE_API_KEY;
  const tenant = flags.tenant ?? process.env.MAILINGCORE_TENANT_ID;
  if (!key) throw new OperatorError('MISSING_API_KEY', 'pass --key or set MAILINGCORE_API_KEY', 0, [], EXIT.usage);
  if (!tenant) throw new OperatorError('MISSING_TENANT', 'pass --tenant or set MAILINGCORE_TENANT_ID', 0, [], EXIT.usage);
  return { url: url.replace(/\/+$/, ''), key, tenant };
}

/** A request to the API; a non-2xx answer is thrown as an OperatorError with the API's code and message. */
async function send(
  conn: Connection,
  method: string,
  route: string,
  init: { body?: RequestInit['body']; headers?: Record<string, string> } = {},
): Promise<Response> {
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
  if (response.ok) return response;
  const text = await response.text();
  const body = parseJson(text);
  const err = (body ?? {}) as { code?: string; message?: string };
  throw new OperatorError(err.code ?? `HTTP_${response.status}`, err.message ?? (text.trim() || response.statusText), response.status, detailsOf(body));
}

async function api<T>(
  conn: Connection,
  method: string,
  route: string,
  init: { body?: RequestInit['body']; headers?: Record<string, string> } = {},
): Promise<T> {
  return parseJson(await (await send(conn, method, route, init)).text()) as T;
}

function parseJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

interface ProgressData {
  id: string;
  status: string;
  counters: Counters;
  at: string;
}

/** The Server-Sent Events of GET /campaigns/{id}/progress, as they arrive, until the server closes the stream. */
export async function* progressEvents(conn: Connection, id: string): AsyncGenerator<ProgressData> {
  const response = await send(conn, 'GET', `/campaigns/${encodeURIComponent(id)}/progress`, { headers: { accept: 'text/event-stream' } });
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const message = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = message.split('\n').find((line) => line.startsWith('data: '));
      if (data) yield JSON.parse(data.slice('data: '.length)) as ProgressData;
    }
  }
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
    ...(c.status === 'PAUSED' ? [['paused', c.pausedReason ?? null] as [string, string | null]] : []),
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

/**
 * A DRAFT will never start by itself, and a SCHEDULED campaign only at its
 * time: watching either would poll forever, so watch says so and stops —
 * unless `--wait` asks it to wait for a scheduled campaign to start.
 */
async function waitUntilStarted(conn: Connection, id: string, intervalMs: number, wait: boolean): Promise<void> {
  let announced = false;
  for (;;) {
    const c = await api<Campaign>(conn, 'GET', `/campaigns/${encodeURIComponent(id)}`);
    if (c.status === 'DRAFT') {
      throw new CliError(
        `campaign ${id} is DRAFT: it has not been sent, so there is nothing to watch (send it with "mailingcore campaigns send ${id}")`,
      );
    }
    if (c.status !== 'SCHEDULED') return;
    if (!wait) {
      throw new CliError(`campaign ${id} is SCHEDULED for ${c.scheduledAt ?? '(unknown)'}: nothing to watch yet; pass --wait to wait for it to start`);
    }
    if (!announced) process.stderr.write(`campaign ${id} is SCHEDULED for ${c.scheduledAt}: waiting for it to start…\n`);
    announced = true;
    const untilStart = c.scheduledAt ? Date.parse(c.scheduledAt) - Date.now() : intervalMs;
    await new Promise((r) => setTimeout(r, Math.min(30_000, Math.max(intervalMs, untilStart))));
  }
}

/** Follows the campaign's progress stream (the server sends its counters every second) until it is SENT or CANCELLED. */
async function watch(conn: Connection, id: string, intervalMs: number, waitForSchedule = false): Promise<Campaign> {
  await waitUntilStarted(conn, id, intervalMs, waitForSchedule);
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
  for await (const progress of progressEvents(conn, id)) {
    const k = progress.counters;
    const done = k.sent + k.failed + k.cancelled;
    const now = Date.parse(progress.at) || Date.now();
    samples.push({ at: now, done });
    while (samples.length > 2 && now - samples[0]!.at > 10_000) samples.shift();
    const { rate, eta } = rateAndEta(samples, k.queued);
    const payload = {
      status: progress.status,
      sent: k.sent,
      queued: k.queued,
      failed: k.failed,
      rate: rate.toFixed(1),
      etaText: FINAL.has(progress.status) ? '0s' : eta === null ? '-' : `${eta}s`,
    };
    if (bar) {
      const total = Math.max(k.total, 1);
      if (!started) bar.start(total, done, payload);
      else bar.setTotal(total);
      bar.update(done, { ...payload, total: k.total });
      started = true;
    } else {
      const line = `${progress.status} sent ${k.sent}/${k.total} queued ${k.queued} failed ${k.failed} rate ${payload.rate}/s eta ${payload.etaText}`;
      if (line !== lastLine) out(line);
      lastLine = line;
    }
  }
  bar?.stop();
  const campaign = await api<Campaign>(conn, 'GET', `/campaigns/${encodeURIComponent(id)}`);
  if (!FINAL.has(campaign.status)) throw new CliError(`the progress stream of campaign ${id} ended while it is ${campaign.status}; run watch again`);
  return campaign;
}

/** Counts data rows in a stream of CSV or NDJSON bytes: non-empty lines, less the CSV header. */
export class RowCounter {
  private lines = 0;
  private pending = false;

  constructor(private readonly header: boolean) {}

  add(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (byte === 0x0a) {
        if (this.pending) this.lines++;
        this.pending = false;
      } else if (byte !== 0x0d && byte !== 0x20 && byte !== 0x09) {
        this.pending = true;
      }
    }
  }

  /** The last line may have no line break. */
  end(): void {
    if (this.pending) this.lines++;
    this.pending = false;
  }

  get rows(): number {
    return Math.max(0, this.lines - (this.header ? 1 : 0));
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
  if (!contentType) throw new OperatorError('UNSUPPORTED_FILE', `${file}: use a .csv, .ndjson or .jsonl file`, 0, [], EXIT.usage);
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (error) {
    throw new OperatorError('FILE_NOT_FOUND', `${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 0, [], EXIT.usage);
  }
  // Rows are counted here as the file streams (line breaks after the CSV header; a quoted CSV
  // value spanning lines counts once per line); the percentage is of the file's bytes.
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: 'uploading [{bar}] {percentage}% | {rows} rows | {rate} rows/s', hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const started = Date.now();
  const progress = new RowCounter(contentType === 'text/csv');
  bar?.start(size, 0, { rows: 0, rate: '0' });
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      progress.add(chunk);
      const seconds = (Date.now() - started) / 1000;
      bar?.update(sent, { rows: progress.rows, rate: seconds > 0 ? Math.round(progress.rows / seconds).toString() : '0' });
      callback(null, chunk);
    },
    flush(callback) {
      progress.end();
      bar?.update(sent, { rows: progress.rows });
      callback();
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

interface CoverageRow {
  locale: string | null;
  count: number;
  hasTemplate: boolean;
}

/**
 * Before a send: the audience's locales (non-null) with no template variant of
 * their own get the base version. List them and go on only with --yes or an
 * interactive yes; without a terminal to ask on, refuse (exit 2). Contacts
 * without a locale are expected to get the base version and are not listed.
 */
async function confirmCoverage(conn: Connection, id: string, yes: boolean): Promise<void> {
  const campaign = await api<Campaign>(conn, 'GET', `/campaigns/${encodeURIComponent(id)}`);
  // Nothing to check when the API will refuse the send anyway (wrong state, no template): let it say why.
  if ((campaign.status !== 'DRAFT' && campaign.status !== 'SCHEDULED') || !campaign.templateVersionId) return;
  const coverage = await api<CoverageRow[]>(conn, 'GET', `/campaigns/${encodeURIComponent(id)}/locale-coverage`);
  const gaps = coverage.filter((row): row is CoverageRow & { locale: string } => row.locale !== null && !row.hasTemplate && row.count > 0);
  if (gaps.length === 0) return;
  const contacts = gaps.reduce((sum, row) => sum + row.count, 0);
  const width = Math.max(...gaps.map((row) => row.locale.length));
  process.stderr.write(
    `warning: ${gaps.length === 1 ? '1 locale' : `${gaps.length} locales`} of the audience (${contacts} contact${contacts === 1 ? '' : 's'}) ` +
      `have no template variant and will get the base version:\n` +
      gaps.map((row) => `  ${row.locale.padEnd(width)}  ${row.count} contact${row.count === 1 ? '' : 's'}\n`).join(''),
  );
  if (yes) return;
  if (!process.stdin.isTTY) {
    throw new CliError(`not sending campaign ${id}: pass --yes to send it anyway (no terminal to ask on)`, EXIT.usage);
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question('Send anyway? [y/N] ')).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new CliError(`not sending campaign ${id}`, EXIT.usage);
  } finally {
    rl.close();
  }
}

/** `--var key=value`, repeatable: the value as JSON when it parses (numbers, booleans, objects), else as text. */
function collectVar(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('expected key=value');
  const raw = value.slice(at + 1);
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // plain text
  }
  return { ...previous, [value.slice(0, at)]: parsed };
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `--html @file.html` reads the file; anything else is the content itself. */
function contentOf(value: string | undefined): string | undefined {
  if (value === undefined || !value.startsWith('@')) return value;
  return fs.readFileSync(value.slice(1), 'utf8');
}

interface EmailSendFlags extends ConnectionFlags {
  to: string;
  subject?: string;
  html?: string;
  text?: string;
  template?: string;
  var?: Record<string, unknown>;
  locale?: string;
  from?: string;
  fromName?: string;
  replyTo?: string;
  project?: string;
  tag?: string[];
  scheduledAt?: string;
  sync?: boolean;
  json?: boolean;
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive whole number');
  return Number(value);
}

export function registerOperatorCommands(program: Command): void {
  const campaigns = program.command('campaigns').description('campaigns, through the HTTP API (--url/--key/--tenant or MAILINGCORE_* env)');

  withConnection(campaigns.command('list'))
    .description('list campaigns, newest first')
    .option('--status <status>', `only this status: ${STATUSES.join(', ')} (any case)`, parseStatus)
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
    .description(
      'send a DRAFT or SCHEDULED campaign now (follow it with `campaigns watch`); first checks which locales of the audience ' +
        'have no template variant and asks before sending them the base version',
    )
    .argument('<id>', 'campaign id')
    .option('-y, --yes', 'send even when some locales have no template variant (no question asked)')
    .option('--force', 'send even when the pre-send check fails (GET /campaigns/{id}/preflight; never past the quota)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: ConnectionFlags & { json?: boolean; yes?: boolean; force?: boolean }) => {
      const conn = connection(opts);
      await confirmCoverage(conn, id, Boolean(opts.yes));
      const c = await api<Campaign>(conn, 'POST', `/campaigns/${encodeURIComponent(id)}/send${opts.force ? '?force=true' : ''}`, {
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
    .description('follow delivery live (queued/sent/failed, rate, ETA; the server streams counters every second) until SENT or CANCELLED; one line per change when not a terminal')
    .argument('<id>', 'campaign id')
    .option('--interval <ms>', 'how often to look while waiting for a SCHEDULED campaign to start (--wait), in milliseconds', positiveInt, 1000)
    .option('--wait', 'a SCHEDULED campaign: wait for it to start, then watch (without it, watch on DRAFT/SCHEDULED says so and exits 1)')
    .option('--json', 'print the final campaign as JSON')
    .action(async (id: string, opts: ConnectionFlags & { interval: number; wait?: boolean; json?: boolean }) => {
      const c = await watch(connection(opts), id, opts.interval, Boolean(opts.wait));
      if (opts.json) json(c);
      else out(`campaign ${c.id} ${c.status}: ${c.counters.sent} sent, ${c.counters.failed} failed, ${c.counters.cancelled} cancelled`);
    });

  const emails = program.command('emails').description('transactional email, through the HTTP API (--url/--key/--tenant or MAILINGCORE_* env)');
  withConnection(emails.command('send'))
    .description('send one transactional email now (or at --scheduled-at): raw --subject/--html/--text, or a published --template version with --var')
    .requiredOption('--to <address>', 'the recipient')
    .option('--subject <text>', 'the subject (with --template: replaces the template\'s)')
    .option('--html <html>', 'the HTML body, or @file.html')
    .option('--text <text>', 'the text body, or @file.txt (derived from the HTML when omitted)')
    .option('--template <versionId>', 'a PUBLISHED template version (locale routing applies)')
    .option('--var <key=value>', 'a template variable, repeatable (the value as JSON when it parses)', collectVar)
    .option('--locale <locale>', 'the locale for the template variant (default: the contact\'s)')
    .option('--from <address>', 'the From address (a verified domain of the tenant, or the default From)')
    .option('--from-name <name>', 'the From display name')
    .option('--reply-to <address>', 'the Reply-To address')
    .option('--project <id>', 'the SMTP project to send through')
    .option('--tag <tag>', 'a tag, repeatable (filter the logs by it)', collect)
    .option('--scheduled-at <iso>', 'send at this instant (ISO 8601, at most 30 days ahead)')
    .option('--sync', 'wait (up to 10 s) for a worker to send it and print the final status')
    .option('--json', 'print JSON')
    .action(async (opts: EmailSendFlags) => {
      const body = {
        to: opts.to,
        ...(opts.subject !== undefined ? { subject: opts.subject } : {}),
        ...(opts.html !== undefined ? { htmlBody: contentOf(opts.html) } : {}),
        ...(opts.text !== undefined ? { textBody: contentOf(opts.text) } : {}),
        ...(opts.template ? { templateVersionId: opts.template } : {}),
        ...(opts.var ? { variables: opts.var } : {}),
        ...(opts.locale ? { locale: opts.locale } : {}),
        ...(opts.from ? { fromEmail: opts.from } : {}),
        ...(opts.fromName ? { fromName: opts.fromName } : {}),
        ...(opts.replyTo ? { replyTo: opts.replyTo } : {}),
        ...(opts.project ? { projectId: opts.project } : {}),
        ...(opts.tag ? { tags: opts.tag } : {}),
        ...(opts.scheduledAt ? { scheduledAt: opts.scheduledAt } : {}),
      };
      const email = await api<{ id: string; status: string }>(connection(opts), 'POST', `/emails/send${opts.sync ? '?sync=true' : ''}`, {
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', 'idempotency-key': globalThis.crypto.randomUUID() },
      });
      if (opts.json) json(email);
      else out(`email ${email.id} is ${email.status}`);
    });

  withConnection(emails.command('logs'))
    .description('transactional emails, newest first')
    .option('--status <status>', 'only this status')
    .option('--to <address>', 'only to this address')
    .option('--tag <tag>', 'only with this tag')
    .option('--page <n>', 'page number', positiveInt, 1)
    .option('--limit <n>', 'emails per page (1-100)', positiveInt, 20)
    .option('--json', 'print JSON')
    .action(async (opts: ConnectionFlags & { status?: string; to?: string; tag?: string; page: number; limit: number; json?: boolean }) => {
      const query = new URLSearchParams({ page: String(opts.page), limit: String(opts.limit) });
      for (const key of ['status', 'to', 'tag'] as const) if (opts[key]) query.set(key, key === 'status' ? opts[key]!.toUpperCase() : opts[key]!);
      const page = await api<{ data: { id: string; toEmail: string | null; subject: string; status: string; createdAt: string }[] }>(
        connection(opts),
        'GET',
        `/emails/logs?${query}`,
      );
      if (opts.json) return json(page);
      if (!page.data.length) return out('no emails');
      out(table(['ID', 'STATUS', 'CREATED', 'TO', 'SUBJECT'], page.data.map((e) => [e.id, e.status, e.createdAt, e.toEmail ?? '(erased)', e.subject])));
    });

  const contacts = program.command('contacts').description('contacts, through the HTTP API (--url/--key/--tenant or MAILINGCORE_* env)');
  withConnection(contacts.command('import'))
    .description('stream a .csv, .ndjson or .jsonl file to POST /contacts/import (any size) and print the summary')
    .argument('<file>', 'the file to import')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: ConnectionFlags & { json?: boolean }) => {
      const summary = await importContacts(connection(opts), file);
      if (opts.json) json(summary);
      else {
        out(`processed ${summary.processed}: ${summary.created} created, ${summary.updated} updated, ${summary.failed} failed`);
        for (const e of summary.errors) out(`  line ${e.line}: ${e.message}`);
      }
      // Partial failure: the good rows are in, the failed ones are listed above.
      if (summary.failed > 0) process.exitCode = EXIT.partial;
    });
}
