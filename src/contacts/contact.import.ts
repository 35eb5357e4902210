import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { parse as parseCsv, CsvError } from 'csv-parse';
import secureJson from 'secure-json-parse';
import type { Dialect } from '../db/database.js';
import { validationError } from '../shared/errors.js';
import { isStorableText, printable } from '../shared/storable.js';
import { Utf8Scrubber } from '../shared/utf8.js';
import { ATTRIBUTE_LIMITS, checkUpsertItem, describeDetails, type UpsertValues } from './contact.input.js';
import type { ImportResult } from './contact.schemas.js';
import type { ContactService } from './contact.service.js';

export type ImportFormat = 'csv' | 'ndjson';

export const IMPORT_MEDIA_TYPES: Record<string, ImportFormat> = {
  'text/csv': 'csv',
  'application/x-ndjson': 'ndjson',
};

/**
 * Rows per batch (one transaction each). PostgreSQL writes a batch with one
 * COPY (contact.copy.ts), whose fixed cost is better spread over many rows;
 * SQLite binds a parameter per value and stays under its variable limit.
 */
export const IMPORT_BATCH_ROWS: Record<Dialect, number> = { sqlite: 1000, postgres: 10_000 };

const MAX_REPORTED_ERRORS = 100;

/**
 * Keeps the MAX_REPORTED_ERRORS problems of the lowest lines, in line order:
 * a batch's database refusals may be reported after later lines' checks.
 */
function reportError(errors: ImportResult['errors'], error: ImportResult['errors'][number]): void {
  if (errors.length >= MAX_REPORTED_ERRORS && error.line >= errors[errors.length - 1]!.line) return;
  let at = errors.length;
  while (at > 0 && errors[at - 1]!.line > error.line) at -= 1;
  errors.splice(at, 0, error);
  if (errors.length > MAX_REPORTED_ERRORS) errors.pop();
}

const MAX_LINE_BYTES = 64 * 1024;

/** One input row: the contact it describes, or why it could not be read. `line` is 1-based. */
type Row = { line: number; item: Record<string, unknown> } | { line: number; error: string; fatal?: boolean };

/**
 * Streaming import: rows are read, checked and written in batches of
 * `batchSize` (one transaction each), so memory stays flat whatever the size
 * of the body: it holds at most the batch being written, the one being
 * filled and the parser's queue (the body is paused beyond it). Rows already
 * written stay written if a later one fails; each failure is reported with
 * its line. A bad row never fails the import: rows are checked as every
 * other entry point checks a contact (contact.input.ts), bytes that are not
 * UTF-8 are refused rather than decoded into U+FFFD, and a batch the
 * database still refuses is written again in halves
 * (ContactService.writeBatchOrRows), so the refused row fails alone.
 */
export class ContactImporter {
  private readonly batchSize: number;

  constructor(private readonly deps: { contacts: ContactService; batchSize?: number }) {
    this.batchSize = deps.batchSize ?? 1000;
  }

  async run(tenantId: string, format: ImportFormat, body: Readable): Promise<ImportResult> {
    const result: ImportResult = { processed: 0, created: 0, updated: 0, failed: 0, errors: [] };
    const fail = (line: number, message: string) => {
      result.failed += 1;
      reportError(result.errors, { line, message });
    };
    let batch: { line: number; values: UpsertValues }[] = [];
    const write = async (items: { line: number; values: UpsertValues }[]) => {
      const outcomes = await this.deps.contacts.writeBatchOrRows(tenantId, items.map((item) => item.values));
      outcomes.forEach((outcome, position) => {
        if (outcome.status === 'failed') fail(items[position]!.line, outcome.message);
        else result[outcome.status] += 1;
      });
    };
    // One batch is written while the next is read and checked (the database
    // and this process work at once); the next write starts only once the
    // previous one has committed, so batches still apply in order.
    let writing: Promise<void> | undefined;
    const flush = async () => {
      const items = batch;
      batch = [];
      await writing;
      writing = write(items);
      writing.catch(() => {}); // awaited (and thrown) by the next flush or at the end
    };

    try {
      const rows = format === 'csv' ? csvRows(body) : ndjsonRows(body);
      for await (const row of rows) {
        if ('error' in row) {
          if (row.fatal) {
            fail(row.line, row.error);
            break;
          }
          result.processed += 1;
          fail(row.line, row.error);
          continue;
        }
        result.processed += 1;
        const checked = checkUpsertItem(row.item);
        if (!checked.ok) fail(row.line, describeDetails(checked.details));
        else batch.push({ line: row.line, values: checked.values });
        if (batch.length >= this.batchSize) await flush();
      }
      if (batch.length > 0) await flush();
      await writing;
    } catch (error) {
      // Never answer while a write still runs.
      await writing?.catch(() => {});
      throw error;
    }
    if (result.processed === 0 && result.failed === 0) {
      throw validationError('The import holds no contacts', [{ field: '(body)', message: 'no data rows' }]);
    }
    return result;
  }
}

