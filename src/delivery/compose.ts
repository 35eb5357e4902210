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
    subject: `${input.subjectPrefix ?? ''}${rendered.subject}`,
    html: rendered.html,
    text: rendered.text,
    messageId: `<${input.messageKey}@${domain}>`,
    headers,
  };
}

/** `Name <a@b>` or `a@b` → sender; used for the MAIL_FROM setting. */
export function parseSender(value: string): Sender | undefined {
  const match = /^\s*(?:"?([^"<]*?)"?\s*<([^<>\s]+@[^<>\s]+)>|([^<>\s]+@[^<>\s]+))\s*$/.exec(value);
  if (!match) return undefined;
  const fromEmail = (match[2] ?? match[3])!;
  const fromName = match[1]?.trim() || null;
  return { fromEmail, fromName, replyTo: null };
}
