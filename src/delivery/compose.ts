import type Mail from 'nodemailer/lib/mailer/index.js';
import type { RenderedEmail } from '../templates/render.js';

/** What names the list and the mail stream of a campaign email (List-Id, Feedback-ID). */
export interface ListIdentity {
  tenantId: string;
  campaignId: string;
  /** Tenant-controlled: the List-Id description. */
  campaignName: string | null;
  /** The project that sends (its id), or `default` for the server's transport. */
  senderId: string;
  stream: 'campaign' | 'test';
}

export interface Sender {
  fromEmail: string;
  fromName: string | null;
  replyTo: string | null;
}

/**
 * One campaign email as Nodemailer options (pure). The Message-ID is derived
 * from the message's own id, so a duplicate sent after a crash is
 * recognisable as the same email by the receiving side and by us.
 * RFC 8058 one-click unsubscribe headers go on every campaign email.
 */
export function composeEmail(input: {
  messageKey: string;
  to: string;
  sender: Sender;
  rendered: RenderedEmail;
  unsubscribeUrl: string | null;
  subjectPrefix?: string;
  list?: ListIdentity;
}): Mail.Options {
  const { sender, rendered } = input;
  const domain = sender.fromEmail.split('@')[1] ?? 'mailingcore.invalid';
  const headers: Record<string, string | { prepared: true; value: string }> = {};
  if (input.unsubscribeUrl) {
    headers['List-Unsubscribe'] = `<${input.unsubscribeUrl}>`;
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  if (input.list) Object.assign(headers, listHeaders(input.list, domain));
  return {
    from: sender.fromName ? { name: sender.fromName, address: sender.fromEmail } : sender.fromEmail,
    ...(sender.replyTo ? { replyTo: sender.replyTo } : {}),
    to: input.to,
    subject: `${input.subjectPrefix ?? ''}${rendered.subject}`.replace(/[\r\n]+/g, ' '),
    html: withTransferEncoding(normaliseLineEndings(rendered.html)),
    text: withTransferEncoding(normaliseLineEndings(rendered.text)),
    messageId: `<${input.messageKey}@${domain}>`,
    headers,
  };
}

/**
 * The bulk-sender headers (docs/DELIVERABILITY.md): one `List-Id` per tenant
 * and From domain (RFC 2919; the tenant's contacts are its one list, a
 * campaign's filter is a segment of it), Gmail's `Feedback-ID`
 * (`campaign:tenant:stream:sender`, the sender id last as Gmail asks) and
 * `Precedence: bulk` (RFC 3834 auto-responders stay quiet). The ids are ours
 * (UUIDs); the only tenant text is the description, passed already encoded.
 */
export function listHeaders(list: ListIdentity, fromDomain: string): Record<string, string | { prepared: true; value: string }> {
  const listId = `<${listIdLabel(list.tenantId, fromDomain)}>`;
  const description = list.campaignName ? phrase(list.campaignName) : '';
  return {
    'List-Id': { prepared: true, value: description ? `${description} ${listId}` : listId },
    // Prepared: folding would put a space inside the id (about 120 characters).
    'Feedback-ID': { prepared: true, value: `${headerToken(list.campaignId)}:${headerToken(list.tenantId)}:${list.stream}:${headerToken(list.senderId)}` },
    Precedence: 'bulk',
  };
}

/** `t-<tenant id>.<from domain>`: a dot-atom under a domain the sender controls (RFC 2919 §2). */
export function listIdLabel(tenantId: string, fromDomain: string): string {
  const domain = fromDomain.toLowerCase().replace(/[^a-z0-9.-]/g, '') || 'mailingcore.invalid';
  return `t-${headerToken(tenantId).toLowerCase()}.${domain}`;
}

const headerToken = (value: string): string => value.replace(/[^A-Za-z0-9._-]/g, '');

/**
 * A display phrase safe in a header: control characters (CR/LF included)
 * dropped, at most 64 characters; printable ASCII as a quoted string,
 * anything else as RFC 2047 encoded words folded onto their own lines.
 */
export function phrase(name: string): string {
  const clean = [...name.replace(/[\x00-\x1f\x7f]+/g, ' ').trim()].slice(0, 64).join('');
  if (/^[\x20-\x7e]*$/.test(clean)) return `"${clean.replace(/(["\\])/g, '\\$1')}"`;
  const words: string[] = [];
  let chunk = '';
  for (const ch of clean) {
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join('\r\n ');
}

/**
 * Every line ending as CRLF. Nodemailer sends a 7bit part as it is, so a bare
 * CR or LF from a contact attribute or a template would reach the wire as a
 * lone line-ending byte (the shape of SMTP smuggling, `\n.\r\n`). A part with
 * only CRLF endings is returned untouched (no copy).
 */
export function normaliseLineEndings(content: string): string {
  return /\r(?!\n)|(?<!\r)\n/.test(content) ? content.replace(/\r\n|\r|\n/g, '\r\n') : content;
}

/**
 * A body part with the transfer encoding Nodemailer would choose, decided
 * here in one pass over the characters: Nodemailer decides it by matching
 * every Latin letter and every non-ASCII character into two arrays, the
 * largest cost in a worker's CPU profile (13 %) and in its garbage. Same
 * rule, so the same bytes on the wire: a body that is 7-bit with short lines
 * is left to Nodemailer (sent as is), otherwise quoted-printable when Latin
 * letters outnumber non-ASCII and control characters, else base64.
 */
function withTransferEncoding(content: string): string | { content: string; contentTransferEncoding: 'quoted-printable' | 'base64' } {
  let latin = 0;
  let other = 0;
  let lineLength = 0;
  let longLines = content.length > 128 * 1024; // Nodemailer does not look for long lines beyond 128 kB
  for (let i = 0; i < content.length; i++) {
    const c = content.charCodeAt(i);
    if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) lineLength = 0;
    else if (++lineLength > 76) longLines = true;
    if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) latin++;
    else if (c <= 0x08 || c === 0x0b || c === 0x0c || (c >= 0x0e && c <= 0x1f) || c >= 0x80) other++;
  }
  if (other === 0 && !longLines) return content;
  return { content, contentTransferEncoding: other < latin ? 'quoted-printable' : 'base64' };
}

/** `Name <a@b>` or `a@b` → sender; used for the MAIL_FROM setting. */
export function parseSender(value: string): Sender | undefined {
  const match = /^\s*(?:"?([^"<]*?)"?\s*<([^<>\s]+@[^<>\s]+)>|([^<>\s]+@[^<>\s]+))\s*$/.exec(value);
  if (!match) return undefined;
  const fromEmail = (match[2] ?? match[3])!;
  const fromName = match[1]?.trim() || null;
  return { fromEmail, fromName, replyTo: null };
}
