import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { describe, expect, it } from 'vitest';
import { composeEmail, listIdLabel, phrase, type ListIdentity } from '../../src/delivery/compose.js';

const build = (mail: Mail.Options) =>
  new Promise<string>((resolve, reject) => new MailComposer(mail).compile().build((err, raw) => (err ? reject(err) : resolve(raw.toString()))));

const headerBlock = (raw: string) => raw.slice(0, raw.indexOf('\r\n\r\n'));
const headerValue = (raw: string, name: string) => {
  const match = new RegExp(`^${name}: (.*(?:\\r\\n[ \\t].*)*)`, 'im').exec(headerBlock(raw));
  return match?.[1];
};

const tenantId = '0190f0a0-0000-7000-8000-000000000001';
const campaignId = '0190f0a0-0000-7000-8000-000000000002';
const list = (overrides: Partial<ListIdentity> = {}): ListIdentity => ({
  tenantId,
  campaignId,
  campaignName: 'Spring sale',
  senderId: 'default',
  stream: 'campaign',
  ...overrides,
});

const mailWith = (identity: ListIdentity | undefined) =>
  composeEmail({
    messageKey: 'k.1',
    to: 'ann@example.org',
    sender: { fromEmail: 'news@Shop.Example.com', fromName: 'Shop', replyTo: null },
    rendered: { subject: 'Hi', html: '<p>Hi</p>', text: 'Hi' },
    unsubscribeUrl: 'https://mc.example/u/tok',
    ...(identity ? { list: identity } : {}),
  });

describe('bulk-sender headers', () => {
  it('adds List-Id, Feedback-ID and Precedence beside the one-click unsubscribe headers', async () => {
    const raw = await build(mailWith(list({ senderId: '0190f0a0-0000-7000-8000-000000000003' })));
    expect(headerValue(raw, 'List-Id')).toBe(`"Spring sale" <t-${tenantId}.shop.example.com>`);
    expect(headerValue(raw, 'Feedback-ID')).toBe(`${campaignId}:${tenantId}:campaign:0190f0a0-0000-7000-8000-000000000003`);
    expect(headerValue(raw, 'Precedence')).toBe('bulk');
    expect(headerValue(raw, 'List-Unsubscribe')).toBe('<https://mc.example/u/tok>');
    expect(headerValue(raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
  });

  it('keeps one list id per tenant and From domain, whatever the campaign', () => {
    expect(listIdLabel(tenantId, 'Shop.Example.com')).toBe(`t-${tenantId}.shop.example.com`);
    const a = mailWith(list({ campaignName: 'A' })).headers as Record<string, { value: string }>;
    const b = mailWith(list({ campaignName: 'B', campaignId: '0190f0a0-0000-7000-8000-000000000009' })).headers as Record<string, { value: string }>;
    expect(a['List-Id']!.value.replace(/^".*" /, '')).toBe(b['List-Id']!.value.replace(/^".*" /, ''));
  });

  it('lists the id alone when the campaign has no name, and a test send is its own stream', async () => {
    const raw = await build(mailWith(list({ campaignName: null, stream: 'test' })));
    expect(headerValue(raw, 'List-Id')).toBe(`<t-${tenantId}.shop.example.com>`);
    expect(headerValue(raw, 'Feedback-ID')).toBe(`${campaignId}:${tenantId}:test:default`);
  });

  it('cannot be used to inject a header: CR/LF dropped, quotes escaped', async () => {
    const raw = await build(mailWith(list({ campaignName: 'Sale"\r\nBcc: victim@example.org\r\nX-Evil: "1' })));
    expect(headerBlock(raw)).not.toMatch(/^Bcc:/im);
    expect(headerBlock(raw)).not.toMatch(/^X-Evil:/im);
    expect(headerValue(raw, 'List-Id')).toBe(`"Sale\\" Bcc: victim@example.org X-Evil: \\"1" <t-${tenantId}.shop.example.com>`);
  });

  it('encodes a non-ASCII name as RFC 2047 words, folded, never a bare line break', async () => {
    const name = 'Café Ñandú — オータムセール 2026 お得なお知らせ';
    const raw = await build(mailWith(list({ campaignName: name })));
    const value = headerValue(raw, 'List-Id')!;
    expect(value).toMatch(/^=\?UTF-8\?B\?/);
    for (const line of headerBlock(raw).split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
    const decoded = value
      .split(/\r\n /)
      .map((w) => /^=\?UTF-8\?B\?([^?]*)\?=/.exec(w)?.[1])
      .filter((w): w is string => !!w)
      .map((b64) => Buffer.from(b64, 'base64').toString())
      .join('');
    expect(decoded).toBe(name);
    expect(phrase('a\u0000b')).toBe('"a b"');
  });
});
