import type { TransportRegistry } from '../delivery/transports.js';

/**
 * The invitation email, sent by the server's own transport (SMTP_URL, or
 * captured as `DATA_DIR/outbox/invitations/<id>.eml` when there is none),
 * From MAIL_FROM. Plain text with the link alone on its line.
 */
export class InvitationMail {
  constructor(private readonly transports: Pick<TransportRegistry, 'route' | 'publicUrl'>) {}

  linkFor(token: string): string {
    return `${this.transports.publicUrl.replace(/\/+$/, '')}/invite?token=${token}`;
  }

  async send(input: { invitationId: string; to: string; tenantName: string; role: string; invitedBy: string | null; token: string; expiresAt: string }) {
    const route = this.transports.route(undefined, false, 'transactional');
    const from = route.sender.fromName ? { name: route.sender.fromName, address: route.sender.fromEmail } : route.sender.fromEmail;
    const who = input.invitedBy ?? 'An administrator';
    const text = [
      `${who} invited you to ${input.tenantName} on MailingCore as ${input.role}.`,
      '',
      'Open this link to accept and choose your password:',
      '',
      this.linkFor(input.token),
      '',
      `The link works once, until ${input.expiresAt}.`,
      'If you did not expect this invitation, ignore this email.',
    ].join('\n');
    return route.mailer.send(
      { from, to: input.to, subject: `Invitation to ${input.tenantName} on MailingCore`.replace(/[\r\n]+/g, ' '), text },
      { folder: 'invitations', name: input.invitationId },
    );
  }
}