const FIELD_COLUMNS: Record<string, string> = {
  email: 'email',
  externalid: 'externalId',
  locale: 'locale',
  optin: 'optIn',
  projectid: 'projectId',
  consentversion: 'consentVersion',
  source: 'source',
};

type Column = { field: string } | { attribute: string };

/** Header → columns. Known names match loosely (`external_id`, `OptIn`); any other column is a string attribute. */
export function csvColumns(header: string[]): Column[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  let attributes = 0;
  const columns = header.map((raw, index): Column => {
    const name = raw.trim();
    if (!isStorableText(name)) problems.push(`column ${index + 1}: ${UNREADABLE}`);
    const field = FIELD_COLUMNS[name.toLowerCase().replace(/[\s_-]/g, '')];
    const key = field ?? `attribute:${name}`;
    if (seen.has(key)) problems.push(`column "${name}" appears twice`);
    seen.add(key);
    if (field) return { field };
    attributes += 1;
    if (name.length === 0 || name.length > ATTRIBUTE_LIMITS.keyLength) {
      problems.push(`column ${index + 1}: attribute names must be 1 to ${ATTRIBUTE_LIMITS.keyLength} characters`);
    }
    return { attribute: name };
  });
  if (!seen.has('email')) problems.push('an "email" column is required');
  if (attributes > ATTRIBUTE_LIMITS.keys) problems.push(`at most ${ATTRIBUTE_LIMITS.keys} attribute columns`);
  if (problems.length > 0) {
    throw validationError('Invalid CSV header', problems.map((message) => ({ field: 'header', message })));
  }
  return columns;
}

/** A NUL in a cell is either a NUL byte of the input or a byte that was not UTF-8 (Utf8Scrubber). */
const UNREADABLE = 'holds a NUL character or bytes that are not valid UTF-8';

const BOOLEANS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, yes: true, no: false };

/** One data record → an upsert item. Empty cells are "not given": they leave stored values alone. */
export function csvItem(columns: Column[], record: string[]): Record<string, unknown> | string {
  const item: Record<string, unknown> = {};
  let attributes: Record<string, string> | undefined;
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!;
    const cell = record[i]!;
    if (cell === '') continue;
    if (!isStorableText(cell)) return `${'attribute' in column ? printable(column.attribute) : column.field}: ${UNREADABLE}`;
    if ('attribute' in column) {
      // No prototype: a column named "__proto__" stays an ordinary key.
      attributes ??= Object.create(null) as Record<string, string>;
      attributes[column.attribute] = cell;
    } else if (column.field === 'optIn') {
      const value = BOOLEANS[cell.trim().toLowerCase()];
      if (value === undefined) return `optIn: ${JSON.stringify(cell.slice(0, 100))} is not one of true, false, 1, 0, yes, no`;
      item.optIn = value;
    } else {
      item[column.field] = column.field === 'email' ? cell : cell.trim();
    }
  }
  if (attributes) item.attributes = attributes;
  return item;
}

async function* csvRows(body: Readable): AsyncGenerator<Row> {
  const parser = withLineCounts(
    parseCsv({
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: MAX_LINE_BYTES,
    }),
  );
  let columns: Column[] | undefined;
  try {
    for await (const { record, info } of csvRecords(body, parser)) {
      // `info.lines` is where the record ends; report where it starts.
      const line = info.lines - record.reduce((n, cell) => n + countNewlines(cell), 0);
      if (!columns) {
        columns = csvColumns(record);
        continue;
      }
      if (record.length !== columns.length) {
        yield { line, error: `expected ${columns.length} fields, found ${record.length}` };
        continue;
      }
      const item = csvItem(columns, record);
      yield typeof item === 'string' ? { line, error: item } : { line, item };
    }
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    if (!columns) throw validationError('Invalid CSV', [{ field: '(body)', message: error.message }]);
    const line = (error as CsvError & { lines?: number }).lines ?? 0;
    // csv-parse cannot resynchronise after a syntax error, so the import stops here.
    yield { line, error: `CSV parsing stopped: ${error.message}`, fatal: true };
  }
  if (!columns) throw validationError('Invalid CSV', [{ field: 'header', message: 'the body has no header row' }]);
}

