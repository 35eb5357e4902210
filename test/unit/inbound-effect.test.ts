import { describe, expect, it } from 'vitest';
import { effectOf, plainEffectOf } from '../../src/inbound/inbound-report.service.js';
import type { DsnRecipient } from '../../src/inbound/report-parser.js';

const dsn = (recipient: Partial<DsnRecipient>) => ({
  kind: 'dsn' as const,
  recipient: { action: 'failed', status: null, diagnostic: null, finalRecipient: 'a@b.test', originalRecipient: null, ...recipient },
  originalMessageId: null,
});

describe('effectOf: what a report does to the address (classifyRefusal, stage dsn)', () => {
  it.each([
    [{ status: '5.1.1' }, { kind: 'bounce', action: 'hard' }],
    [{ status: '5.2.1' }, { kind: 'bounce', action: 'hard' }],
    [{ status: '5.2.2' }, { kind: 'bounce', action: 'soft' }],
    [{ status: '5.4.7' }, { kind: 'bounce', action: 'soft' }],
    [{ status: '4.2.2', action: 'delayed' }, { kind: 'delayed', action: 'soft' }],
    [{ status: '5.1.1', action: 'delayed' }, { kind: 'delayed', action: 'soft' }],
    [{ status: null, diagnostic: 'smtp; 550 5.1.1 user unknown' }, { kind: 'bounce', action: 'hard' }],
    [{ status: null, diagnostic: null }, { kind: 'bounce', action: 'hard' }],
    [{ status: null, diagnostic: null, action: 'delayed' }, { kind: 'delayed', action: 'soft' }],
  ])('%j → %j', (recipient, expected) => {
    expect(effectOf(dsn(recipient))).toMatchObject(expected);
  });

  it('policy and content refusals are not the address’s fault: no effect, kept', () => {
    expect(effectOf(dsn({ status: '5.7.1' }))).toMatchObject({ kind: null, reason: expect.stringContaining('blocked') });
    expect(effectOf(dsn({ status: '5.6.0' }))).toMatchObject({ kind: null });
  });

  it('complaints and unrecognised reports', () => {
    expect(effectOf({ kind: 'complaint', feedbackType: 'abuse', originalRecipient: null, originalMessageId: null })).toEqual({ kind: 'complaint', action: 'complaint', diagnostic: null });
    expect(effectOf({ kind: 'unrecognised', reason: 'not a multipart/report', originalMessageId: null })).toEqual({ kind: null, reason: 'not a multipart/report' });
  });
});

describe('plainEffectOf: a plain-text bounce classified like a DSN', () => {
  it.each([
    [{ basic: 550, enhanced: '5.1.1', text: '550 5.1.1 not found' }, { kind: 'bounce', action: 'hard', diagnostic: '550 5.1.1 not found' }],
    [{ enhanced: '5.2.2', text: '5.2.2 mailbox full' }, { kind: 'bounce', action: 'soft' }],
    [{ basic: 452, enhanced: '4.2.2', text: '452 4.2.2 over quota' }, { kind: 'bounce', action: 'soft' }],
    [{ basic: 554, text: '554 delivery error: dd no account' }, { kind: 'bounce', action: 'hard' }],
    [{ basic: 550, enhanced: '5.7.1', text: '550 5.7.1 spam' }, { kind: null }],
  ])('%j → %j', (refusal, expected) => {
    expect(plainEffectOf(refusal)).toMatchObject(expected);
  });
});
