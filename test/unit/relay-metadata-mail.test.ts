import { afterAll, describe, expect, it } from 'vitest';
import { bounceKey, verifyBounceToken } from '../../src/delivery/bounce-address.js';
import { CampaignMailBuilder, type CampaignMailInput } from '../../src/delivery/campaign-mail.js';
import { TemplateRenderer } from '../../src/templates/render.js';

const SECRET = 'unit-test-secret-relay-metadata';
const TENANT = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const renderer = new TemplateRenderer({ threads: 1 });
afterAll(() => renderer.close());

const builder = new CampaignMailBuilder({ renderer, secret: SECRET, publicUrl: 'https://mc.example', bounceDomain: 'bounces.mc.example' });
const input = (extra: Partial<CampaignMailInput>): CampaignMailInput => ({
  tenantId: TENANT,
  campaign: { id: '0190a1b2-c3d4-7e5f-8a9b-000000000001', subject: null, name: 'News' },
  version: { id: 'v1', subject: 'Hello', htmlBody: '<p>Hi</p>', textBody: null },
  recipient: { email: 'ana@example.net', contact: { id: '0190a1b2-c3d4-7e5f-8a9b-000000000002', locale: null, externalId: null, attributes: {} } },
  sender: { fromEmail: 'news@acme.example', fromName: null, replyTo: null },
  messageKey: '0190a1b2-c3d4-7e5f-8a9b-000000000001.42',
  messageId: 42,
  ...extra,
});
const headersOf = async (extra: Partial<CampaignMailInput>) => (await builder.build(input(extra))).headers as Record<string, unknown>;

describe('the message builder names the message to a hosted relay', () => {
  it('Postmark: X-PM-Metadata-mc-token, the same signed token as the return path', async () => {
    const headers = await headersOf({ relayHost: 'smtp.postmarkapp.com' });
    const token = headers['X-PM-Metadata-mc-token'] as string;
    expect(verifyBounceToken(bounceKey(SECRET), token)).toEqual({ tenantId: TENANT, messageId: 42 });
    expect(headers['X-Mailgun-Variables']).toBeUndefined();
    expect(headers['List-Unsubscribe']).toBeDefined(); // the builder's own headers stay
  });

  it('Mailgun: X-Mailgun-Variables {"mc_token": …}', async () => {
    const headers = await headersOf({ relayHost: 'smtp.eu.mailgun.org' });
    const variables = JSON.parse(headers['X-Mailgun-Variables'] as string) as { mc_token: string };
    expect(verifyBounceToken(bounceKey(SECRET), variables.mc_token)).toEqual({ tenantId: TENANT, messageId: 42 });
  });

  it('any other host, the default transport, and test sends: no relay header', async () => {
    for (const extra of [{ relayHost: 'smtp.example.com' }, { relayHost: null }, {}, { relayHost: 'smtp.postmarkapp.com', test: true }]) {
      const headers = await headersOf(extra);
      expect(Object.keys(headers).filter((h) => /^x-(pm|mailgun)-/i.test(h)), JSON.stringify(extra)).toEqual([]);
    }
  });
});
