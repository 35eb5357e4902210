/**
 * What a message that came back to a bounce address says (pure): a DSN
 * (RFC 3464, `multipart/report; report-type=delivery-status`), an ARF
 * complaint (RFC 5965, `report-type=feedback-report`), or neither. A small
 * MIME walker of its own rather than mailparser's, which folds the
 * `message/delivery-status` part into the body text. Bounded work: at most
 * MAX_DEPTH levels of nesting and MAX_PARTS parts; anything malformed reads
 * as "unrecognised", never as an exception.
 */
export interface DsnRecipient {
  action: string;
  /** The enhanced status code, e.g. `5.1.1`. */
  status: string | null;
  diagnostic: string | null;
  finalRecipient: string | null;
  originalRecipient: string | null;
}

export type InboundReport =
  | { kind: 'dsn'; recipient: DsnRecipient; originalMessageId: string | null }
  | { kind: 'complaint'; feedbackType: string; originalRecipient: string | null; originalMessageId: string | null }
  | { kind: 'unrecognised'; reason: string; originalMessageId: string | null };

const MAX_DEPTH = 8;
const MAX_PARTS = 64;
/** A field value longer than this is cut (a diagnostic is a line or two). */
const MAX_FIELD_CHARS = 1000;

interface Part {
  type: string;
  params: Record<string, string>;
  headers: Map<string, string>;
  body: Buffer;
  parts: Part[];
}

export function parseReport(raw: Buffer): InboundReport {
  const budget = { parts: 0 };
  const root = parsePart(raw, 0, budget);
  const report = findReport(root);
  const originalMessageId = originalMessageIdOf(report ?? root, root);
  if (!report) return { kind: 'unrecognised', reason: 'not a multipart/report', originalMessageId };
  const reportType = (report.params['report-type'] ?? '').toLowerCase();
  if (reportType === 'delivery-status' || reportType === 'global-delivery-status') {
    const part = report.parts.find((p) => p.type === 'message/delivery-status' || p.type === 'message/global-delivery-status');
    if (!part) return { kind: 'unrecognised', reason: 'delivery-status report without a message/delivery-status part', originalMessageId };
    const recipient = pickRecipient(deliveryStatusRecipients(textOf(part)));
    if (!recipient) return { kind: 'unrecognised', reason: 'delivery-status report without a failed or delayed recipient', originalMessageId };
    return { kind: 'dsn', recipient, originalMessageId };
  }
  if (reportType === 'feedback-report') {
    const part = report.parts.find((p) => p.type === 'message/feedback-report');
    if (!part) return { kind: 'unrecognised', reason: 'feedback report without a message/feedback-report part', originalMessageId };
    const fields = fieldBlocks(textOf(part))[0] ?? new Map<string, string>();
    const feedbackType = (fields.get('feedback-type') ?? '').trim().toLowerCase();
    if (!feedbackType) return { kind: 'unrecognised', reason: 'feedback report without Feedback-Type', originalMessageId };
    if (feedbackType !== 'abuse') return { kind: 'unrecognised', reason: `feedback report of type ${cut(feedbackType, 40)}`, originalMessageId };
    return { kind: 'complaint', feedbackType, originalRecipient: addressOf(fields.get('original-rcpt-to') ?? null), originalMessageId };
  }
  return { kind: 'unrecognised', reason: `report of type ${cut(reportType || '(none)', 40)}`, originalMessageId };
}

/** The first multipart/report, depth first (a report may be forwarded inside a multipart/mixed). */
function findReport(part: Part): Part | undefined {
  if (part.type === 'multipart/report') return part;
  for (const child of part.parts) {
    const found = findReport(child);
    if (found) return found;
  }
  return undefined;
}

/** The Message-ID of the returned original: its message/rfc822 or text/rfc822-headers part. */
function originalMessageIdOf(report: Part, root: Part): string | null {
  for (const scope of [report, root]) {
    const original = findPart(scope, (p) => p.type === 'message/rfc822' || p.type === 'text/rfc822-headers' || p.type === 'message/global' || p.type === 'message/global-headers');
    if (original) {
      const id = headersOf(original.body).get('message-id');
      const match = id ? /<([^<>\s]{1,500})>/.exec(id) : null;
      if (match) return match[1]!;
    }
  }
  return null;
}