type CsvRecord = { record: string[]; info: { lines: number } };

/**
 * Each record as `{record, info: {lines}}`, the shape csv-parse's `info`
 * option gives, without that option's cost: it copies the parser's whole
 * state into two new objects per record (5 % of an import's CPU), when the
 * line count is all the import needs. The count is read as the parser hands
 * the record over (it pushes each record as soon as it ends), which is what
 * `info` would have copied.
 */
function withLineCounts(parser: ReturnType<typeof parseCsv>): ReturnType<typeof parseCsv> {
  const push = parser.push.bind(parser);
  parser.push = (record: string[] | null) => push(record === null ? null : ({ record, info: { lines: parser.info.lines } } satisfies CsvRecord));
  return parser;
}

/**
 * The parser's records as an async iterable. Async-iterating the parser
 * itself would drop the records it had parsed but not yet handed over when it
 * fails; here it stays in flowing mode, and backpressure pauses the request
 * body instead.
 */
async function* csvRecords(body: Readable, parser: ReturnType<typeof parseCsv>): AsyncGenerator<CsvRecord> {
  const queue: CsvRecord[] = [];
  let failure: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  parser.on('data', (record: CsvRecord) => {
    queue.push(record);
    if (queue.length >= 2000) body.pause();
    notify();
  });
  parser.on('error', (error) => {
    failure ??= error;
    notify();
  });
  parser.on('end', () => {
    ended = true;
    notify();
  });
  const scrubber = new Utf8Scrubber();
  body.on('data', (chunk: Buffer) => parser.write(scrubber.push(chunk)));
  body.on('end', () => {
    parser.write(scrubber.end());
    parser.end();
  });
  body.on('error', (error) => {
    failure ??= error;
    notify();
  });
  try {
    for (;;) {
      const record = queue.shift();
      if (record) {
        if (queue.length < 500 && body.isPaused()) body.resume();
        yield record;
      } else if (failure !== undefined) {
        throw failure;
      } else if (ended) {
        return;
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
  } finally {
    body.removeAllListeners('data');
    body.resume();
    parser.destroy();
  }
}

function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count += 1;
  return count;
}

/**
 * Newline-delimited JSON, split by hand on the bytes so that one huge line
 * cannot exhaust memory, and so that a line that is not UTF-8 is refused
 * rather than decoded into U+FFFD. A UTF-8 BOM before the first line is skipped.
 */
async function* ndjsonRows(body: Readable): AsyncGenerator<Row> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = 0;
  let skipping = false;
  const tooLong = () => ({ line: line + 1, error: `line longer than ${MAX_LINE_BYTES} bytes` });
  const take = (last: Buffer): Buffer => {
    const bytes = pending.length > 0 ? Buffer.concat([...pending, last]) : last;
    pending = [];
    pendingBytes = 0;
    return bytes;
  };
  for await (const chunk of body as AsyncIterable<Buffer>) {
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, end);
      start = end + 1;
      if (skipping) {
        skipping = false;
        line += 1;
        continue;
      }
      if (pendingBytes + piece.length > MAX_LINE_BYTES) {
        yield tooLong();
        take(piece);
        line += 1;
        continue;
      }
      const row = ndjsonRow(take(piece), ++line);
      if (row) yield row;
    }
    if (skipping || start === chunk.length) continue;
    const rest = chunk.subarray(start);
    if (pendingBytes + rest.length > MAX_LINE_BYTES) {
      yield tooLong();
      skipping = true;
      take(rest);
    } else {
      pending.push(rest);
      pendingBytes += rest.length;
    }
  }
  if (!skipping && pendingBytes > 0) {
    const row = ndjsonRow(take(Buffer.alloc(0)), line + 1);
    if (row) yield row;
  }
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function ndjsonRow(bytes: Buffer, line: number): Row | undefined {
  const content = line === 1 && bytes.subarray(0, 3).equals(BOM) ? bytes.subarray(3) : bytes;
  if (!isUtf8(content)) return { line, error: 'the line is not valid UTF-8' };
  const text = content.toString('utf8');
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    return { line, error: `not valid JSON: ${printable((error as Error).message)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { line, error: 'each line must be a JSON object' };
  }
  return { line, item: value as Record<string, unknown> };
}
