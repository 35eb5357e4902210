import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type { SmtpTransport } from '../net/smtp-transport.js';

/** What delivery needs from a transport: send one email, say what the server answered. */
export interface Mailer {
  send(mail: Mail.Options, file?: { folder: string; name: string }): Promise<{ messageId: string; response: string }>;
  close(): void;
}

export class SmtpMailer implements Mailer {
  constructor(private readonly transport: SmtpTransport) {}

  async send(mail: Mail.Options) {
    const info = await this.transport.sendMail(mail);
    if (info.rejected.length > 0) {
      // Nodemailer resolves when some recipients were refused; there is exactly one here.
      throw Object.assign(new Error(`Recipient rejected: ${info.response}`), { responseCode: 550, command: 'RCPT TO' });
    }
    return { messageId: info.messageId, response: info.response };
  }

  close() {
    this.transport.close();
  }
}

/**
 * The embedded default when there is no SMTP server: each email is built
 * exactly as it would be sent and written as an .eml file under
 * DATA_DIR/outbox, so a newcomer can read what would have gone out. Test-mode
 * keys always send here.
 */
export class CaptureMailer implements Mailer {
  private readonly builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  constructor(readonly outboxDir: string) {}

  async send(mail: Mail.Options, file = { folder: 'misc', name: `${Date.now()}` }) {
    const info = (await this.builder.sendMail(mail)) as { messageId: string; message: Buffer };
    const folder = path.join(this.outboxDir, safeName(file.folder));
    await fs.mkdir(folder, { recursive: true });
    const target = path.join(folder, `${safeName(file.name)}.eml`);
    await fs.writeFile(target, info.message);
    return { messageId: info.messageId, response: `captured ${path.relative(this.outboxDir, target)}` };
  }

  /** Reads a captured email back by the path `send` reported, never outside the outbox. */
  async read(relativePath: string): Promise<Buffer> {
    const target = path.resolve(this.outboxDir, relativePath);
    if (!target.startsWith(path.resolve(this.outboxDir) + path.sep)) throw new Error('path outside the outbox');
    return fs.readFile(target);
  }

  close() {}
}

const safeName = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, '_');