function findPart(part: Part, test: (p: Part) => boolean): Part | undefined {
  for (const child of part.parts) {
    if (test(child)) return child;
    const found = findPart(child, test);
    if (found) return found;
  }
  return undefined;
}

/** A failed recipient wins over a delayed one; delivered, relayed and expanded are not reports of trouble. */
function pickRecipient(recipients: DsnRecipient[]): DsnRecipient | undefined {
  return recipients.find((r) => r.action === 'failed') ?? recipients.find((r) => r.action === 'delayed');
}

function deliveryStatusRecipients(text: string): DsnRecipient[] {
  // The first block holds the per-message fields; each later one is a recipient.
  return fieldBlocks(text)
    .slice(1)
    .filter((fields) => fields.has('action'))
    .map((fields) => ({
      action: (fields.get('action') ?? '').trim().toLowerCase().split(/\s/)[0] ?? '',
      status: /^[245]\.\d{1,3}\.\d{1,3}/.exec((fields.get('status') ?? '').trim())?.[0] ?? null,
      diagnostic: fields.has('diagnostic-code') ? cut(typed(fields.get('diagnostic-code')!), MAX_FIELD_CHARS) : null,
      finalRecipient: addressOf(fields.has('final-recipient') ? typed(fields.get('final-recipient')!) : null),
      originalRecipient: addressOf(fields.has('original-recipient') ? typed(fields.get('original-recipient')!) : null),
    }));
}

/** `rfc822; ana@example.com` → `ana@example.com` (the address-type or diagnostic-type prefix dropped). */
function typed(value: string): string {
  const semi = value.indexOf(';');
  return (semi >= 0 ? value.slice(semi + 1) : value).trim();
}

function addressOf(value: string | null): string | null {
  if (!value) return null;
  const address = value.trim().replace(/^<|>$/g, '').trim();
  return address.length > 0 && address.length <= 320 && /^[^\s@]+@[^\s@]+$/.test(address) ? address.toLowerCase() : null;
}

/** Blocks of `Name: value` fields separated by blank lines, folded lines joined (RFC 3464 §2.1). */
function fieldBlocks(text: string): Map<string, string>[] {
  const blocks: Map<string, string>[] = [];
  let current = new Map<string, string>();
  let last: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      if (current.size > 0) blocks.push(current);
      current = new Map();
      last = null;
    } else if (/^[ \t]/.test(line) && last) {
      current.set(last, cut(`${current.get(last)} ${line.trim()}`, MAX_FIELD_CHARS));
    } else {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim().toLowerCase();
      if (!current.has(last)) current.set(last, cut(line.slice(colon + 1).trim(), MAX_FIELD_CHARS));
    }
    if (blocks.length > MAX_PARTS) break;
  }
  if (current.size > 0) blocks.push(current);
  return blocks;
}

function parsePart(raw: Buffer, depth: number, budget: { parts: number }): Part {
  budget.parts++;
  const split = headerEnd(raw);
  const headers = headersOf(raw.subarray(0, split.at));
  const { type, params } = contentType(headers.get('content-type'));
  const body = decodeBody(raw.subarray(split.bodyAt), headers.get('content-transfer-encoding'));
  const part: Part = { type, params, headers, body, parts: [] };
  if (depth >= MAX_DEPTH) return part;
  if (type.startsWith('multipart/') && params.boundary) {
    for (const child of splitMultipart(body, params.boundary)) {
      if (budget.parts >= MAX_PARTS) break;
      part.parts.push(parsePart(child, depth + 1, budget));
    }
  } else if (type === 'message/rfc822' || type === 'message/global') {
    // Looked into only to find a report forwarded as an attachment; its headers are read from `body`.
    if (budget.parts < MAX_PARTS) part.parts.push(parsePart(body, depth + 1, budget));
  }
  return part;
}

function headerEnd(raw: Buffer): { at: number; bodyAt: number } {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, bodyAt: crlf + 4 };
  if (lf >= 0) return { at: lf, bodyAt: lf + 2 };
  return { at: raw.length, bodyAt: raw.length };
}

