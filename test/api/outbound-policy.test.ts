import { repositoriesOf } from '../helpers/factories.js';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupAll } from '../../src/net/outbound-policy.js';
import { newId } from '../../src/shared/ids.js';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, TEST_OUTBOUND, useTestApp, type TestContext, type TestTenant } from '../helpers/app.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { addContacts, createCampaign, deliverAll, publishedTemplate } from '../helpers/flow.js';

/**
 * SSRF through SMTP projects (issue 12, item 2) and credentials that follow
 * a changed host (item 3), through HTTP on both databases.
 */

const PASSWORD = 'Outbound-p@ss-do-not-leak';

/** A raw TCP server on 127.0.0.1 that greets like SSH and counts the connections it gets. */
async function startBannerServer(banner = 'SSH-2.0-OpenSSH_9.6\r\n') {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.write(banner);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A resolver the tests control: `rebind.test` answers whatever `rebindTo` says at the time of the lookup. */
function fakeDns() {
  const state = { rebindTo: '93.184.216.34' };
  const lookup: LookupAll = async (host) => {
    const answer = (address: string) => [{ address, family: net.isIP(address) }];
    if (host === 'rebind.test') return answer(state.rebindTo);
    if (host === 'public.test') return answer('93.184.216.34');
    if (host === 'mixed.test') return [...answer('93.184.216.34'), ...answer('10.1.2.3')];
    if (host === 'metadata.test') return answer('169.254.169.254');
    if (host === 'localhost') return [...answer('127.0.0.1'), ...answer('::1')];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  };
  return { state, lookup };
}

const projectBody = (smtp: Record<string, unknown>) => ({ name: 'P', smtp: { port: 587, secure: false, ...smtp }, fromEmail: 'news@acme.test' });

async function insertProjectRow(ctx: TestContext, tenant: TestTenant, smtp: { host: string; port: number }) {
  const id = newId();
  const now = ctx.clock.fn().toISOString();
  await repositoriesOf(ctx.container.database).projects.insert({
    id,
    tenant_id: tenant.tenantId,
    name: 'Stored before the policy',
    smtp_host: smtp.host,
    smtp_port: smtp.port,
    smtp_secure: 0,
    smtp_user: null,
    smtp_pass_encrypted: null,
    from_email: 'news@acme.test',
    from_name: null,
    reply_to: null,
    rate_limit_per_second: null,
    created_at: now,
    updated_at: now,
  });
  return id;
}

const REFUSED_HOSTS = [
  '127.0.0.1',
  '0x7f000001',
  '2130706433',
  '0177.0.0.1',
  '127.1',
  '[::1]',
  '::1',
  '::ffff:127.0.0.1',
  '[::ffff:7f00:1]',
  '64:ff9b::7f00:1',
  '169.254.169.254',
  'fe80::1',
  '10.0.0.1',
  '192.168.1.20',
  '172.16.0.1',
  'fd00::25',
  '100.64.0.1',
  '0.0.0.0',
  '::',
  '224.0.0.1',
  '255.255.255.255',
  'localhost',
  'mail.localhost',
  'mixed.test',
  'metadata.test',
];

describe.each(DIALECTS)('outbound-connection policy (%s)', (dialect) => {
  describe('with no allow-list (the default)', () => {
    const dns = fakeDns();
    const ctx = useTestApp(dialect, { outbound: { lookup: dns.lookup } });
    let banner: Awaited<ReturnType<typeof startBannerServer>>;

    beforeAll(async () => {
      banner = await startBannerServer();
    });
    afterAll(async () => banner?.close());

    it('refuses internal hosts in every notation at create, 422 HOST_NOT_ALLOWED on smtp.host, writing nothing', async () => {
      const tenant = await ctx.newTenant();
      const before = await ctx.count('projects');
      for (const host of REFUSED_HOSTS) {
        const res = await ctx.request('POST', '/projects', { tenant, body: projectBody({ host }) });
        expect(res.statusCode, `${host}: ${res.body}`).toBe(422);
        const body = errorBody(res);
        expect(body.code).toBe('HOST_NOT_ALLOWED');
        expect(body.details).toEqual([{ field: 'smtp.host', message: expect.stringMatching(/not allowed/) }]);
      }
      expect(await ctx.count('projects')).toBe(before);
    });

    it('refuses them on PATCH too and leaves the project as it was', async () => {
      const tenant = await ctx.newTenant();
      const created = await ctx.request('POST', '/projects', { tenant, body: projectBody({ host: 'public.test' }) });
      expect(created.statusCode, created.body).toBe(201);
      const project = created.json() as { id: string };
      for (const host of ['127.0.0.1', '0x7f000001', '[::1]', '169.254.169.254', '10.0.0.1', 'localhost']) {
        const res = await ctx.request('PATCH', `/projects/${project.id}`, { tenant, body: { smtp: { host } } });
        expect(res.statusCode, `${host}: ${res.body}`).toBe(422);
        expect(errorBody(res)).toMatchObject({ code: 'HOST_NOT_ALLOWED', details: [{ field: 'smtp.host' }] });
      }
      const after = await ctx.request('GET', `/projects/${project.id}`, { tenant });
      expect(after.json()).toEqual(created.json());
    });

    it('accepts public hosts, storing an IP address in its canonical form', async () => {
      const tenant = await ctx.newTenant();
      for (const [host, stored] of [
        ['public.test', 'public.test'],
        ['93.184.216.34', '93.184.216.34'],
        ['0x5db8d822', '93.184.216.34'],
        ['[2606:4700:4700::1111]', '2606:4700:4700::1111'],
        // Does not resolve today: accepted, and checked again on every connection.
        ['not-yet.example', 'not-yet.example'],
      ]) {
        const res = await ctx.request('POST', '/projects', { tenant, body: projectBody({ host }) });
        expect(res.statusCode, `${host}: ${res.body}`).toBe(201);
        expect(res.json().smtp.host).toBe(stored);
      }
    });

    it('refuses at connect time a name that resolved to a public address when stored (DNS rebinding): no connection is made', async () => {
      const tenant = await ctx.newTenant();
      dns.state.rebindTo = '93.184.216.34';
      const created = await ctx.request('POST', '/projects', { tenant, body: projectBody({ host: 'rebind.test', port: banner.port }) });
      expect(created.statusCode, created.body).toBe(201);
      dns.state.rebindTo = '127.0.0.1';
      try {
        const res = await ctx.request('POST', `/projects/${created.json().id}/verify`, { tenant });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual({ ok: false, error: 'host not allowed' });
        expect(banner.connections).toBe(0);
      } finally {
        dns.state.rebindTo = '93.184.216.34';
      }
    });

    it('refuses at connect time a project stored before the policy (a row naming 127.0.0.1)', async () => {
      const tenant = await ctx.newTenant();
      for (const host of ['127.0.0.1', 'localhost', '0x7f000001']) {
        const id = await insertProjectRow(ctx, tenant, { host, port: banner.port });
        const res = await ctx.request('POST', `/projects/${id}/verify`, { tenant });
        expect(res.json(), host).toEqual({ ok: false, error: 'host not allowed' });
      }
      expect(banner.connections).toBe(0);
    });

    it('fails a campaign message to a refused host at once, with the reason, without connecting', async () => {
      const tenant = await ctx.newTenant();
      await addContacts(ctx, tenant, [{ email: 'ana@policy.test' }, { email: 'bob@policy.test' }]);
      const { baseVersionId } = await publishedTemplate(ctx, tenant);
      const projectId = await insertProjectRow(ctx, tenant, { host: '127.0.0.1', port: banner.port });
      const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
      expect((await ctx.request('POST', `/campaigns/${id}/send`, { tenant })).statusCode).toBe(202);

      const campaign = await deliverAll(ctx, tenant, id, ctx.container.createWorker());
      expect(campaign.status).toBe('SENT');
      expect(campaign.counters).toMatchObject({ total: 2, sent: 0, failed: 2, queued: 0 });
      const messages = (await ctx.request('GET', `/campaigns/${id}/messages`, { tenant })).json().data as {
        status: string;
        attempts: number;
        lastError: string | null;
      }[];
      for (const message of messages) {
        expect(message.status).toBe('FAILED');
        expect(message.attempts).toBe(1); // not retried: the answer cannot change
        expect(message.lastError).toMatch(/HOST_NOT_ALLOWED.*127\.0\.0\.1 is a loopback address; connections to it are not allowed/);
      }
      expect(banner.connections).toBe(0);
    });
  });

  describe('with 127.0.0.1 on the allow-list, plain AUTH not allowed', () => {
    const ctx = useTestApp(dialect, { outbound: { smtpAllowHosts: ['127.0.0.1'] } });
    let banner: Awaited<ReturnType<typeof startBannerServer>>;
    let plainSink: SmtpSink;

    beforeAll(async () => {
      banner = await startBannerServer();
      plainSink = await startSmtpSink({ auth: { user: 'mailer', pass: PASSWORD } });
    });
    afterAll(async () => {
      await banner?.close();
      await plainSink?.close();
    });

    it('answers verify with a classified error, never the remote banner', async () => {
      const tenant = await ctx.newTenant();
      const created = await ctx.request('POST', '/projects', { tenant, body: projectBody({ host: '127.0.0.1', port: banner.port }) });
      expect(created.statusCode, created.body).toBe(201);
      const res = await ctx.request('POST', `/projects/${created.json().id}/verify`, { tenant });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ ok: false, error: 'not an SMTP server' });
      expect(res.body).not.toMatch(/SSH|OpenSSH/);
      expect(banner.connections).toBe(1);
    });

    it('does not send the password over a plain connection: verify fails and the server sees no AUTH', async () => {
      const tenant = await ctx.newTenant();
      const created = await ctx.request('POST', '/projects', {
        tenant,
        body: projectBody({ host: '127.0.0.1', port: plainSink.port, user: 'mailer', pass: PASSWORD }),
      });
      expect(created.statusCode, created.body).toBe(201);
      const res = await ctx.request('POST', `/projects/${created.json().id}/verify`, { tenant });
      expect(res.json()).toEqual({ ok: false, error: 'TLS required but not offered (STARTTLS)' });
      expect(plainSink.authAttempts).toEqual([]);
    });

    it('PATCHing host, port or security mode without the password again is 400 PASSWORD_REQUIRED, and changes nothing', async () => {
      const tenant = await ctx.newTenant();
      const created = await ctx.request('POST', '/projects', {
        tenant,
        body: projectBody({ host: '127.0.0.1', port: plainSink.port, user: 'mailer', pass: PASSWORD }),
      });
      const project = created.json() as { id: string; smtp: Record<string, unknown> };
      const row = () => ctx.container.database.db.selectFrom('projects').selectAll().where('id', '=', project.id).executeTakeFirstOrThrow();
      const before = await row();
      for (const smtp of [{ host: 'public.test' }, { host: '93.184.216.34' }, { port: 2525 }, { secure: true }, { host: 'public.test', user: 'other' }]) {
        const res = await ctx.request('PATCH', `/projects/${project.id}`, { tenant, body: { smtp } });
        expect(res.statusCode, JSON.stringify(smtp)).toBe(400);
        expect(errorBody(res)).toMatchObject({ code: 'PASSWORD_REQUIRED', details: [{ field: 'smtp.pass' }] });
      }
      expect(await row()).toEqual(before);

      // The same values are no change; with the password (or removing it) the move is fine.
      const same = await ctx.request('PATCH', `/projects/${project.id}`, { tenant, body: { smtp: { host: '127.0.0.1', port: plainSink.port, secure: false } } });
      expect(same.statusCode, same.body).toBe(200);
      const moved = await ctx.request('PATCH', `/projects/${project.id}`, { tenant, body: { smtp: { port: 2525, pass: PASSWORD } } });
      expect(moved.statusCode, moved.body).toBe(200);
      const cleared = await ctx.request('PATCH', `/projects/${project.id}`, { tenant, body: { smtp: { port: 2526, pass: null } } });
      expect(cleared.statusCode, cleared.body).toBe(200);
      // Without a stored password there is nothing to follow the host.
      const free = await ctx.request('PATCH', `/projects/${project.id}`, { tenant, body: { smtp: { port: 2527 } } });
      expect(free.statusCode, free.body).toBe(200);
    });
  });

  describe('with 127.0.0.1 on the allow-list and SMTP_ALLOW_PLAIN_AUTH=true', () => {
    const ctx = useTestApp(dialect, { outbound: TEST_OUTBOUND });
    let plainSink: SmtpSink;
    beforeAll(async () => {
      plainSink = await startSmtpSink({ auth: { user: 'mailer', pass: PASSWORD } });
    });
    afterAll(async () => plainSink?.close());

    it('authenticates over a plain connection to the allow-listed host', async () => {
      const tenant = await ctx.newTenant();
      const created = await ctx.request('POST', '/projects', {
        tenant,
        body: projectBody({ host: '127.0.0.1', port: plainSink.port, user: 'mailer', pass: PASSWORD }),
      });
      const res = await ctx.request('POST', `/projects/${created.json().id}/verify`, { tenant });
      expect(res.json()).toEqual({ ok: true });
      expect(plainSink.authAttempts).toEqual([{ user: 'mailer', ok: true }]);
    });
  });
});
