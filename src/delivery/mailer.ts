import { createHash } from 'node:crypto';
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
      // Nodemailer resolves when some recipients were refused; there is exactly one here. Its refusal carries the code to classify.
      const refusal = (info as { rejectedErrors?: { responseCode?: number; response?: string }[] }).rejectedErrors?.[0];
      throw Object.assign(new Error(`Recipient rejected: ${refusal?.response ?? info.response}`), {
        responseCode: refusal?.responseCode ?? 550,
        command: 'RCPT TO',
        response: refusal?.response,
      });
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
 *
 * Laid out so that a GDPR erasure finds a person's copies without reading any
 * file: a campaign message is `<campaign id>/<message id>.eml`, recorded in
 * its row as `captured <path>`; test sends are under
 * `test-sends/<testSendFolder(tenant, address)>/`.
 */
export class CaptureMailer implements Mailer {
  private readonly builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  constructor(readonly outboxDir: string) {}

  async send(mail: Mail.Options, file = { folder: 'misc', name: `${Date.now()}` }) {
    const info = (await this.builder.sendMail(mail)) as { messageId: string; message: Buffer };
    const folder = path.join(this.outboxDir, ...file.folder.split('/').map(safeName));
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

  /**
   * The folder of a tenant's test sends to one address: a hash of tenant and
   * address (lower-cased), so erasure finds them by the address alone. The
   * files hold the address in clear anyway; the name adds nothing to learn.
   */
  static testSendFolder(tenantId: string, email: string): string {
    const hash = createHash('sha256').update(`${tenantId}\n${email.toLowerCase()}`).digest('hex').slice(0, 32);
    return `test-sends/${hash}`;
  }

  /**
   * Deletes an erased contact's captured copies: the campaign messages whose
   * rows recorded them (`paths`, as `send` reported them) and every test send
   * to the address. Missing files are fine; any other failure throws, so the
   * caller's erasure can roll back and be retried.
   */
  async erase(tenantId: string, email: string, paths: readonly string[]): Promise<void> {
    const outbox = path.resolve(this.outboxDir);
    for (const relative of paths) {
      const target = path.resolve(outbox, relative);
      if (target.startsWith(outbox + path.sep)) await fs.rm(target, { force: true });
    }
    await fs.rm(path.join(outbox, CaptureMailer.testSendFolder(tenantId, email)), { recursive: true, force: true });
  }

  close() {}
}

/** A file or folder name of safe characters; never `.` or `..`. */
const safeName = (name: string) => {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return /^\.*$/.test(safe) ? `_${safe}` : safe;
};
