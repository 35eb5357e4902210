import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { describe, expect, it } from 'vitest';
import { composeEmail, normaliseLineEndings } from '../../src/delivery/compose.js';

/**
 * composeEmail tells Nodemailer each body part's transfer encoding (to spare
 * it a costly scan); the bytes must be exactly those Nodemailer would have
 * produced deciding by itself.
 */
// A fixed boundary and date (baseBoundary is a MimeNode option the Options type leaves out), so two builds compare byte for byte.
const build = (mail: Mail.Options) =>
  new Promise<string>((resolve, reject) =>
    new MailComposer({ ...mail, baseBoundary: 'fixed', date: new Date('2026-01-01T00:00:00Z') } as Mail.Options)
      .compile()
      .build((err, raw) => (err ? reject(err) : resolve(raw.toString()))),
  );

const line = (n: number, ch = 'a') => ch.repeat(n);
const samples: Record<string, string> = {
  'short ASCII lines': 'Hello Ann,\nsee you soon.\n',
  'a 76-character line': line(76),
  'a 77-character line': line(77),
  '76 characters before CRLF': `${line(76)}\r\n${line(10)}`,
  '77 characters before CR': `${line(77)}\r${line(10)}`,
  'a line ended by U+2028': `${line(76)}\u2028${line(76)}`,
  'Latin with accents': '<p>¡Hola Lola! Él está aquí: ñandú, café, über.</p>',
  'mostly non-Latin': '<p>Привет, Мария! Ваша подписка активна. こんにちは 你好</p>',
  'equal Latin and non-ASCII': 'ab\u00e9\u00e9',
  'control characters': `Hello\u0001\u0002\u0003 world\t\n`,
  'emoji (surrogate pairs)': 'Hi 🎉🎉🎉🎉🎉🎉🎉🎉 ok',
  empty: '',
  'long HTML': `<table>${'<tr><td style="padding:4px;font-family:Arial">Cell content with some words</td></tr>'.repeat(60)}</table>`,
  'over 128 kB': `${'word '.repeat(27_000)}`,
  'over 128 kB with accents': `${'café '.repeat(27_000)}`,
};

describe('composeEmail transfer encodings', () => {
  for (const [name, body] of Object.entries(samples)) {
    it(`produces Nodemailer's own bytes: ${name}`, async () => {
      const mail = composeEmail({
        messageKey: 'c.1',
        to: 'ann@example.com',
        sender: { fromEmail: 'news@acme.example', fromName: 'Acme', replyTo: null },
        rendered: { subject: 'Subject', html: body, text: body },
        unsubscribeUrl: 'https://mail.acme.example/u/token',
      });
      // Line endings are normalised to CRLF first (a bare CR or LF never reaches a 7bit part); the encoding is Nodemailer's own choice.
      const normalised = normaliseLineEndings(body);
      const plain = { ...mail, html: normalised, text: normalised };
      expect(await build(mail)).toBe(await build(plain));
    });
  }
});

describe('composeEmail line endings', () => {
  it('never lets a bare CR or LF from rendered text reach the raw bytes of a 7bit part', async () => {
    const hostile = 'Hi Ann\rINJECTED: yes\r\n.\r\nMAIL FROM:<x@evil.test>\nline\n\rend';
    const mail = composeEmail({
      messageKey: 'c.1',
      to: 'ann@example.com',
      sender: { fromEmail: 'news@acme.example', fromName: 'Acme', replyTo: null },
      rendered: { subject: 'Sub\rject\nline', html: `<p>${hostile}</p>`, text: hostile },
      unsubscribeUrl: 'https://mail.acme.example/u/token',
    });
    const raw = await build(mail);
    expect(raw).toContain('Content-Transfer-Encoding: 7bit');
    expect(raw).not.toMatch(/\r(?!\n)/); // no bare CR
    expect(raw).not.toMatch(/(?<!\r)\n/); // no bare LF
    expect(raw).toContain('Hi Ann\r\nINJECTED: yes\r\n.\r\nMAIL FROM:<x@evil.test>\r\nline\r\n\r\nend');
    expect(raw).toContain('Subject: Sub ject line');
  });
});
