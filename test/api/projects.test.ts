import { SecretBox } from '../../src/shared/secret-box.js';
import type { CampaignStatus } from '../../src/db/enums.js';
import Fastify from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { App } from '../../src/http/types.js';
import { projectPasswordContext } from '../../src/net/smtp-transport.js';
import { Project, ProjectPage, VerifyResult } from '../../src/projects/project.schemas.js';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestTenant } from '../helpers/app.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const PASSWORD = 'S3cr3t-smtp-p@ssw0rd-do-not-leak';
const UNKNOWN_ID = '01a21603-0000-7000-8000-000000000000';

const validBody = {
  name: 'Marketing',
  smtp: { host: 'smtp.example.com', port: 587, secure: false, user: 'mailer', pass: PASSWORD },
  fromEmail: 'news@example.com',
  fromName: 'Example News',
  replyTo: 'support@example.com',
  rateLimitPerSecond: 50,
};

describe.each(DIALECTS)('projects API (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  /** Every response body of this suite, checked at the end for the password. */
  const bodies: string[] = [];
  let sink: SmtpSink;

  beforeAll(async () => {
    sink = await startSmtpSink({ auth: { user: 'mailer', pass: PASSWORD } });
  });
  afterAll(async () => {
    await sink?.close();
  });

  async function request(...args: Parameters<typeof ctx.request>): Promise<LightMyRequestResponse> {
    const res = await ctx.request(...args);
    bodies.push(res.body);
    return res;
  }

  async function createOk(tenant: TestTenant, body: unknown = validBody) {
    const res = await request('POST', '/projects', { tenant, body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Record<string, any>;
  }

  const storedRow = (id: string) =>
    ctx.container.database.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  describe('POST /projects', () => {
    it('creates a project and answers without the password', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant);
      expect(project).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'Marketing',
        smtp: { host: 'smtp.example.com', port: 587, secure: false, user: 'mailer', hasPassword: true },
        fromEmail: 'news@example.com',
        fromName: 'Example News',
        replyTo: 'support@example.com',
        rateLimitPerSecond: 50,
        maxConnections: null,
        createdAt: expect.any(String),
        updatedAt: project.createdAt,
      });
      const fetched = await request('GET', `/projects/${project.id}`, { tenant });
      expect(fetched.json()).toEqual(project);
    });

    it('stores the password encrypted, sealed for that project', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant);
      const row = await storedRow(project.id);
      expect(row.smtp_pass_encrypted).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(row.smtp_pass_encrypted).not.toContain(PASSWORD);
      expect(new SecretBox(ctx.container.secret).decrypt(row.smtp_pass_encrypted!, projectPasswordContext(project.id))).toBe(PASSWORD);
      expect(row.smtp_secure).toBe(0);
    });

    it('takes the minimum: no credentials, no optional fields; trims the name and lower-cases the host', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant, {
        name: '  Transactional  ',
        smtp: { host: 'SMTP.Example.COM', port: 465, secure: true },
        fromEmail: 'a@example.com',
      });
      expect(project).toMatchObject({
        name: 'Transactional',
        smtp: { host: 'smtp.example.com', port: 465, secure: true, user: null, hasPassword: false },
        fromName: null,
        replyTo: null,
        rateLimitPerSecond: null,
        maxConnections: null,
      });
      expect((await storedRow(project.id)).smtp_pass_encrypted).toBeNull();
    });

    it('accepts IP addresses and the limits themselves', async () => {
      const tenant = await ctx.newTenant();
      // 127.0.0.1 is on the test allow-list (SMTP_ALLOW_HOSTS); the others are public; the long name does not resolve (accepted).
      for (const host of ['127.0.0.1', '8.8.8.8', '2606:4700:4700::1111', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`]) {
        const project = await createOk(tenant, {
          ...validBody,
          name: 'n'.repeat(200),
          smtp: { host, port: 65535, secure: false, user: 'u'.repeat(256), pass: 'p'.repeat(1024) },
          fromName: 'f'.repeat(200),
          rateLimitPerSecond: 10000,
          maxConnections: 50,
        });
        expect(project.smtp.host).toBe(host);
        expect(project.maxConnections).toBe(50);
      }
      const smallest = await createOk(tenant, { ...validBody, smtp: { ...validBody.smtp, port: 1 }, rateLimitPerSecond: 1, maxConnections: 1 });
      expect((await storedRow(smallest.id)).max_connections).toBe(1);
    });

    const smtp = validBody.smtp;
    const invalid: [string, unknown, string][] = [
      ['no name', { ...validBody, name: undefined }, 'name'],
      ['blank name', { ...validBody, name: '   ' }, 'name'],
      ['name of 201 characters', { ...validBody, name: 'n'.repeat(201) }, 'name'],
      ['no smtp', { ...validBody, smtp: undefined }, 'smtp'],
      ['no host', { ...validBody, smtp: { ...smtp, host: undefined } }, 'smtp.host'],
      ['host with a space', { ...validBody, smtp: { ...smtp, host: 'smtp example.com' } }, 'smtp.host'],
      ['host with a scheme', { ...validBody, smtp: { ...smtp, host: 'smtp://example.com' } }, 'smtp.host'],
      ['host with a port', { ...validBody, smtp: { ...smtp, host: 'example.com:25' } }, 'smtp.host'],
      ['host label starting with a hyphen', { ...validBody, smtp: { ...smtp, host: '-bad.example.com' } }, 'smtp.host'],
      ['host of 254 characters', { ...validBody, smtp: { ...smtp, host: `${'a.'.repeat(126)}ab` } }, 'smtp.host'],
      ['malformed IPv4', { ...validBody, smtp: { ...smtp, host: '256.1.1.1' } }, 'smtp.host'],
      ['port 0', { ...validBody, smtp: { ...smtp, port: 0 } }, 'smtp.port'],
      ['port 65536', { ...validBody, smtp: { ...smtp, port: 65536 } }, 'smtp.port'],
      ['port as text', { ...validBody, smtp: { ...smtp, port: '587' } }, 'smtp.port'],
      ['fractional port', { ...validBody, smtp: { ...smtp, port: 587.5 } }, 'smtp.port'],
      ['secure as text', { ...validBody, smtp: { ...smtp, secure: 'true' } }, 'smtp.secure'],
      ['no secure', { ...validBody, smtp: { ...smtp, secure: undefined } }, 'smtp.secure'],
      ['user of 257 characters', { ...validBody, smtp: { ...smtp, user: 'u'.repeat(257) } }, 'smtp.user'],
      ['pass of 1025 characters', { ...validBody, smtp: { ...smtp, pass: 'p'.repeat(1025) } }, 'smtp.pass'],
      ['empty pass', { ...validBody, smtp: { ...smtp, pass: '' } }, 'smtp.pass'],
      ['unknown smtp field', { ...validBody, smtp: { ...smtp, tls: true } }, 'smtp.tls'],
      ['no fromEmail', { ...validBody, fromEmail: undefined }, 'fromEmail'],
      ['fromEmail without @', { ...validBody, fromEmail: 'news.example.com' }, 'fromEmail'],
      ['fromEmail with a line break', { ...validBody, fromEmail: 'news@example.com\r\nBcc: x@evil.test' }, 'fromEmail'],
      ['replyTo not an address', { ...validBody, replyTo: 'support' }, 'replyTo'],
      ['fromName with CRLF', { ...validBody, fromName: 'News\r\nBcc: victim@example.com' }, 'fromName'],
      ['fromName with LF', { ...validBody, fromName: 'News\nX: y' }, 'fromName'],
      ['fromName of 201 characters', { ...validBody, fromName: 'f'.repeat(201) }, 'fromName'],
      ['rateLimitPerSecond 0', { ...validBody, rateLimitPerSecond: 0 }, 'rateLimitPerSecond'],
      ['rateLimitPerSecond 10001', { ...validBody, rateLimitPerSecond: 10001 }, 'rateLimitPerSecond'],
      ['maxConnections 0', { ...validBody, maxConnections: 0 }, 'maxConnections'],
      ['maxConnections 51', { ...validBody, maxConnections: 51 }, 'maxConnections'],
      ['fractional maxConnections', { ...validBody, maxConnections: 2.5 }, 'maxConnections'],
      ['unknown field', { ...validBody, password: 'x' }, 'password'],
    ];
    it.each(invalid)('answers 400 for %s, naming %s, and writes nothing', async (_name, body, field) => {
      const tenant = await ctx.newTenant();
      const before = await ctx.count('projects');
      const res = await request('POST', '/projects', { tenant, body });
      expect(res.statusCode, res.body).toBe(400);
      const error = errorBody(res);
      expect(error.code).toBe('VALIDATION_ERROR');
      expect(error.details?.map((d) => d.field)).toContain(field);
      expect(await ctx.count('projects')).toBe(before);
    });

    it('reports every bad field at once', async () => {
      const tenant = await ctx.newTenant();
      const res = await request('POST', '/projects', {
        tenant,
        body: { ...validBody, name: ' ', smtp: { ...validBody.smtp, host: 'bad host' }, fromName: 'a\r\nb' },
      });
      expect(res.statusCode).toBe(400);
      expect(errorBody(res).details?.map((d) => d.field).sort()).toEqual(['fromName', 'name', 'smtp.host']);
    });
  });

  describe('GET /projects', () => {
    it("pages the tenant's projects newest first, and only the tenant's", async () => {
      const tenant = await ctx.newTenant();
      const other = await ctx.newTenant();
      await createOk(other);
      const ids: string[] = [];
      for (const name of ['one', 'two', 'three']) ids.push((await createOk(tenant, { ...validBody, name })).id);

      const first = await request('GET', '/projects?limit=2', { tenant });
      expect(first.statusCode).toBe(200);
      expect(first.json().meta).toEqual({ page: 1, limit: 2, total: 3, totalPages: 2 });
      expect(first.json().data.map((p: { name: string }) => p.name)).toEqual(['three', 'two']);
      const second = await request('GET', '/projects?limit=2&page=2', { tenant });
      expect(second.json().data.map((p: { id: string }) => p.id)).toEqual([ids[0]]);
      expect(second.json().data[0].smtp).toEqual({ ...validBody.smtp, pass: undefined, hasPassword: true });
    });

    it('answers 400 for a bad page or limit', async () => {
      const tenant = await ctx.newTenant();
      for (const query of ['page=0', 'limit=0', 'limit=101', 'page=x']) {
        const res = await request('GET', `/projects?${query}`, { tenant });
        expect(res.statusCode, query).toBe(400);
        expect(errorBody(res).code).toBe('VALIDATION_ERROR');
      }
    });
  });

  describe('GET /projects/{id}', () => {
    it('answers 404 for unknown and malformed ids', async () => {
      const tenant = await ctx.newTenant();
      for (const id of [UNKNOWN_ID, 'not-an-id']) {
        const res = await request('GET', `/projects/${id}`, { tenant });
        expect(res.statusCode).toBe(404);
        expect(errorBody(res).code).toBe('NOT_FOUND');
      }
    });
  });

  describe('PATCH /projects/{id}', () => {
    it('changes only the given fields; smtp is partial too; an omitted password is kept', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant);
      const sealed = (await storedRow(project.id)).smtp_pass_encrypted;
      ctx.clock.advance(1000);
      const res = await request('PATCH', `/projects/${project.id}`, {
        tenant,
        body: { name: 'Renamed', smtp: { user: 'mailer2', port: 587 } },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({
        ...project,
        name: 'Renamed',
        smtp: { ...project.smtp, user: 'mailer2' },
        updatedAt: new Date(new Date(project.createdAt).getTime() + 1000).toISOString(),
      });
      expect((await storedRow(project.id)).smtp_pass_encrypted).toBe(sealed);
    });

    it('sets and clears maxConnections', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant);
      const set = await request('PATCH', `/projects/${project.id}`, { tenant, body: { maxConnections: 20 } });
      expect(set.statusCode, set.body).toBe(200);
      expect(set.json().maxConnections).toBe(20);
      expect((await storedRow(project.id)).max_connections).toBe(20);
      const cleared = await request('PATCH', `/projects/${project.id}`, { tenant, body: { maxConnections: null } });
      expect(cleared.json().maxConnections).toBeNull();
    });

    it('replaces the password with a new one and clears it with null', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant);
      const replaced = await request('PATCH', `/projects/${project.id}`, { tenant, body: { smtp: { pass: 'new-pass' } } });
      expect(replaced.json().smtp.hasPassword).toBe(true);
      const row = await storedRow(project.id);
      expect(new SecretBox(ctx.container.secret).decrypt(row.smtp_pass_encrypted!, projectPasswordContext(project.id))).toBe('new-pass');

      const cleared = await request('PATCH', `/projects/${project.id}`, { tenant, body: { smtp: { pass: null } } });
      expect(cleared.statusCode).toBe(200);
      expect(cleared.json().smtp).toEqual({ ...project.smtp, hasPassword: false });
      expect((await storedRow(project.id)).smtp_pass_encrypted).toBeNull();
    });

    it('clears the nullable fields with null', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant);
      const res = await request('PATCH', `/projects/${project.id}`, {
        tenant,
        body: { fromName: null, replyTo: null, rateLimitPerSecond: null, maxConnections: null, smtp: { user: null, secure: true, pass: PASSWORD } },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({
        fromName: null,
        replyTo: null,
        rateLimitPerSecond: null,
        maxConnections: null,
        smtp: { user: null, secure: true, hasPassword: true },
      });
    });

    it('answers 400 for bad fields or an empty body and changes nothing', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant);
      const bodies: unknown[] = [
        {},
        { name: 'ok', fromName: 'x\r\nBcc: y@example.com' },
        { smtp: { host: 'bad host' }, name: 'Changed' },
        { smtp: { port: 70000 } },
        { fromEmail: null },
        { smtp: null },
        { smtp: { pass: '' } },
        { maxConnections: 0 },
        { maxConnections: 51 },
        { id: UNKNOWN_ID },
      ];
      for (const body of bodies) {
        const res = await request('PATCH', `/projects/${project.id}`, { tenant, body });
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(errorBody(res).code).toBe('VALIDATION_ERROR');
      }
      expect((await request('GET', `/projects/${project.id}`, { tenant })).json()).toEqual(project);
    });

    it('answers 404 for an unknown id', async () => {
      const tenant = await ctx.newTenant();
      const res = await request('PATCH', `/projects/${UNKNOWN_ID}`, { tenant, body: { name: 'x' } });
      expect(res.statusCode).toBe(404);
    });
  });

  describe('DELETE /projects/{id}', () => {
    it('deletes and answers 204; the project is gone', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant);
      const res = await request('DELETE', `/projects/${project.id}`, { tenant });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      expect((await request('GET', `/projects/${project.id}`, { tenant })).statusCode).toBe(404);
      expect((await request('DELETE', `/projects/${project.id}`, { tenant })).statusCode).toBe(404);
    });

    it('answers 409 while an unfinished campaign uses the project, and deletes once it is cancelled', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant);
      const campaign = await request('POST', '/campaigns', { tenant, body: { name: 'Uses it', projectId: project.id } });
      expect(campaign.statusCode, campaign.body).toBe(201);

      const blocked = await request('DELETE', `/projects/${project.id}`, { tenant });
      expect(blocked.statusCode).toBe(409);
      expect(errorBody(blocked).code).toBe('CONFLICT');
      expect((await request('GET', `/projects/${project.id}`, { tenant })).statusCode).toBe(200);

      const cancelled = await request('POST', `/campaigns/${campaign.json().id}/cancel`, { tenant });
      expect(cancelled.json().status).toBe('CANCELLED');
      expect((await request('DELETE', `/projects/${project.id}`, { tenant })).statusCode).toBe(204);
    });

    it('blocks for SCHEDULED and SENDING campaigns too, and not for SENT ones', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant);
      const campaign = await request('POST', '/campaigns', { tenant, body: { name: 'c', projectId: project.id } });
      const id = campaign.json().id as string;
      const setStatus = (status: string) =>
        ctx.container.database.db.updateTable('campaigns').set({ status: status as CampaignStatus }).where('id', '=', id).execute();
      for (const status of ['SCHEDULED', 'SENDING']) {
        await setStatus(status);
        expect((await request('DELETE', `/projects/${project.id}`, { tenant })).statusCode, status).toBe(409);
      }
      await setStatus('SENT');
      expect((await request('DELETE', `/projects/${project.id}`, { tenant })).statusCode).toBe(204);
    });

    it("is not blocked by another tenant's campaign naming the same id", async () => {
      const a = await ctx.newTenant('A');
      const b = await ctx.newTenant('B');
      const project = await createOk(a);
      // B cannot attach A's project through the API (422); a row naming it anyway must not block A.
      const refused = await request('POST', '/campaigns', { tenant: b, body: { name: 'c', projectId: project.id } });
      expect(refused.statusCode).toBe(422);
      const created = await request('POST', '/campaigns', { tenant: b, body: { name: 'c' } });
      await ctx.container.database.db.updateTable('campaigns').set({ project_id: project.id }).where('id', '=', created.json().id).execute();
      expect((await request('DELETE', `/projects/${project.id}`, { tenant: a })).statusCode).toBe(204);
    });
  });

  describe('POST /projects/{id}/verify', () => {
    const sinkProject = (password: string) => ({
      ...validBody,
      smtp: { host: '127.0.0.1', port: sink.port, secure: false, user: 'mailer', pass: password },
    });

    it('answers ok after a real SMTP login with the right credentials', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant, sinkProject(PASSWORD));
      const attempts = sink.authAttempts.length;
      const res = await request('POST', `/projects/${project.id}/verify`, { tenant });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ ok: true });
      expect(sink.authAttempts.slice(attempts)).toEqual([{ user: 'mailer', ok: true }]);
    });

    it('answers ok: false, authentication failed, for a wrong password', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant, sinkProject('wrong-password'));
      const res = await request('POST', `/projects/${project.id}/verify`, { tenant });
      expect(res.statusCode).toBe(200);
      expect(res.json().ok).toBe(false);
      expect(res.json().error).toBe('authentication failed');
      expect(res.json().error).not.toContain('wrong-password');
    });

    it('answers ok: false when nothing listens there', async () => {
      const tenant = await ctx.newTenant();
      const closed = await startSmtpSink();
      const port = closed.port;
      await closed.close();
      const project = await createOk(tenant, { ...validBody, smtp: { host: '127.0.0.1', port, secure: false } });
      const res = await request('POST', `/projects/${project.id}/verify`, { tenant });
      expect(res.json()).toEqual({ ok: false, error: 'connection refused' });
    });

    it('answers ok: false, without a 500, when the stored password cannot be decrypted', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant, sinkProject(PASSWORD));
      const other = await createOk(tenant, sinkProject(PASSWORD));
      // A sealed value moved to another row does not open there (bound to the project id).
      const { smtp_pass_encrypted } = await storedRow(other.id);
      await ctx.container.database.db.updateTable('projects').set({ smtp_pass_encrypted }).where('id', '=', project.id).execute();
      const res = await request('POST', `/projects/${project.id}/verify`, { tenant });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ ok: false, error: expect.stringMatching(/cannot be decrypted/) });
    });

    it('answers 404 for an unknown id', async () => {
      const tenant = await ctx.newTenant();
      expect((await request('POST', `/projects/${UNKNOWN_ID}/verify`, { tenant })).statusCode).toBe(404);
    });
  });

  describe('tenant isolation and scopes', () => {
    it("answers 404 for another tenant's project on every route and changes nothing", async () => {
      const a = await ctx.newTenant('A');
      const b = await ctx.newTenant('B');
      const project = await createOk(a);
      const row = await storedRow(project.id);
      const attempts: [string, string, unknown][] = [
        ['GET', `/projects/${project.id}`, undefined],
        ['PATCH', `/projects/${project.id}`, { name: 'Stolen', smtp: { pass: null } }],
        ['DELETE', `/projects/${project.id}`, undefined],
        ['POST', `/projects/${project.id}/verify`, undefined],
      ];
      for (const [method, url, body] of attempts) {
        const res = await request(method as 'GET', url, { tenant: b, body });
        expect(res.statusCode, `${method} ${url}`).toBe(404);
        expect(errorBody(res).code).toBe('NOT_FOUND');
      }
      expect((await request('GET', '/projects', { tenant: b })).json().meta.total).toBe(0);
      expect(await storedRow(project.id)).toEqual(row);
    });

    it('answers 403 naming the missing scope on every route', async () => {
      const tenant = await ctx.newTenant();
      const project = await createOk(tenant);
      const readOnly = await tenant.keyWith(['projects:read']);
      const writeOnly = await tenant.keyWith(['projects:write']);
      const before = await storedRow(project.id);
      const writes: [string, string, unknown][] = [
        ['POST', '/projects', validBody],
        ['PATCH', `/projects/${project.id}`, { name: 'x' }],
        ['DELETE', `/projects/${project.id}`, undefined],
        ['POST', `/projects/${project.id}/verify`, undefined],
      ];
      for (const [method, url, body] of writes) {
        const res = await request(method as 'POST', url, { headers: readOnly.headers, body });
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(errorBody(res).message).toContain('projects:write');
      }
      for (const url of ['/projects', `/projects/${project.id}`]) {
        const res = await request('GET', url, { headers: writeOnly.headers });
        expect(res.statusCode).toBe(403);
        expect(errorBody(res).message).toContain('projects:read');
      }
      expect(await storedRow(project.id)).toEqual(before);
      expect((await request('GET', '/projects', { headers: readOnly.headers })).json().meta.total).toBe(1);
    });

    it('registers every project route with a projects scope', () => {
      const routes = ctx.app.routeTable.filter((r) => r.url.startsWith('/projects'));
      expect(routes).toHaveLength(6);
      for (const route of routes) {
        expect(route.scope).toBe(route.method === 'GET' ? 'projects:read' : 'projects:write');
      }
    });
  });

  describe('the password stays secret', () => {
    let logged: string[];
    let loggingApp: App;

    beforeAll(async () => {
      logged = [];
      const logger = Fastify({ logger: { level: 'trace', stream: { write: (line: string) => logged.push(line) } } }).log;
      loggingApp = await buildApp(ctx.container, { logger });
    });
    afterAll(async () => {
      await loggingApp?.close();
    });

    it('has no place in any response schema', () => {
      for (const schema of [Project, ProjectPage, VerifyResult]) expect(JSON.stringify(schema)).not.toMatch(/"(pass|password|smtp_pass_encrypted)"/i);
    });

    it('is never in a response body nor in a log line, on any route, success or failure', async () => {
      const tenant = await ctx.newTenant();
      const inject = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) => {
        const res = await loggingApp.inject({ method, url, headers: tenant.headers, ...(body ? { payload: body as object } : {}) });
        bodies.push(res.body);
        return res;
      };
      const created = await inject('POST', '/projects', {
        ...validBody,
        smtp: { host: '127.0.0.1', port: sink.port, secure: false, user: 'mailer', pass: PASSWORD },
      });
      expect(created.statusCode).toBe(201);
      const id = created.json().id as string;
      await inject('GET', `/projects/${id}`);
      await inject('GET', '/projects');
      expect((await inject('POST', `/projects/${id}/verify`)).json()).toEqual({ ok: true });
      await inject('PATCH', `/projects/${id}`, { smtp: { pass: `${PASSWORD}-2` } });
      expect((await inject('POST', `/projects/${id}/verify`)).json().ok).toBe(false);
      await inject('PATCH', `/projects/${id}`, { smtp: { pass: PASSWORD, port: 0 } });
      await inject('POST', '/projects', { ...validBody, fromName: 'a\nb' });
      await inject('DELETE', `/projects/${id}`);

      expect(logged.length).toBeGreaterThan(0);
      for (const line of logged) expect(line).not.toContain(PASSWORD);
      expect(bodies.length).toBeGreaterThan(50);
      for (const body of bodies) expect(body).not.toContain(PASSWORD);
    });
  });
});
