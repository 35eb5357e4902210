import { promises as dnsPromises } from 'node:dns';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CaptureMailer } from '../../src/delivery/mailer.js';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestTenant } from '../helpers/app.js';
import { TestDnsServer } from '../helpers/dns-server.js';
import { addContacts, createCampaign, deliverAll, publishedTemplate, waitForFanOut } from '../helpers/flow.js';

const NAME = 'signed.example';
/** BOUNCE_MX_HOST: the inbound listener's host, which the return path's MX must name. */
const MX_HOST = 'inbound.mc.test';

interface DomainView {
  id: string;
  name: string;
  status: string;
  selector: string;
  nextSelector: string | null;
  records: { purpose: string; type: string; host: string; value: string; status: string }[];
}

describe.each(DIALECTS)('sending domains (%s)', (dialect) => {
  const dns = new TestDnsServer();
  const dnsOptions = { servers: [] as string[], timeoutMs: 600 };
  let outboxDir = '';
  beforeAll(async () => {
    dnsOptions.servers.push(await dns.start());
    outboxDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mc-domains-'));
    delivery.outboxDir = outboxDir;
  });
  afterAll(async () => {
    await dns.close();
    await fs.rm(outboxDir, { recursive: true, force: true });
  });
  beforeEach(() => dns.reset());
  // Campaigns without a project send From MAIL_FROM: on the domain under test.
  const delivery = { mailFrom: `Signed News <news@${NAME}>`, outboxDir: '' };
  const ctx = useTestApp(dialect, { dns: dnsOptions, delivery, bounceMxHost: MX_HOST });

  const addDomain = async (tenant: TestTenant, name = NAME) => {
    const res = await ctx.request('POST', '/domains', { tenant, body: { name } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as DomainView;
  };
  const record = (domain: DomainView, purpose: string) => domain.records.find((r) => r.purpose === purpose)!;
  /** Publishes every record the domain asks for, as a tenant would. */
  const publish = (domain: DomainView) => {
    for (const r of domain.records) {
      if (r.type === 'TXT') dns.txt(r.host, r.value);
      else {
        const [priority, exchange] = r.value.split(' ');
        dns.mx(r.host, { exchange: exchange!, priority: Number(priority) });
      }
    }
  };
  const verify = async (tenant: TestTenant, id: string) => {
    const res = await ctx.request('POST', `/domains/${id}/verify`, { tenant });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Record<string, string | null> & { domain: DomainView };
  };

  it('creates a domain with a DKIM key and the records to publish; the private key is sealed, never answered', async () => {
    const tenant = await ctx.newTenant();
    const domain = await addDomain(tenant, 'Signed.Example.');
    expect(domain).toMatchObject({ name: NAME, status: 'PENDING', selector: 'mc1', nextSelector: null });
    expect(domain.records.map((r) => [r.purpose, r.type, r.host, r.status])).toEqual([
      ['dkim', 'TXT', `mc1._domainkey.${NAME}`, 'PENDING'],
      ['spf', 'TXT', NAME, 'PENDING'],
      ['dmarc', 'TXT', `_dmarc.${NAME}`, 'PENDING'],
      ['returnPath', 'MX', `bounces.${NAME}`, 'PENDING'],
      ['returnPathSpf', 'TXT', `bounces.${NAME}`, 'PENDING'],
    ]);
    expect(record(domain, 'returnPath').value).toBe(`10 ${MX_HOST}`);
    expect(record(domain, 'returnPathSpf').value).toBe(`v=spf1 include:${NAME} ~all`);
    expect(record(domain, 'dkim').value).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);
    expect(record(domain, 'dmarc').value).toMatch(/^v=DMARC1; p=none/);
    const row = await ctx.container.database.db.selectFrom('sending_domains').selectAll().where('id', '=', domain.id).executeTakeFirstOrThrow();
    expect(row.dkim_private_key_encrypted).toMatch(/^v1\./);
    expect(row.dkim_private_key_encrypted).not.toContain('PRIVATE');
    for (const res of [
      await ctx.request('GET', `/domains/${domain.id}`, { tenant }),
      await ctx.request('GET', '/domains', { tenant }),
      await ctx.request('POST', `/domains/${domain.id}/verify`, { tenant }),
    ]) {
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toMatch(/PRIVATE KEY|dkim_private|v1\./);
    }
    const list = (await ctx.request('GET', '/domains', { tenant })).json() as { data: DomainView[] };
    expect(list.data.map((d) => d.name)).toEqual([NAME]);
  });

  it('refuses bad names, public suffixes and duplicates with the error shape; IDNs are stored as punycode', async () => {
    const tenant = await ctx.newTenant();
    const idn = await addDomain(tenant, 'Bücher.example');
    expect(idn.name).toBe('xn--bcher-kva.example');
    await addDomain(tenant);
    const duplicate = await ctx.request('POST', '/domains', { tenant, body: { name: 'SIGNED.example' } });
    expect(duplicate.statusCode).toBe(409);
    expect(errorBody(duplicate).code).toBe('DOMAIN_EXISTS');
    for (const [name, code] of [
      ['co.uk', 'PUBLIC_SUFFIX'],
      ['github.io', 'PUBLIC_SUFFIX'],
      ['com', 'INVALID_DOMAIN'],
      ['not a domain', 'INVALID_DOMAIN'],
      ['1.2.3.4', 'INVALID_DOMAIN'],
      ['-bad-.example', 'INVALID_DOMAIN'],
      ['a..example', 'INVALID_DOMAIN'],
    ] as const) {
      const res = await ctx.request('POST', '/domains', { tenant, body: { name } });
      expect(res.statusCode, name).toBe(422);
      expect(errorBody(res).code, name).toBe(code);
    }
    expect((await addDomain(tenant, 'me.github.io')).name).toBe('me.github.io');
    for (const body of [{}, { name: '' }, { name: NAME, extra: 1 }, { name: 42 }, { name: 'x.example', selector: 'Bad_Selector' }]) {
      const res = await ctx.request('POST', '/domains', { tenant, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      errorBody(res);
    }
    expect((await ctx.request('GET', '/domains/not-an-id', { tenant })).statusCode).toBe(404);
  });

  it('verify follows DNS: all published → VERIFIED; then each record broken in turn', async () => {
    const tenant = await ctx.newTenant();
    const domain = await addDomain(tenant);

    const none = await verify(tenant, domain.id);
    expect(none).toMatchObject({ status: 'PENDING', spfStatus: 'PENDING', dkimStatus: 'PENDING', dmarcStatus: 'PENDING', returnPathStatus: 'PENDING', returnPathSpfStatus: 'PENDING' });
    expect(none.dkimReason).toContain('DKIM record missing');

    publish(domain);
    const ok = await verify(tenant, domain.id);
    expect(ok).toMatchObject({ status: 'VERIFIED', spfStatus: 'VALID', dkimStatus: 'VALID', dmarcStatus: 'VALID', returnPathStatus: 'VALID', returnPathSpfStatus: 'VALID' });
    expect([ok.spfReason, ok.dkimReason, ok.dmarcReason, ok.returnPathReason, ok.returnPathSpfReason]).toEqual([null, null, null, null, null]);
    expect(ok.domain.records.every((r) => r.status === 'VALID')).toBe(true);

    dns.remove(`mc1._domainkey.${NAME}`);
    const missing = await verify(tenant, domain.id);
    expect(missing).toMatchObject({ status: 'PENDING', dkimStatus: 'PENDING' });
    expect(missing.dkimReason).toContain('DKIM record missing');

    const other = await addDomain(await ctx.newTenant());
    dns.txt(`mc1._domainkey.${NAME}`, record(other, 'dkim').value);
    const wrongKey = await verify(tenant, domain.id);
    expect(wrongKey).toMatchObject({ status: 'FAILED', dkimStatus: 'FAILED' });
    expect(wrongKey.dkimReason).toContain('DKIM key mismatch');
    publish(domain);

    dns.txt(NAME, 'v=spf1 mx ~all', 'v=spf1 include:_spf.other.example -all');
    const twoSpf = await verify(tenant, domain.id);
    expect(twoSpf).toMatchObject({ spfStatus: 'FAILED', dkimStatus: 'VALID', returnPathStatus: 'VALID', status: 'VERIFIED' });
    expect(twoSpf.spfReason).toContain('several SPF records');
    dns.txt(NAME, 'v=spf1 +all');
    expect((await verify(tenant, domain.id)).spfReason).toContain('lets anyone send');
    dns.txt(NAME, 'v=spf1 mx ~all');

    dns.txt(`_dmarc.${NAME}`, 'v=DMARC1; rua=mailto:d@signed.example');
    const noPolicy = await verify(tenant, domain.id);
    expect(noPolicy.dmarcStatus).toBe('FAILED');
    expect(noPolicy.dmarcReason).toContain('p= missing');

    dns.txt(`_dmarc.${NAME}`, 'v=DMARC1; p=reject; aspf=s');
    const strict = await verify(tenant, domain.id);
    expect(strict).toMatchObject({ dmarcStatus: 'VALID', returnPathStatus: 'FAILED', status: 'VERIFIED' });
    expect(strict.returnPathReason).toContain('alignment impossible');

    // DKIM alone does not verify: SPF or the return path must too.
    dns.remove(NAME);
    const dkimOnly = await verify(tenant, domain.id);
    expect(dkimOnly).toMatchObject({ dkimStatus: 'VALID', spfStatus: 'PENDING', returnPathStatus: 'FAILED', status: 'FAILED' });
  });

  it("checks the return path's MX against BOUNCE_MX_HOST and its SPF (bounces.<name>), which never un-verifies the domain", async () => {
    const tenant = await ctx.newTenant();
    const domain = await addDomain(tenant);
    publish(domain);
    const host = `bounces.${NAME}`;

    // The MX at the host of PUBLIC_URL, not BOUNCE_MX_HOST: not where the inbound listener runs.
    dns.mx(host, { exchange: '127.0.0.1', priority: 10 });
    const elsewhere = await verify(tenant, domain.id);
    expect(elsewhere).toMatchObject({ returnPathStatus: 'FAILED', returnPathSpfStatus: 'VALID', status: 'VERIFIED' });
    expect(elsewhere.returnPathReason).toContain(`not ${MX_HOST}`);
    dns.mx(host, { exchange: `${MX_HOST}.`, priority: 10 });

    dns.txt(host);
    const noSpf = await verify(tenant, domain.id);
    expect(noSpf).toMatchObject({ returnPathStatus: 'VALID', returnPathSpfStatus: 'PENDING', status: 'VERIFIED' });
    expect(noSpf.returnPathSpfReason).toContain(`no "v=spf1" TXT record at ${host}`);
    expect(record(noSpf.domain, 'returnPathSpf').status).toBe('PENDING');

    dns.txt(host, `v=spf1 include:${NAME} ~all`, 'v=spf1 -all');
    expect((await verify(tenant, domain.id)).returnPathSpfReason).toContain(`several SPF records at ${host}`);

    // The suggestion includes <name>'s SPF: without one there, receivers answer permerror.
    dns.txt(host, `v=spf1 include:${NAME} ~all`);
    dns.txt(NAME, 'google-site-verification=abc');
    const noParent = await verify(tenant, domain.id);
    expect(noParent).toMatchObject({ spfStatus: 'PENDING', returnPathSpfStatus: 'FAILED', returnPathStatus: 'VALID', status: 'VERIFIED' });
    expect(noParent.returnPathSpfReason).toContain(`includes ${NAME}, which has no SPF record`);

    // A record of its own (the relay's addresses) is fine too.
    dns.txt(host, 'v=spf1 ip4:192.0.2.25 include:_spf.relay.example ~all');
    expect(await verify(tenant, domain.id)).toMatchObject({ returnPathSpfStatus: 'VALID', returnPathSpfReason: null });

    // Not verified otherwise: a broken return-path SPF makes the domain FAILED, not PENDING.
    dns.remove(`mc1._domainkey.${NAME}`);
    dns.txt(host, 'v=spf1 include:relay.example +all');
    const broken = await verify(tenant, domain.id);
    expect(broken).toMatchObject({ dkimStatus: 'PENDING', returnPathSpfStatus: 'FAILED', status: 'FAILED' });
    expect(broken.returnPathSpfReason).toContain('lets anyone send');
  });

  it("the return path's look-ups failing (timeout, SERVFAIL, malformed) are PENDING with the reason, never a 500", async () => {
    const tenant = await ctx.newTenant();
    const domain = await addDomain(tenant);
    publish(domain);
    for (const behaviour of ['timeout', 'servfail', 'malformed'] as const) {
      dns.behave(`bounces.${NAME}`, behaviour);
      const result = await verify(tenant, domain.id);
      expect(result, behaviour).toMatchObject({ returnPathStatus: 'PENDING', returnPathSpfStatus: 'PENDING', dkimStatus: 'VALID', spfStatus: 'VALID', status: 'VERIFIED' });
      expect(result.returnPathSpfReason, behaviour).toMatch(/DNS look-up failed/);
    }
    dns.behave(`bounces.${NAME}`, null);
    // <name>'s own SPF unreadable: the return path's include of it cannot be judged either.
    dns.behave(NAME, 'servfail');
    const parent = await verify(tenant, domain.id);
    expect(parent).toMatchObject({ spfStatus: 'PENDING', returnPathSpfStatus: 'PENDING', returnPathStatus: 'VALID' });
    expect(parent.returnPathSpfReason).toMatch(/could not be read: DNS look-up failed \(ESERVFAIL/);
  });

  it('timeouts, SERVFAIL and malformed answers are PENDING with the reason, never a 500', async () => {
    const tenant = await ctx.newTenant();
    const domain = await addDomain(tenant);
    publish(domain);
    dns.behave(`mc1._domainkey.${NAME}`, 'timeout');
    dns.behave(NAME, 'servfail');
    dns.behave(`_dmarc.${NAME}`, 'malformed');
    const result = await verify(tenant, domain.id);
    expect(result).toMatchObject({ status: 'PENDING', dkimStatus: 'PENDING', spfStatus: 'PENDING', dmarcStatus: 'PENDING', returnPathStatus: 'VALID' });
    expect(result.dkimReason).toMatch(/DNS look-up failed \(ETIMEOUT/);
    expect(result.spfReason).toMatch(/DNS look-up failed \(ESERVFAIL/);
    expect(result.dmarcReason).toMatch(/DNS look-up failed/);
  });

  it('rotates the DKIM key: both published, the old key signs until the new one verifies', async () => {
    const tenant = await ctx.newTenant();
    const domain = await addDomain(tenant);
    publish(domain);
    await verify(tenant, domain.id);
    const rotated = await ctx.request('POST', `/domains/${domain.id}/rotate-dkim`, { tenant });
    expect(rotated.statusCode, rotated.body).toBe(200);
    const during = rotated.json() as DomainView;
    expect(during).toMatchObject({ selector: 'mc1', nextSelector: 'mc2', status: 'VERIFIED' });
    expect(record(during, 'nextDkim')).toMatchObject({ host: `mc2._domainkey.${NAME}`, status: 'PENDING' });
    expect(record(during, 'nextDkim').value).not.toBe(record(during, 'dkim').value);
    const again = await ctx.request('POST', `/domains/${domain.id}/rotate-dkim`, { tenant });
    expect(again.statusCode).toBe(409);
    expect(errorBody(again).code).toBe('ROTATION_PENDING');

    const notYet = await verify(tenant, domain.id);
    expect(notYet).toMatchObject({ status: 'VERIFIED', dkimStatus: 'VALID', nextDkimStatus: 'PENDING' });
    expect(notYet.domain.selector).toBe('mc1');

    publish(during);
    const switched = await verify(tenant, domain.id);
    expect(switched).toMatchObject({ status: 'VERIFIED', dkimStatus: 'VALID', nextDkimStatus: null });
    expect(switched.domain).toMatchObject({ selector: 'mc2', nextSelector: null });
    expect(record(switched.domain, 'dkim').value).toBe(record(during, 'nextDkim').value);
  });

  /** Verifies a captured message with mailauth, looking keys up on the test DNS server. */
  const dkimOf = async (raw: Buffer | string) => {
    const resolver = new dnsPromises.Resolver();
    resolver.setServers(dnsOptions.servers);
    const { results } = await dkimVerify(raw, { resolver: (name, type) => resolver.resolve(name, type as 'TXT') });
    return results;
  };
  const rawOfFirstMessage = async (tenant: TestTenant, campaignId: string) => {
    const [message] = (await ctx.request('GET', `/campaigns/${campaignId}/messages`, { tenant })).json().data as { id: number }[];
    const raw = await ctx.request('GET', `/campaigns/${campaignId}/messages/${message!.id}/raw`, { tenant });
    expect(raw.statusCode).toBe(200);
    return raw.rawPayload;
  };
  const sendCampaign = async (tenant: TestTenant, email: string) => {
    await addContacts(ctx, tenant, [{ email, attributes: { first_name: 'Ida' } }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    expect((await ctx.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);
    return id;
  };

  it('signs campaign email From a verified domain (mailauth: dkim=pass); an unverified tenant’s mail is not signed', async () => {
    const signer = await ctx.newTenant('Signer');
    const domain = await addDomain(signer);
    publish(domain);
    expect((await verify(signer, domain.id)).status).toBe('VERIFIED');
    const signedId = await sendCampaign(signer, 'reader@dkim.test');
    await deliverAll(ctx, signer, signedId, ctx.container.createWorker());
    const signed = await rawOfFirstMessage(signer, signedId);
    expect(signed.toString()).toMatch(/^DKIM-Signature: /m);
    const [result] = await dkimOf(signed);
    expect(result!.status.result, JSON.stringify(result)).toBe('pass');
    expect(result).toMatchObject({ signingDomain: NAME, selector: 'mc1' });
    const signedHeaders = result!.signingHeaders?.keys?.toLowerCase() ?? '';
    for (const header of ['from', 'to', 'subject', 'date', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post']) expect(signedHeaders).toContain(header);

    // Same From domain, but this tenant never verified it (another tenant's domain signs nothing of it).
    const stranger = await ctx.newTenant('Stranger');
    await addDomain(stranger); // registered, not verified
    const unsignedId = await sendCampaign(stranger, 'reader@dkim.test');
    await deliverAll(ctx, stranger, unsignedId, ctx.container.createWorker());
    expect((await rawOfFirstMessage(stranger, unsignedId)).toString()).not.toMatch(/^DKIM-Signature: /m);

    // Test sends sign too.
    const campaignId = await createCampaign(ctx, signer, { templateVersionId: (await publishedTemplate(ctx, signer)).baseVersionId });
    const test = await ctx.request('POST', `/campaigns/${campaignId}/test`, { tenant: signer, body: { emails: ['qa@dkim.test'] } });
    expect(test.statusCode, test.body).toBe(200);
    const folder = path.join(outboxDir, CaptureMailer.testSendFolder(signer.tenantId, 'qa@dkim.test'));
    const [file] = await fs.readdir(folder);
    const [testResult] = await dkimOf(await fs.readFile(path.join(folder, file!)));
    expect(testResult!.status.result).toBe('pass');
  });

  it('refuses to delete a domain while a SENDING campaign sends From it', async () => {
    const tenant = await ctx.newTenant();
    const domain = await addDomain(tenant);
    const id = await sendCampaign(tenant, 'reader@inuse.test');
    await waitForFanOut(ctx, tenant, id);
    const refused = await ctx.request('DELETE', `/domains/${domain.id}`, { tenant });
    expect(refused.statusCode).toBe(409);
    expect(errorBody(refused).code).toBe('DOMAIN_IN_USE');
    await deliverAll(ctx, tenant, id, ctx.container.createWorker());
    expect((await ctx.request('DELETE', `/domains/${domain.id}`, { tenant })).statusCode).toBe(204);
    expect((await ctx.request('GET', `/domains/${domain.id}`, { tenant })).statusCode).toBe(404);
  });

  it('keeps tenants apart and asks for the domains scopes', async () => {
    const owner = await ctx.newTenant();
    const other = await ctx.newTenant();
    const domain = await addDomain(owner);
    for (const [method, url] of [
      ['GET', `/domains/${domain.id}`],
      ['DELETE', `/domains/${domain.id}`],
      ['POST', `/domains/${domain.id}/verify`],
      ['POST', `/domains/${domain.id}/rotate-dkim`],
    ] as const) {
      const res = await ctx.request(method, url, { tenant: other });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(errorBody(res).code).toBe('NOT_FOUND');
    }
    expect(((await ctx.request('GET', '/domains', { tenant: other })).json() as { data: unknown[] }).data).toEqual([]);
    // The other tenant may register the same name for itself.
    await addDomain(other);

    const reader = await owner.keyWith(['domains:read']);
    expect((await ctx.request('GET', '/domains', { headers: reader.headers })).statusCode).toBe(200);
    const write = await ctx.request('POST', '/domains', { headers: reader.headers, body: { name: 'x.example' } });
    expect(write.statusCode).toBe(403);
    const unrelated = await owner.keyWith(['contacts:read']);
    expect((await ctx.request('GET', `/domains/${domain.id}`, { headers: unrelated.headers })).statusCode).toBe(403);
  });
});
