/** Builders of the mail a bounce address receives: DSNs (RFC 3464) and ARF complaints (RFC 5965). */

export interface DsnOptions {
  to: string;
  finalRecipient: string;
  action?: string;
  status?: string;
  diagnostic?: string;
  originalMessageId?: string;
  boundary?: string;
}

export function dsn(o: DsnOptions): string {
  const b = o.boundary ?? 'dsn-boundary';
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.receiver.test>',
    `To: ${o.to}`,
    'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${b}"`,
    '',
    `--${b}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host mx.receiver.test.',
    '',
    `--${b}`,
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.receiver.test',
    'Arrival-Date: Mon, 30 Nov 2026 10:00:00 +0000',
    '',
    `Final-Recipient: rfc822; ${o.finalRecipient}`,
    `Original-Recipient: rfc822;${o.finalRecipient}`,
    `Action: ${o.action ?? 'failed'}`,
    `Status: ${o.status ?? '5.1.1'}`,
    `Diagnostic-Code: smtp; ${o.diagnostic ?? `550 5.1.1 <${o.finalRecipient}>: Recipient address`}`,
    ' rejected: User unknown in virtual mailbox table',
    '',
    `--${b}`,
    'Content-Type: text/rfc822-headers',
    '',
    `Message-ID: <${o.originalMessageId ?? 'c.1@acme.test'}>`,
    'From: news@acme.test',
    `To: ${o.finalRecipient}`,
    'Subject: Hello',
    '',
    `--${b}--`,
    '',
  ].join('\r\n');
}

export function arf(o: { to: string; originalRecipient: string; feedbackType?: string; originalMessageId?: string }): string {
  const b = 'arf-boundary';
  return [
    'From: feedback@fbl.receiver.test',
    `To: ${o.to}`,
    'Subject: Abuse report',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=feedback-report; boundary="${b}"`,
    '',
    `--${b}`,
    'Content-Type: text/plain; charset="utf-8"',
    '',
    'This is an email abuse report.',
    '',
    `--${b}`,
    'Content-Type: message/feedback-report',
    '',
    `Feedback-Type: ${o.feedbackType ?? 'abuse'}`,
    'User-Agent: SomeFBL/1.0',
    'Version: 1',
    `Original-Rcpt-To: ${o.originalRecipient}`,
    '',
    `--${b}`,
    'Content-Type: message/rfc822',
    'Content-Disposition: inline',
    '',
    `Message-ID: <${o.originalMessageId ?? 'c.1@acme.test'}>`,
    'From: news@acme.test',
    `To: ${o.originalRecipient}`,
    'Subject: Hello',
    '',
    'Hi!',
    `--${b}--`,
    '',
  ].join('\r\n');
}

export interface PlainBounceOptions {
  to: string;
  /** The original's Message-ID, without the angle brackets. */
  originalMessageId?: string;
  /** The line quoting the server's answer. */
  reply?: string;
  recipient?: string;
}

/** A plain-text non-delivery report the way Exchange writes one: no multipart/report, the original's headers quoted in the text. */
export function plainBounce(o: PlainBounceOptions): string {
  const recipient = o.recipient ?? 'ana@example.net';
  return [
    'From: Microsoft Outlook <postmaster@mx.receiver.test>',
    `To: ${o.to}`,
    'Subject: Undeliverable: Our news',
    'Message-ID: <ndr.7f3a@mx.receiver.test>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Delivery has failed to these recipients or groups:',
    '',
    `${recipient}`,
    "The email address you entered couldn't be found.",
    '',
    'Diagnostic information for administrators:',
    '',
    'Generating server: mx.receiver.test',
    '',
    recipient,
    `Remote Server returned '${o.reply ?? `550 5.1.1 RESOLVER.ADR.RecipNotFound; not found`}'`,
    '',
    'Original message headers:',
    '',
    'Received: from mail.mc.example (10.4.12.13) by mx.receiver.test (15.20.7.1)',
    'From: news@acme.example',
    `To: ${recipient}`,
    'Subject: Our news',
    ...(o.originalMessageId ? [`Message-ID: <${o.originalMessageId}>`] : []),
    '',
  ].join('\r\n');
}
