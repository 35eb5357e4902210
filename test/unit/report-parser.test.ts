import { describe, expect, it } from 'vitest';
import { parseReport, plainBounceOf } from '../../src/inbound/report-parser.js';
import { arf, dsn, plainBounce } from '../helpers/reports.js';

const TO = 'bounces+abc@bounces.test';
const parse = (text: string | Buffer) => parseReport(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'));

describe('parseReport', () => {
  it('reads a DSN: action, status, folded diagnostic, recipients, the original Message-ID', () => {
    expect(parse(dsn({ to: TO, finalRecipient: 'Ada@Example.com', originalMessageId: 'camp.42@acme.test' }))).toEqual({
      kind: 'dsn',
      recipient: {
        action: 'failed',
        status: '5.1.1',
        diagnostic: '550 5.1.1 <Ada@Example.com>: Recipient address rejected: User unknown in virtual mailbox table',
        finalRecipient: 'ada@example.com',
        originalRecipient: 'ada@example.com',
      },
      originalMessageId: 'camp.42@acme.test',
    });
  });

  it('reads a delayed DSN, and LF-only line endings', () => {
    const report = parse(dsn({ to: TO, finalRecipient: 'bo@example.com', action: 'delayed', status: '4.2.2', diagnostic: '452 4.2.2 Mailbox full' }).replace(/\r\n/g, '\n'));
    expect(report).toMatchObject({ kind: 'dsn', recipient: { action: 'delayed', status: '4.2.2', diagnostic: expect.stringMatching(/^452 4\.2\.2 Mailbox full /) } });
  });

  it('ignores DSNs that report no trouble (delivered, relayed)', () => {
    expect(parse(dsn({ to: TO, finalRecipient: 'cy@example.com', action: 'delivered', status: '2.0.0' }))).toMatchObject({ kind: 'unrecognised' });
  });

  it('reads an ARF abuse complaint; other feedback types are not complaints', () => {
    expect(parse(arf({ to: TO, originalRecipient: '<dee@example.com>', originalMessageId: 'camp.7@acme.test' }))).toEqual({
      kind: 'complaint',
      feedbackType: 'abuse',
      originalRecipient: 'dee@example.com',
      originalMessageId: 'camp.7@acme.test',
    });
    expect(parse(arf({ to: TO, originalRecipient: 'dee@example.com', feedbackType: 'not-spam' }))).toMatchObject({ kind: 'unrecognised', reason: 'feedback report of type not-spam' });
  });

  it('finds a report nested in a forward (multipart/mixed → message/rfc822 → multipart/report)', () => {
    const inner = dsn({ to: TO, finalRecipient: 'eve@example.com', boundary: 'inner' });
    const outer = ['From: admin@relay.test', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=outer', '', '--outer', 'Content-Type: text/plain', '', 'Forwarded bounce', '--outer', 'Content-Type: message/rfc822', '', inner, '--outer--', ''].join('\r\n');
    expect(parse(outer)).toMatchObject({ kind: 'dsn', recipient: { finalRecipient: 'eve@example.com', status: '5.1.1' } });
  });

  it('decodes base64 and quoted-printable parts, and odd charsets', () => {
    const fields = 'Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; fay@example.com\r\nAction: failed\r\nStatus: 5.2.1\r\nDiagnostic-Code: smtp; 550 5.2.1 Compte désactivé\r\n';
    const encoded = Buffer.from(fields, 'latin1').toString('base64').replace(/(.{76})/g, '$1\r\n');
    const message = ['MIME-Version: 1.0', 'Content-Type: multipart/report; report-type="delivery-status"; boundary="x"', '', '--x', 'Content-Type: message/delivery-status; charset=iso-8859-1', 'Content-Transfer-Encoding: base64', '', encoded, '--x--', ''].join('\r\n');
    expect(parse(message)).toMatchObject({ kind: 'dsn', recipient: { status: '5.2.1', diagnostic: '550 5.2.1 Compte désactivé' } });
    const qp = message.replace('Content-Transfer-Encoding: base64', 'Content-Transfer-Encoding: quoted-printable').replace(encoded, fields.replace('é', '=E9').replace('é', '=E9'));
    expect(parse(qp)).toMatchObject({ kind: 'dsn', recipient: { diagnostic: '550 5.2.1 Compte désactivé' } });
    const unknownCharset = message.replace('charset=iso-8859-1', 'charset=x-no-such-charset');
    expect(parse(unknownCharset)).toMatchObject({ kind: 'dsn', recipient: { status: '5.2.1' } });
  });

  it('survives truncation: no closing boundary, a cut-off field block, or no body at all', () => {
    const full = dsn({ to: TO, finalRecipient: 'gus@example.com' });
    const cutAfterStatus = full.slice(0, full.indexOf('Status: 5.1.1') + 'Status: 5.1.1'.length);
    expect(parse(cutAfterStatus)).toMatchObject({ kind: 'dsn', recipient: { action: 'failed', status: '5.1.1', diagnostic: null } });
    expect(parse(full.slice(0, full.indexOf('Final-Recipient')))).toMatchObject({ kind: 'unrecognised' });
    expect(parse(full.slice(0, 40))).toMatchObject({ kind: 'unrecognised' });
    expect(parse('')).toMatchObject({ kind: 'unrecognised' });
    expect(parse(Buffer.from([0, 1, 2, 255, 254, 10, 10, 0]))).toMatchObject({ kind: 'unrecognised' });
  });

  it('stays bounded on enormous and deeply nested input', () => {
    const huge = dsn({ to: TO, finalRecipient: 'hal@example.com', diagnostic: `550 5.1.1 ${'x'.repeat(900_000)}` });
    const report = parse(huge);
    expect(report).toMatchObject({ kind: 'dsn', recipient: { status: '5.1.1' } });
    if (report.kind === 'dsn') expect(report.recipient.diagnostic!.length).toBeLessThanOrEqual(1000);
    let nested = dsn({ to: TO, finalRecipient: 'ivy@example.com', boundary: 'b0' });
    for (let i = 1; i <= 40; i++) nested = [`Content-Type: multipart/mixed; boundary=b${i}x`, '', `--b${i}x`, nested, `--b${i}x--`, ''].join('\r\n');
    expect(parse(nested)).toMatchObject({ kind: 'unrecognised' });
    const manyParts = ['Content-Type: multipart/mixed; boundary=m', '', ...Array.from({ length: 10_000 }, () => '--m\r\n\r\nx'), '--m--'].join('\r\n');
    expect(parse(manyParts)).toMatchObject({ kind: 'unrecognised' });
  });

  it('a plain-text bounce is unrecognised', () => {
    expect(parse('From: postmaster@x.test\r\nSubject: failure\r\n\r\nYour message could not be delivered.\r\n')).toEqual({ kind: 'unrecognised', reason: 'not a multipart/report', originalMessageId: null });
  });
});

describe('plainBounceOf (bounces without DSN structure)', () => {
  const CAMPAIGN = '0b9f3c4e-5d6a-4b7c-8d9e-0f1a2b3c4d5e';
  const plain = (text: string, messageId = 42) => plainBounceOf(Buffer.from(text, 'utf8'), messageId);

  it("attributes an Exchange-like body quoting the token's message and a reply", () => {
    expect(plain(plainBounce({ to: TO, originalMessageId: `${CAMPAIGN}.42@acme.example` }))).toEqual({
      kind: 'plain',
      campaignId: CAMPAIGN,
      messageId: 42,
      refusal: { basic: 550, enhanced: '5.1.1', text: "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'" },
    });
  });

  it('reads an enhanced code alone, or a bare reply code at the start of a line (Yahoo)', () => {
    expect(plain(plainBounce({ to: TO, originalMessageId: `${CAMPAIGN}.42@a.test`, reply: 'status #5.2.2 mailbox full' }))).toMatchObject({ refusal: { enhanced: '5.2.2' } });
    const yahoo = `From: MAILER-DAEMON@yahoo.test\r\n\r\nSorry, we were unable to deliver your message.\r\n\r\n554 delivery error: dd This user doesn't have an account\r\n\r\n--- Below this line is a copy of the message.\r\n\r\nMessage-ID: <${CAMPAIGN}.42@a.test>\r\n`;
    expect(plain(yahoo)).toMatchObject({ kind: 'plain', refusal: { basic: 554, text: "554 delivery error: dd This user doesn't have an account" } });
  });

  it('finds the Message-ID in a returned message/rfc822 part, and a status in an HTML part, never in the returned original', () => {
    const mime = (status: string) =>
      [
        'From: postmaster@x.test',
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        '--b',
        'Content-Type: text/html; charset=utf-8',
        '',
        `<p>Delivery failed.</p><p>${status}</p>`,
        '--b',
        'Content-Type: message/rfc822',
        '',
        `Message-ID: <${CAMPAIGN}.42@a.test>`,
        'Subject: Our news',
        '',
        'Our offer: save 5.1.1 percent, call 550 1234',
        '--b--',
        '',
      ].join('\r\n');
    expect(plain(mime('550 5.1.1 user unknown'))).toMatchObject({ kind: 'plain', refusal: { basic: 550, enhanced: '5.1.1' } });
    expect(plain(mime('it did not work'))).toEqual({ kind: 'unattributed', reason: 'no DSN structure and no SMTP status in the text' });
  });

  it('never trusts a Message-ID of another message, and needs one of ours', () => {
    expect(plain(plainBounce({ to: TO, originalMessageId: `${CAMPAIGN}.43@acme.example` }))).toMatchObject({ kind: 'unattributed', reason: expect.stringMatching(/another message/) });
    const both = plainBounce({ to: TO, originalMessageId: `${CAMPAIGN}.42@acme.example` }) + `Message-ID: <${CAMPAIGN}.99@acme.example>\r\n`;
    expect(plain(both)).toMatchObject({ kind: 'unattributed', reason: expect.stringMatching(/another message/) });
    expect(plain(plainBounce({ to: TO, originalMessageId: 'CAFE123@mail.gmail.test' }))).toMatchObject({ kind: 'unattributed', reason: expect.stringMatching(/no Message-ID of ours/) });
    expect(plain(plainBounce({ to: TO }))).toMatchObject({ kind: 'unattributed', reason: expect.stringMatching(/no Message-ID of ours/) });
    // The bounce's own Message-ID header is not a quote of the original.
    expect(plain(`Message-ID: <${CAMPAIGN}.42@a.test>\r\n\r\n550 5.1.1 user unknown\r\n`)).toMatchObject({ kind: 'unattributed' });
  });

  it('does not read an IP address or a version number as a status', () => {
    const text = `From: p@x.test\r\n\r\nfailed, host 4.12.13.14 version 15.1.2 said nothing\r\nMessage-ID: <${CAMPAIGN}.42@a.test>\r\n`;
    expect(plain(text)).toMatchObject({ kind: 'unattributed', reason: expect.stringMatching(/no SMTP status/) });
  });
});
