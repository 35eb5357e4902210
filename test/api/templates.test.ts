import { describe, expect, it } from 'vitest';
import { newId } from '../../src/shared/ids.js';
import { errorBody, useTestApp, type TestContext, type TestTenant } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { repositoriesOf } from '../helpers/factories.js';

interface Version {
  id: string;
  templateId: string;
  status: string;
  subject: string;
  htmlBody: string;
  textBody: string | null;
  locale: string | null;
  localeGroupId: string | null;
  variables: unknown;
  publishedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const base = { name: 'Welcome', subject: 'Hi {{ firstName }}', htmlBody: '<p>Hello {{ firstName }}</p>' };

describe.each(DIALECTS)('templates API (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  async function createTemplate(tenant: TestTenant, body: Record<string, unknown> = base) {
    const res = await ctx.request('POST', '/templates', { tenant, body });
    expect(res.statusCode, res.body).toBe(201);
    const template = res.json() as { id: string; versions: Version[] };
    return { templateId: template.id, version: template.versions[0]!, template };
  }
  const versionsUrl = (templateId: string) => `/templates/${templateId}/versions`;
  const versionUrl = (templateId: string, versionId: string) => `/templates/${templateId}/versions/${versionId}`;
  async function addVersion(tenant: TestTenant, templateId: string, body: Record<string, unknown>) {
    const res = await ctx.request('POST', versionsUrl(templateId), { tenant, body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Version;
  }
  const publish = (tenant: TestTenant, templateId: string, versionId: string) =>
    ctx.request('POST', `${versionUrl(templateId, versionId)}/publish`, { tenant });
  const versionCount = async (tenant: TestTenant) =>
    (
      await ctx.container.database.db
        .selectFrom('template_versions')
        .where('tenant_id', '=', tenant.tenantId)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n;
  const getVersion = async (tenant: TestTenant, templateId: string, versionId: string) =>
    (await ctx.request('GET', versionUrl(templateId, versionId), { tenant })).json() as Version;

  describe('create, read, list', () => {
    it('creates a template with its first DRAFT version, normalising the locale', async () => {
      const tenant = await ctx.newTenant();
      const { template, version } = await createTemplate(tenant, {
        ...base,
        name: '  Welcome  ',
        textBody: 'Hello {{ firstName }}',
        locale: 'es-mx',
        variables: [{ name: 'firstName', type: 'string', fallback: 'amigo' }],
      });
      expect(template).toMatchObject({ name: 'Welcome', versions: [expect.any(Object)] });
      expect(version).toMatchObject({
        templateId: template.id,
        status: 'DRAFT',
        subject: base.subject,
        htmlBody: base.htmlBody,
        textBody: 'Hello {{ firstName }}',
        locale: 'es-MX',
        localeGroupId: null,
        variables: [{ name: 'firstName', type: 'string', fallback: 'amigo' }],
        publishedAt: null,
      });

      const got = await ctx.request('GET', `/templates/${template.id}`, { tenant });
      expect(got.statusCode).toBe(200);
      expect(got.json()).toEqual(template);
      expect(await getVersion(tenant, template.id, version.id)).toEqual(version);
    });

    it('lists templates newest first, paged, and versions oldest first, paged', async () => {
      const tenant = await ctx.newTenant();
      const a = await createTemplate(tenant, { ...base, name: 'A' });
      const b = await createTemplate(tenant, { ...base, name: 'B' });
      const list = await ctx.request('GET', '/templates?limit=1', { tenant });
      expect(list.statusCode).toBe(200);
      expect(list.json()).toEqual({
        data: [{ id: b.templateId, name: 'B', createdAt: expect.any(String), updatedAt: expect.any(String) }],
        meta: { page: 1, limit: 1, total: 2, totalPages: 2 },
      });

      const second = await addVersion(tenant, a.templateId, { subject: 'v2', htmlBody: '<p>2</p>' });
      const versions = await ctx.request('GET', `${versionsUrl(a.templateId)}?page=2&limit=1`, { tenant });
      expect(versions.json()).toEqual({ data: [second], meta: { page: 2, limit: 1, total: 2, totalPages: 2 } });
      const all = (await ctx.request('GET', `/templates/${a.templateId}`, { tenant })).json();
      expect(all.versions.map((v: Version) => v.id)).toEqual([a.version.id, second.id]);
    });

    it('answers 400 for bad input and writes nothing', async () => {
      const tenant = await ctx.newTenant();
      const cases: Record<string, unknown>[] = [
        {},
        { ...base, name: '   ' },
        { ...base, name: 'x'.repeat(201) },
        { ...base, subject: 'x'.repeat(999) },
        { ...base, subject: '' },
        { ...base, htmlBody: '' },
        { ...base, htmlBody: 'x'.repeat(512 * 1024 + 1) },
        { ...base, htmlBody: 'é'.repeat(300 * 1024) }, // fewer characters than the limit, more bytes
        { ...base, textBody: 'x'.repeat(256 * 1024 + 1) },
        { ...base, locale: 'not a locale' },
        { ...base, locale: 5 },
        { ...base, extra: true },
        { ...base, localeGroupId: newId() },
        { ...base, variables: [{ name: 'x', type: 'date' }] },
        { ...base, variables: [{ name: 'x', type: 'number', fallback: 'seven' }] },
        { ...base, variables: [{ name: 'x', type: 'string' }, { name: 'x', type: 'string' }] },
        { ...base, variables: [{ name: 'contact', type: 'string' }] },
        { ...base, variables: Array.from({ length: 101 }, (_, i) => ({ name: `v${i}`, type: 'string' })) },
      ];
      for (const body of cases) {
        const res = await ctx.request('POST', '/templates', { tenant, body });
        expect(res.statusCode, JSON.stringify(body).slice(0, 120)).toBe(400);
        const error = errorBody(res);
        expect(error.code).toBe('VALIDATION_ERROR');
        expect(error.details?.length).toBeGreaterThan(0);
      }
      const { templateId, version } = await createTemplate(tenant);
      const bad = await ctx.request('POST', versionsUrl(templateId), { tenant, body: { subject: 'x', htmlBody: 'y', locale: '??' } });
      expect(bad.statusCode).toBe(400);
      expect(errorBody(bad).details).toEqual([{ field: 'locale', message: expect.stringContaining('BCP 47') }]);
      const badPatch = await ctx.request('PATCH', versionUrl(templateId, version.id), { tenant, body: {} });
      expect(badPatch.statusCode).toBe(400);
      expect((await ctx.request('GET', '/templates', { tenant })).json().meta.total).toBe(1);
      expect(await versionCount(tenant)).toBe(1);
      expect(await getVersion(tenant, templateId, version.id)).toEqual(version);
    });

    it('answers 404 for unknown or malformed ids', async () => {
      const tenant = await ctx.newTenant();
      const { templateId, version } = await createTemplate(tenant);
      const other = await createTemplate(tenant);
      for (const url of [
        `/templates/${newId()}`,
        '/templates/nope',
        versionUrl(templateId, newId()),
        versionUrl(templateId, 'nope'),
        versionUrl(other.templateId, version.id), // a version of another template
        `${versionsUrl(newId())}`,
      ]) {
        const res = await ctx.request('GET', url, { tenant });
        expect(res.statusCode, url).toBe(404);
        expect(errorBody(res).code).toBe('NOT_FOUND');
      }
    });
  });

  describe('drafts and publishing', () => {
    it('edits drafts; freezes published versions (PATCH → 409 naming the status)', async () => {
      const tenant = await ctx.newTenant();
      const { templateId, version } = await createTemplate(tenant);
      ctx.clock.advance(1000);
      const patched = await ctx.request('PATCH', versionUrl(templateId, version.id), {
        tenant,
        body: { subject: 'New {{ firstName }}', textBody: 'plain', locale: 'EN', variables: [{ name: 'firstName', type: 'string' }] },
      });
      expect(patched.statusCode, patched.body).toBe(200);
      expect(patched.json()).toMatchObject({ subject: 'New {{ firstName }}', textBody: 'plain', locale: 'en', status: 'DRAFT' });
      expect(patched.json().updatedAt).not.toBe(version.updatedAt);

      const cleared = await ctx.request('PATCH', versionUrl(templateId, version.id), {
        tenant,
        body: { textBody: null, locale: null, variables: null },
      });
      expect(cleared.json()).toMatchObject({ textBody: null, locale: null, variables: null });

      expect((await publish(tenant, templateId, version.id)).statusCode).toBe(200);
      const frozen = await getVersion(tenant, templateId, version.id);
      const refused = await ctx.request('PATCH', versionUrl(templateId, version.id), { tenant, body: { subject: 'changed' } });
      expect(refused.statusCode).toBe(409);
      const error = errorBody(refused);
      expect(error.code).toBe('INVALID_STATE');
      expect(error.message).toContain('PUBLISHED');
      expect(await getVersion(tenant, templateId, version.id)).toEqual(frozen);
    });

    it('publishes: CSS inlined, text derived, then 409 on a second publish', async () => {
      const tenant = await ctx.newTenant();
      const { templateId, version } = await createTemplate(tenant, {
        ...base,
        htmlBody:
          '<style>p { color: red } @media (max-width: 600px) { p { color: blue } }</style>' +
          '<h1>Hi {{ firstName }}</h1><p>Body</p><a href="{{ unsubscribeUrl }}">Unsubscribe</a>',
      });
      ctx.clock.advance(1000);
      const res = await publish(tenant, templateId, version.id);
      expect(res.statusCode, res.body).toBe(200);
      const publishedAt = ctx.clock.now.toISOString();
      expect(res.json()).toEqual({ id: version.id, status: 'PUBLISHED', publishedAt });

      const stored = await getVersion(tenant, templateId, version.id);
      expect(stored.status).toBe('PUBLISHED');
      expect(stored.publishedAt).toBe(publishedAt);
      expect(stored.htmlBody).toContain('<p style="color: red;">Body</p>');
      expect(stored.htmlBody).toContain('@media (max-width: 600px)');
      expect(stored.textBody).toBe('Hi {{ firstName }}\n\nBody\n\nUnsubscribe [{{ unsubscribeUrl }}]');

      const again = await publish(tenant, templateId, version.id);
      expect(again.statusCode).toBe(409);
      expect(errorBody(again)).toMatchObject({ code: 'INVALID_STATE', currentStatus: 'PUBLISHED' });
    });

    it('keeps a given text part on publish', async () => {
      const tenant = await ctx.newTenant();
      const { templateId, version } = await createTemplate(tenant, { ...base, textBody: 'Mine {{ firstName }}' });
      expect((await publish(tenant, templateId, version.id)).statusCode).toBe(200);
      expect((await getVersion(tenant, templateId, version.id)).textBody).toBe('Mine {{ firstName }}');
    });

    it('refuses a syntax error with 422 naming the part, and changes nothing', async () => {
      const tenant = await ctx.newTenant();
      const cases: [Record<string, unknown>, string][] = [
        [{ subject: 'Hi {{ firstName ' }, 'subject'],
        [{ htmlBody: '<p>{% if x %}open</p>' }, 'htmlBody'],
        [{ textBody: '{{ x | no_such_filter }}' }, 'textBody'],
        [{ htmlBody: "{% include 'header' %}" }, 'htmlBody'],
      ];
      for (const [fields, part] of cases) {
        const { templateId, version } = await createTemplate(tenant, { ...base, ...fields });
        const res = await publish(tenant, templateId, version.id);
        expect(res.statusCode, part).toBe(422);
        const error = errorBody(res);
        expect(error.code).toBe('TEMPLATE_SYNTAX');
        expect(error.message).toContain(part);
        expect(error.details?.[0]?.field).toBe(part);
        expect(await getVersion(tenant, templateId, version.id)).toEqual(version);
      }
    });

    it('unpublishes back to DRAFT (still frozen), and refuses when not published', async () => {
      const tenant = await ctx.newTenant();
      const { templateId, version } = await createTemplate(tenant);
      const early = await ctx.request('POST', `${versionUrl(templateId, version.id)}/unpublish`, { tenant });
      expect(early.statusCode).toBe(409);
      expect(errorBody(early)).toMatchObject({ code: 'INVALID_STATE', currentStatus: 'DRAFT' });

      await publish(tenant, templateId, version.id);
      const res = await ctx.request('POST', `${versionUrl(templateId, version.id)}/unpublish`, { tenant });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ id: version.id, status: 'DRAFT', publishedAt: null });
      // Unpublish only stops new use: a version ever published is never edited again (issue 12 item 5).
      const patched = await ctx.request('PATCH', versionUrl(templateId, version.id), { tenant, body: { subject: 'editable' } });
      expect(patched.statusCode).toBe(409);
      expect(errorBody(patched)).toMatchObject({ code: 'VERSION_FROZEN' });
    });

    it('lets only one of two racing publishes win', async () => {
      const tenant = await ctx.newTenant();
      const { templateId, version } = await createTemplate(tenant);
      const results = await Promise.all([1, 2, 3].map(() => publish(tenant, templateId, version.id)));
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409]);
    });
  });

  describe('locale variants', () => {
    it('groups en and es under the base version and finds the published variants', async () => {
      const tenant = await ctx.newTenant();
      const { templateId, version: en } = await createTemplate(tenant, { ...base, locale: 'en' });
      const es = await addVersion(tenant, templateId, { subject: 'Hola', htmlBody: '<p>Hola</p>', locale: 'es', localeGroupId: en.id });
      const fr = await addVersion(tenant, templateId, { subject: 'Salut', htmlBody: '<p>Salut</p>', locale: 'fr', localeGroupId: en.id });
      expect(es.localeGroupId).toBe(en.id);
      const unrelated = await addVersion(tenant, templateId, { subject: 'v2', htmlBody: '<p>v2</p>', locale: 'es' });

      for (const v of [en, es, unrelated]) expect((await publish(tenant, templateId, v.id)).statusCode).toBe(200);
      const repo = repositoriesOf(ctx.container.database).templates;
      const variants = await repo.publishedVariants(tenant.tenantId, en.id);
      expect(variants.map((v) => [v.id, v.locale])).toEqual([
        [en.id, 'en'],
        [es.id, 'es'],
      ]);
      expect((await repo.publishedVariants(tenant.tenantId, es.id)).map((v) => v.id)).toEqual([en.id, es.id]);
      expect(await repo.publishedVariants(tenant.tenantId, fr.id)).toHaveLength(2);
      const other = await ctx.newTenant();
      expect(await repo.publishedVariants(other.tenantId, en.id)).toEqual([]);
      expect(await repo.getVersion(other.tenantId, en.id)).toBeUndefined();
      expect((await repo.getVersion(tenant.tenantId, es.id))?.status).toBe('PUBLISHED');
    });

    it('refuses a second published version for the same locale in a group (409 naming the other)', async () => {
      const tenant = await ctx.newTenant();
      const { templateId, version: en } = await createTemplate(tenant, { ...base, locale: 'en' });
      const es1 = await addVersion(tenant, templateId, { subject: 'Hola', htmlBody: '<p>1</p>', locale: 'es', localeGroupId: en.id });
      const es2 = await addVersion(tenant, templateId, { subject: 'Hola', htmlBody: '<p>2</p>', locale: 'es', localeGroupId: en.id });
      expect((await publish(tenant, templateId, es1.id)).statusCode).toBe(200);
      const res = await publish(tenant, templateId, es2.id);
      expect(res.statusCode).toBe(409);
      const error = errorBody(res);
      expect(error.code).toBe('CONFLICT');
      expect(error.message).toContain(es1.id);
      expect(error.conflictingVersionId).toBe(es1.id);
      expect((await getVersion(tenant, templateId, es2.id)).status).toBe('DRAFT');

      // The anchor counts as a member of its own group.
      const en2 = await addVersion(tenant, templateId, { subject: 'Hi', htmlBody: '<p>x</p>', locale: 'en', localeGroupId: en.id });
      await publish(tenant, templateId, en2.id);
      expect((await publish(tenant, templateId, en.id)).statusCode).toBe(409);

      await ctx.request('POST', `${versionUrl(templateId, es1.id)}/unpublish`, { tenant });
      expect((await publish(tenant, templateId, es2.id)).statusCode).toBe(200);
    });

    it('lets only one of two same-locale variants win a publish race', async () => {
      const tenant = await ctx.newTenant();
      const { templateId, version: en } = await createTemplate(tenant, { ...base, locale: 'en' });
      const twins = await Promise.all(
        [1, 2, 3].map((i) =>
          addVersion(tenant, templateId, { subject: 'Hola', htmlBody: `<p>${i}</p>`, locale: 'es', localeGroupId: en.id }),
        ),
      );
      const results = await Promise.all(twins.map((v) => publish(tenant, templateId, v.id)));
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409]);
      for (const r of results.filter((r) => r.statusCode === 409)) expect(errorBody(r).code).toBe('CONFLICT');
      const published = await repositoriesOf(ctx.container.database).templates.publishedVariants(tenant.tenantId, en.id);
      expect(published.map((v) => v.locale)).toEqual(['es']);
    });

    it('refuses a localeGroupId that is not an anchor of the same template and tenant (422)', async () => {
      const tenant = await ctx.newTenant();
      const other = await ctx.newTenant();
      const { templateId, version: en } = await createTemplate(tenant, { ...base, locale: 'en' });
      const es = await addVersion(tenant, templateId, { subject: 'Hola', htmlBody: '<p>Hola</p>', locale: 'es', localeGroupId: en.id });
      const otherTemplate = await createTemplate(tenant);
      const foreign = await createTemplate(other);
      const before = await versionCount(tenant);
      for (const localeGroupId of [newId(), 'nope', es.id, otherTemplate.version.id, foreign.version.id]) {
        const res = await ctx.request('POST', versionsUrl(templateId), {
          tenant,
          body: { subject: 'x', htmlBody: 'y', locale: 'fr', localeGroupId },
        });
        expect(res.statusCode, localeGroupId).toBe(422);
        expect(errorBody(res).details?.[0]?.field).toBe('localeGroupId');
      }
      expect(await versionCount(tenant)).toBe(before);

      // PATCH: the same rule, and an anchor with members cannot join another group.
      const lone = await addVersion(tenant, templateId, { subject: 'x', htmlBody: 'y' });
      const joinMember = await ctx.request('PATCH', versionUrl(templateId, lone.id), { tenant, body: { localeGroupId: es.id } });
      expect(joinMember.statusCode).toBe(422);
      const moveAnchor = await ctx.request('PATCH', versionUrl(templateId, en.id), { tenant, body: { localeGroupId: lone.id } });
      expect(moveAnchor.statusCode).toBe(422);
      const join = await ctx.request('PATCH', versionUrl(templateId, lone.id), { tenant, body: { localeGroupId: en.id, locale: 'de' } });
      expect(join.statusCode).toBe(200);
      expect(join.json()).toMatchObject({ localeGroupId: en.id, locale: 'de' });
      const self = await ctx.request('PATCH', versionUrl(templateId, lone.id), { tenant, body: { localeGroupId: lone.id } });
      expect(self.json().localeGroupId).toBeNull();
    });
  });

  describe('preview', () => {
    const previewUrl = (templateId: string, versionId: string) => `${versionUrl(templateId, versionId)}/preview`;

    async function insertContact(tenantId: string, fields: { email: string; locale?: string; attributes: object }) {
      const id = newId();
      const now = new Date().toISOString();
      await ctx.container.database.db
        .insertInto('contacts' as never)
        .values({
          id,
          tenant_id: tenantId,
          email: fields.email,
          external_id: 'crm-9',
          locale: fields.locale ?? null,
          opt_in: 1,
          attributes: JSON.stringify(fields.attributes),
          created_at: now,
          updated_at: now,
        } as never)
        .execute();
      return id;
    }

    it('renders a draft with data as it would be sent, escaping HTML values', async () => {
      const tenant = await ctx.newTenant();
      const { templateId, version } = await createTemplate(tenant, {
        ...base,
        htmlBody: '<style>p { color: red }</style><p>Hello {{ firstName }}</p><a href="{{ unsubscribeUrl }}">u</a>',
        variables: [{ name: 'plan', type: 'string', fallback: 'free' }],
        textBody: '{{ firstName }} on {{ plan }} at {{ email }}',
      });
      const res = await ctx.request('POST', previewUrl(templateId, version.id), {
        tenant,
        body: { data: { firstName: '<b>Ana</b>' } },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({
        subject: 'Hi <b>Ana</b>',
        html: '<p style="color: red;">Hello &lt;b&gt;Ana&lt;/b&gt;</p><a href="https://example.invalid/u/preview">u</a>',
        text: '<b>Ana</b> on free at preview@example.invalid',
      });
      expect(await getVersion(tenant, templateId, version.id)).toEqual(version);
    });

    it('renders with a contact of the tenant, data overriding its attributes; unknown contact → 404', async () => {
      const tenant = await ctx.newTenant();
      const other = await ctx.newTenant();
      const { templateId, version } = await createTemplate(tenant, {
        ...base,
        subject: '{{ firstName }} {{ city }} ({{ locale }}, {{ contact.externalId }})',
        htmlBody: '<p>{{ contact.email }}</p>',
      });
      await publish(tenant, templateId, version.id);
      const contactId = await insertContact(tenant.tenantId, {
        email: 'ana@example.com',
        locale: 'es-MX',
        attributes: { firstName: 'Ana', city: 'Puebla' },
      });
      const res = await ctx.request('POST', previewUrl(templateId, version.id), {
        tenant,
        body: { contactId, data: { city: 'CDMX' } },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ subject: 'Ana CDMX (es-MX, crm-9)', html: '<p>ana@example.com</p>', text: 'ana@example.com' });

      const foreignContact = await insertContact(other.tenantId, { email: 'x@example.com', attributes: {} });
      for (const id of [newId(), 'nope', foreignContact]) {
        const missing = await ctx.request('POST', previewUrl(templateId, version.id), { tenant, body: { contactId: id } });
        expect(missing.statusCode).toBe(404);
        expect(errorBody(missing).message).toContain('Contact');
      }
    });

    it('accepts an empty body and answers 422 for a draft that does not parse', async () => {
      const tenant = await ctx.newTenant();
      const { templateId, version } = await createTemplate(tenant);
      const empty = await ctx.request('POST', previewUrl(templateId, version.id), { tenant });
      expect(empty.statusCode, empty.body).toBe(200);
      expect(empty.json().subject).toBe('Hi');
      const broken = await createTemplate(tenant, { ...base, htmlBody: '{% for %}' });
      const res = await ctx.request('POST', previewUrl(broken.templateId, broken.version.id), { tenant, body: {} });
      expect(res.statusCode).toBe(422);
      expect(errorBody(res).code).toBe('TEMPLATE_SYNTAX');
      const bad = await ctx.request('POST', previewUrl(templateId, version.id), { tenant, body: { data: 'x' } });
      expect(bad.statusCode).toBe(400);
    });
  });

  describe('isolation and scopes', () => {
    it("answers 404 for another tenant's templates and versions, and changes nothing", async () => {
      const owner = await ctx.newTenant();
      const intruder = await ctx.newTenant();
      const { templateId, version } = await createTemplate(owner);
      const requests: [string, string, unknown?][] = [
        ['GET', `/templates/${templateId}`],
        ['GET', versionsUrl(templateId)],
        ['GET', versionUrl(templateId, version.id)],
        ['POST', versionsUrl(templateId), { subject: 'x', htmlBody: 'y' }],
        ['PATCH', versionUrl(templateId, version.id), { subject: 'stolen' }],
        ['POST', `${versionUrl(templateId, version.id)}/publish`],
        ['POST', `${versionUrl(templateId, version.id)}/unpublish`],
        ['POST', `${versionUrl(templateId, version.id)}/preview`, {}],
      ];
      for (const [method, url, body] of requests) {
        const res = await ctx.request(method as 'GET', url, { tenant: intruder, body });
        expect(res.statusCode, `${method} ${url}`).toBe(404);
        expect(errorBody(res).code).toBe('NOT_FOUND');
      }
      expect((await ctx.request('GET', '/templates', { tenant: intruder })).json().meta.total).toBe(0);
      expect(await getVersion(owner, templateId, version.id)).toEqual(version);
      expect(await versionCount(owner)).toBe(1);
      expect(await versionCount(intruder)).toBe(0);
    });

    it('answers 403 INSUFFICIENT_SCOPE naming the scope, and writes nothing', async () => {
      const tenant = await ctx.newTenant();
      const { templateId, version } = await createTemplate(tenant);
      const before = await versionCount(tenant);
      const readOnly = await tenant.keyWith(['templates:read']);
      const writeOnly = await tenant.keyWith(['templates:write']);
      const writes: [string, string, unknown][] = [
        ['POST', '/templates', base],
        ['POST', versionsUrl(templateId), { subject: 'x', htmlBody: 'y' }],
        ['PATCH', versionUrl(templateId, version.id), { subject: 'x' }],
        ['POST', `${versionUrl(templateId, version.id)}/publish`, undefined],
        ['POST', `${versionUrl(templateId, version.id)}/unpublish`, undefined],
      ];
      for (const [method, url, body] of writes) {
        const res = await ctx.request(method as 'POST', url, { headers: readOnly.headers, body });
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(errorBody(res)).toMatchObject({ code: 'INSUFFICIENT_SCOPE', message: expect.stringContaining('templates:write') });
      }
      const reads: [string, string][] = [
        ['GET', '/templates'],
        ['GET', `/templates/${templateId}`],
        ['GET', versionsUrl(templateId)],
        ['GET', versionUrl(templateId, version.id)],
        ['POST', `${versionUrl(templateId, version.id)}/preview`],
      ];
      for (const [method, url] of reads) {
        const res = await ctx.request(method as 'GET', url, { headers: writeOnly.headers });
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(errorBody(res).message).toContain('templates:read');
        expect((await ctx.request(method as 'GET', url, { headers: readOnly.headers })).statusCode).toBe(200);
      }
      expect(await versionCount(tenant)).toBe(before);
      expect((await getVersion(tenant, templateId, version.id)).status).toBe('DRAFT');
    });
  });
});

export type { TestContext };
