import { describe, expect, it } from 'vitest';
import { parseReport } from '../../src/inbound/report-parser.js';
import { arf, dsn } from '../helpers/reports.js';

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