/** Header fields of a part, lower-case names, unfolded; the first of a repeated field wins. */
function headersOf(raw: Buffer): Map<string, string> {
  const text = raw.subarray(0, headerEnd(raw).at).toString('latin1');
  const headers = new Map<string, string>();
  for (const line of text.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, cut(line.slice(colon + 1).trim(), MAX_FIELD_CHARS));
  }
  return headers;
}

function contentType(value: string | undefined): { type: string; params: Record<string, string> } {
  if (!value) return { type: 'text/plain', params: {} };
  const [head = '', ...rest] = value.split(';');
  const params: Record<string, string> = {};
  const paramText = rest.join(';');
  for (const match of paramText.matchAll(/([^=\s;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/g)) {
    const name = match[1]!.toLowerCase();
    const raw = match[2]!;
    params[name] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  }
  return { type: head.trim().toLowerCase() || 'text/plain', params };
}

function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  const cte = (encoding ?? '').trim().toLowerCase();
  if (cte === 'base64') return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
  if (cte === 'quoted-printable') {
    const text = body.toString('latin1').replace(/=\r?\n/g, '');
    const bytes: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const hex = text[i] === '=' ? text.slice(i + 1, i + 3) : '';
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else bytes.push(text.charCodeAt(i) & 0xff);
    }
    return Buffer.from(bytes);
  }
  return body;
}

function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const parts: Buffer[] = [];
  let start = -1;
  for (let at = text.indexOf(delimiter); at >= 0; at = text.indexOf(delimiter, at + delimiter.length)) {
    // A delimiter only counts at the start of a line.
    if (at > 0 && text[at - 1] !== '\n') continue;
    if (start >= 0) parts.push(Buffer.from(text.slice(start, at).replace(/\r?\n$/, ''), 'latin1'));
    if (text.startsWith('--', at + delimiter.length)) return parts;
    const lineEnd = text.indexOf('\n', at);
    if (lineEnd < 0) return parts;
    start = lineEnd + 1;
    if (parts.length >= MAX_PARTS) return parts;
  }
  // Truncated: no closing delimiter; keep what arrived of the last part.
  if (start >= 0 && start < text.length) parts.push(Buffer.from(text.slice(start), 'latin1'));
  return parts;
}

/** A part's body as text, in its declared charset (an unknown one reads as Latin-1). */
function textOf(part: Part): string {
  const charset = (part.params.charset ?? 'utf-8').toLowerCase();
  try {
    return new TextDecoder(charset).decode(part.body);
  } catch {
    return part.body.toString('latin1');
  }
}

function cut(value: string, max: number): string {
  return value.length > max ? value.slice(0, max) : value;
}

/** The status a plain-text bounce quotes: `550 5.1.1 …`, `5.1.1 …` or, failing both, a bare `550 …` at a line's start. */
export interface PlainRefusal {
  basic?: number;
  enhanced?: string;
  /** The line that quotes it, trimmed (at most MAX_FIELD_CHARS). */
  text: string;
}

/** A bounce without DSN structure, attributed to the message its quoted Message-ID and the token both name. */
export type PlainBounce =
  | { kind: 'plain'; campaignId: string; messageId: number; refusal: PlainRefusal }
  | { kind: 'unattributed'; reason: string };

