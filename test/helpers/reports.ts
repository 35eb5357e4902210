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
