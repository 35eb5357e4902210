import { describe, expect, it } from 'vitest';
import { classifyFailure, classifyRefusal, enhancedCodeOf, type BounceClass, type SmtpStage } from '../../src/delivery/bounce-classification.js';

const verdict = (stage: SmtpStage, basic: number | undefined, text?: string, enhanced?: string) => {
  const c = classifyRefusal({ stage, basic, text, enhanced });
  return `${c.class}${c.temporary ? '/retry' : ''}`;
};

describe('bounce classification (RFC 3463)', () => {
  // [stage, basic code, reply text, expected]
  const table: [SmtpStage, number, string, string][] = [
    // 5.1.x bad address: hard, whatever the stage that answered
    ['rcpt', 550, '550 5.1.1 <ana@example.com>: user unknown', 'hard'],
    ['data', 550, '550 5.1.1 user unknown', 'hard'],
    ['rcpt', 550, '550 5.1.2 bad destination system', 'hard'],
    ['data', 553, '553 5.1.3 bad address syntax', 'hard'],
    ['rcpt', 551, '551 5.1.6 mailbox has moved', 'hard'],
    ['rcpt', 556, '556 5.1.10 recipient address has null MX', 'hard'],
    ['dsn', 550, '5.1.0', 'hard'],
    // 5.1.7 / 5.1.8, or any 5.1.x to MAIL FROM: our sender address, not the recipient's
    ['mail', 553, '553 5.1.8 sender domain does not exist', 'failed'],
    ['rcpt', 553, '553 5.1.7 bad sender mailbox syntax', 'failed'],
    ['mail', 550, '550 5.1.0 sender rejected', 'failed'],
    // 5.2.1 mailbox disabled: hard; the rest of 5.2.x: soft, not suppressed
    ['rcpt', 550, '550 5.2.1 mailbox disabled', 'hard'],
    ['data', 552, '552 5.2.2 mailbox full', 'soft'],
    ['data', 552, '552 5.2.3 message too long', 'soft'],
    // 5.3.x system, 5.4.x network and routing: soft
    ['data', 554, '554 5.3.4 message too big for system', 'soft'],
    ['rcpt', 554, '554 5.4.4 unable to route', 'soft'],
    // 5.7.x policy: blocked
    ['data', 554, '554 5.7.1 message rejected as spam', 'blocked'],
    ['rcpt', 550, '550 5.7.1 relaying denied', 'blocked'],
    ['mail', 550, '550 5.7.26 unauthenticated email is not accepted (DMARC)', 'blocked'],
    // 5.5.x protocol, 5.6.x content: permanent, nothing about the address
    ['data', 554, '554 5.6.0 content rejected', 'failed'],
    ['rcpt', 501, '501 5.5.4 syntax error', 'failed'],
    // 4.x.x: soft and retried, any stage
    ['rcpt', 451, '451 4.2.0 try again later', 'soft/retry'],
    ['data', 452, '452 4.3.1 insufficient storage', 'soft/retry'],
    ['rcpt', 421, '421 4.7.0 try again later', 'soft/retry'],
    // The basic code decides whether to retry when the two disagree
    ['data', 450, '450 5.2.2 mailbox full', 'soft/retry'],
    // No enhanced code: 5xx to RCPT TO is a hard bounce, to MAIL FROM / DATA a permanent failure; 4xx soft
    ['rcpt', 550, '550 No such user', 'hard'],
    ['data', 554, '554 Transaction failed', 'failed'],
    ['mail', 552, '552 Too big', 'failed'],
    ['rcpt', 451, '451 Greylisted', 'soft/retry'],
    // 5.0.0 "other": as if there were no enhanced code
    ['rcpt', 550, '550 5.0.0 rejected', 'hard'],
    ['data', 550, '550 5.0.0 rejected', 'failed'],
    // Connection and authentication: our side, retried
    ['auth', 535, '535 5.7.8 authentication credentials invalid', 'transient/retry'],
    ['connection', 421, '421 4.3.2 service shutting down', 'transient/retry'],
  ];

  it.each(table)('%s %s "%s" → %s', (stage, basic, text, expected) => {
    expect(verdict(stage, basic, text)).toBe(expected);
  });

  it('takes the enhanced code given apart (a DSN Status field) over the text', () => {
    expect(verdict('dsn', undefined, 'whatever', '5.1.1')).toBe('hard');
    expect(verdict('dsn', undefined, undefined, '4.4.7')).toBe('soft/retry');
    expect(verdict('dsn', undefined, undefined, '5.7.1')).toBe('blocked');
  });

  it('parses the enhanced code right after the basic code, multi-line replies included', () => {
    expect(enhancedCodeOf('550 5.1.1 user unknown')).toBe('5.1.1');
    expect(enhancedCodeOf('550-5.1.1 The email account does not exist.\r\n550 5.1.1 https://support.google.com')).toBe('5.1.1');
    expect(enhancedCodeOf('556 5.1.10 null MX')).toBe('5.1.10');
    expect(enhancedCodeOf('5.2.2')).toBe('5.2.2');
    expect(enhancedCodeOf('550 user 5.1.1 unknown')).toBeUndefined(); // not where RFC 2034 puts it
    expect(enhancedCodeOf('550 5.1.1.1 is an address')).toBeUndefined();
    expect(enhancedCodeOf('550 No such user')).toBeUndefined();
    expect(enhancedCodeOf(undefined)).toBeUndefined();
  });

  it('classifies Nodemailer errors by command and response; a refused host is permanent', () => {
    const of = (e: Parameters<typeof classifyFailure>[0]): BounceClass => classifyFailure(e).class;
    expect(of({ responseCode: 550, command: 'RCPT TO', response: '550 5.1.1 user unknown' })).toBe('hard');
    expect(of({ responseCode: 550, command: 'DATA', response: '550 5.1.1 user unknown' })).toBe('hard');
    expect(of({ responseCode: 550, command: 'RCPT TO' })).toBe('hard');
    expect(of({ responseCode: 554, command: 'DATA' })).toBe('failed');
    expect(of({ responseCode: 552, command: 'MAIL FROM' })).toBe('failed');
    expect(classifyFailure({ responseCode: 451, command: 'RCPT TO' })).toMatchObject({ class: 'soft', temporary: true });
    expect(classifyFailure({ code: 'ETIMEDOUT' })).toMatchObject({ class: 'transient', temporary: true });
    expect(classifyFailure({ code: 'ECONNREFUSED', command: 'CONN' })).toMatchObject({ class: 'transient', temporary: true });
    expect(classifyFailure({ responseCode: 535, command: 'AUTH PLAIN' })).toMatchObject({ class: 'transient', temporary: true });
    expect(classifyFailure({ code: 'HOST_NOT_ALLOWED', command: 'CONN' })).toMatchObject({ class: 'failed', temporary: false });
  });
});