/** Our Message-IDs: `<campaignId.messageId@sender domain>` (src/delivery/worker.ts, compose.ts). */
const MESSAGE_KEY = /^([A-Za-z0-9-]{1,64})\.(\d{1,15})@[^@\s]+$/;
const QUOTED_MESSAGE_ID = /message-id\s*:\s*<([^<>\s]{1,500})>/gi;
const BASIC_AND_ENHANCED = /(?:^|[^\d.])([45]\d\d)[ -]#?([45]\.\d{1,3}\.\d{1,3})(?![\d.]*\d)/m;
const ENHANCED_ONLY = /(?:^|[\s#('"])([45]\.\d{1,3}\.\d{1,3})(?![\d.]*\d)/m;
const BASIC_ONLY = /^\s*#?([45][0-5]\d)[ -]+[A-Za-z]/m;

/** What one of our Message-IDs names (angle brackets optional); undefined for anyone else's. */
export function messageKeyOf(id: string): { campaignId: string; messageId: number } | undefined {
  const m = MESSAGE_KEY.exec(id.trim().replace(/^<([^<>]*)>$/, '$1'));
  return m ? { campaignId: m[1]!.toLowerCase(), messageId: Number(m[2]) } : undefined;
}

/**
 * The fallback for bounces with no DSN structure (plain-text Exchange,
 * Gmail, Yahoo bodies), for mail whose VERP token already verified and
 * named `tokenMessageId` (pure). Attributed only when every one of our
 * Message-IDs the body quotes (`Message-ID: <campaignId.messageId@…>`, in
 * the text or in the returned original's headers — never the bounce's own
 * header) names that message, and the human-readable text (not the
 * returned original) quotes an SMTP reply or an enhanced status code. The
 * caller checks the campaign id against the message row.
 */
export function plainBounceOf(raw: Buffer, tokenMessageId: number): PlainBounce {
  const budget = { parts: 0 };
  const root = parsePart(raw, 0, budget);
  const quoted: string[] = [];
  const readable: string[] = [];
  collectTexts(root, true, false, quoted, readable);
  const keys = quoted
    .flatMap((text) => [...text.matchAll(QUOTED_MESSAGE_ID)].map((m) => m[1]!))
    .map(messageKeyOf)
    .filter((k) => k !== undefined);
  if (keys.length === 0) return { kind: 'unattributed', reason: 'no DSN structure and no Message-ID of ours quoted' };
  const [first] = keys as [(typeof keys)[number]];
  if (keys.some((k) => k.messageId !== tokenMessageId || k.campaignId !== first.campaignId)) {
    return { kind: 'unattributed', reason: 'the quoted Message-ID names another message than the bounce address' };
  }
  const refusal = refusalIn(readable.join('\n'));
  if (!refusal) return { kind: 'unattributed', reason: 'no DSN structure and no SMTP status in the text' };
  return { kind: 'plain', campaignId: first.campaignId, messageId: first.messageId, refusal };
}

/**
 * Leaf texts of a message: `quoted` gets every body (returned originals'
 * headers included), `readable` only the text/* parts outside a returned
 * original (the campaign email's own body may say anything).
 */
function collectTexts(part: Part, isRoot: boolean, inOriginal: boolean, quoted: string[], readable: string[]): void {
  const original = inOriginal || (!isRoot && (part.type === 'message/rfc822' || part.type === 'message/global' || part.type === 'text/rfc822-headers' || part.type === 'message/global-headers'));
  if (part.parts.length === 0 || part.type === 'message/rfc822' || part.type === 'message/global') {
    if (part.type.startsWith('text/') || part.type.startsWith('message/')) {
      const text = textOf(part);
      quoted.push(text);
      if (!original && part.type.startsWith('text/') && part.type !== 'text/rfc822-headers') {
        readable.push(part.type === 'text/html' ? text.replace(/<[^>]*>/g, ' ').replace(/&nbsp;/g, ' ') : text);
      }
    }
  }
  for (const child of part.parts) collectTexts(child, false, original, quoted, readable);
}

/** The first SMTP status a text quotes (`550 5.1.1 …`, `5.1.1 …`, a bare `550 …` at a line's start), with its line. */
export function refusalIn(text: string): PlainRefusal | null {
  const lineOf = (index: number) => {
    const start = text.lastIndexOf('\n', index) + 1;
    const end = text.indexOf('\n', index);
    return cut(text.slice(start, end < 0 ? text.length : end).trim(), MAX_FIELD_CHARS);
  };
  const both = BASIC_AND_ENHANCED.exec(text);
  if (both) return { basic: Number(both[1]), enhanced: both[2]!, text: lineOf(both.index + both[0].indexOf(both[1]!)) };
  const enhanced = ENHANCED_ONLY.exec(text);
  if (enhanced) return { enhanced: enhanced[1]!, text: lineOf(enhanced.index + enhanced[0].indexOf(enhanced[1]!)) };
  const basic = BASIC_ONLY.exec(text);
  if (basic) return { basic: Number(basic[1]), text: lineOf(basic.index + basic[0].indexOf(basic[1]!)) };
  return null;
}
