import type Mail from 'nodemailer/lib/mailer/index.js';
import type { RenderedEmail } from '../templates/render.js';

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
}): Mail.Options {
  const { sender, rendered } = input;
  const domain = sender.fromEmail.split('@')[1] ?? 'mailingcore.invalid';
  const headers: Record<string, string> = {};
  if (input.unsubscribeUrl) {
    headers['List-Unsubscribe'] = `<${input.unsubscribeUrl}>`;
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
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
