import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestContext, type TestTenant } from '../helpers/app.js';
import { useRefusingSink } from '../helpers/smtp-sink.js';
import { addContacts, createCampaign, deliverAll, smtpProject } from '../helpers/flow.js';

/**
 * Issue 12 item 5: a version that was ever published is frozen. Editing an
 * unpublished version and publishing it again kept the text derived from
 * the old HTML; retry-failed sent edited draft content of a version
 * unpublished after the campaign finished.
 */
describe.each(DIALECTS)('published template versions are immutable (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  const refusing = useRefusingSink();

  async function template(tenant: TestTenant, html: string) {
    const res = await ctx.request('POST', '/templates', { tenant, body: { name: 'Frozen', subject: 'Hello', htmlBody: html } });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json() as { id: string; versions: { id: string }[] };
    return { templateId: body.id, versionId: body.versions[0]!.id };
  }
  const path = (t: string, v: string, action = '') => `/templates/${t}/versions/${v}${action}`;
  const call = (c: TestContext, tenant: TestTenant, method: 'POST' | 'PATCH' | 'GET', url: string, body?: unknown) =>
    c.request(method, url, { tenant, ...(body === undefined ? {} : { body }) });

  it('refuses to edit a published or unpublished-after-publish version (409 VERSION_FROZEN), and re-publishing changes nothing', async () => {
    const tenant = await ctx.newTenant();
    const { templateId, versionId } = await template(tenant, '<p>Original words</p>');
    expect((await call(ctx, tenant, 'POST', path(templateId, versionId, '/publish'))).statusCode).toBe(200);
    const published = (await call(ctx, tenant, 'GET', path(templateId, versionId))).json() as { htmlBody: string; textBody: string };

    const whilePublished = await call(ctx, tenant, 'PATCH', path(templateId, versionId), { htmlBody: '<p>Edited words</p>' });
    expect(whilePublished.statusCode).toBe(409);
    expect((await call(ctx, tenant, 'POST', path(templateId, versionId, '/unpublish'))).statusCode).toBe(200);
    const afterUnpublish = await call(ctx, tenant, 'PATCH', path(templateId, versionId), { htmlBody: '<p>Edited words</p>' });
    expect(afterUnpublish.statusCode, afterUnpublish.body).toBe(409);
    expect(errorBody(afterUnpublish)).toMatchObject({ code: 'VERSION_FROZEN' });
    expect(errorBody(afterUnpublish).message).toContain('fromVersionId');
    expect(errorBody(afterUnpublish).message).toContain(`POST /templates/{id}/versions`);

    expect((await call(ctx, tenant, 'POST', path(templateId, versionId, '/publish'))).statusCode).toBe(200);
    const republished = (await call(ctx, tenant, 'GET', path(templateId, versionId))).json() as { htmlBody: string; textBody: string };
    expect(republished).toMatchObject({ htmlBody: published.htmlBody, textBody: published.textBody });
    const preview = (await call(ctx, tenant, 'POST', path(templateId, versionId, '/preview'), {})).json() as { html: string; text: string };
    expect(preview.html).toContain('Original words');
    expect(preview.text).toContain('Original words');
    expect(preview.text).not.toContain('Edited');
  });

  it('starts a new draft from a version with fromVersionId: copied, overridable, its text derived again from the new HTML', async () => {
    const tenant = await ctx.newTenant();
    const { templateId, versionId } = await template(tenant, '<p>Original words</p>');
    await call(ctx, tenant, 'PATCH', path(templateId, versionId), { variables: [{ name: 'plan', type: 'string', fallback: 'free' }] });
    expect((await call(ctx, tenant, 'POST', path(templateId, versionId, '/publish'))).statusCode).toBe(200);

    const created = await call(ctx, tenant, 'POST', `/templates/${templateId}/versions`, { fromVersionId: versionId, htmlBody: '<p>Edited words</p>' });
    expect(created.statusCode, created.body).toBe(201);
    const draft = created.json() as { id: string; status: string; subject: string; htmlBody: string; textBody: string | null; variables: unknown };
    expect(draft).toMatchObject({ status: 'DRAFT', subject: 'Hello', htmlBody: '<p>Edited words</p>', textBody: null });
    expect(draft.variables).toEqual([expect.objectContaining({ name: 'plan' })]);
    // A draft is editable; publish it in place of the old one.
    expect((await call(ctx, tenant, 'PATCH', path(templateId, draft.id), { subject: 'Hello again' })).statusCode).toBe(200);
    expect((await call(ctx, tenant, 'POST', path(templateId, versionId, '/unpublish'))).statusCode).toBe(200);
    expect((await call(ctx, tenant, 'POST', path(templateId, draft.id, '/publish'))).statusCode).toBe(200);
    const preview = (await call(ctx, tenant, 'POST', path(templateId, draft.id, '/preview'), {})).json() as { subject: string; text: string };
    expect(preview).toMatchObject({ subject: 'Hello again' });
    expect(preview.text).toContain('Edited words');
    expect(preview.text).not.toContain('Original');

    // Only a version of the same template and tenant.
    const other = await template(tenant, '<p>Other</p>');
    const foreign = await call(ctx, tenant, 'POST', `/templates/${templateId}/versions`, { fromVersionId: other.versionId });
    expect(foreign.statusCode).toBe(422);
    const stranger = await ctx.newTenant();
    const theirs = await template(stranger, '<p>Theirs</p>');
    const cross = await call(ctx, tenant, 'POST', `/templates/${templateId}/versions`, { fromVersionId: theirs.versionId });
    expect(cross.statusCode).toBe(422);
    // Without fromVersionId, subject and htmlBody are still required.
    const bare = await call(ctx, tenant, 'POST', `/templates/${templateId}/versions`, { locale: 'es' });
    expect(bare.statusCode).toBe(400);
  });

  it('retry-failed never sends edited draft content: the worker refuses a version that is not PUBLISHED', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [{ email: 'ok@frozen.test' }, { email: 'rejected@frozen.test' }]);
    const { templateId, versionId } = await template(tenant, '<p>Approved content <a href="{{ unsubscribeUrl }}">unsubscribe</a></p>');
    expect((await call(ctx, tenant, 'POST', path(templateId, versionId, '/publish'))).statusCode).toBe(200);
    const projectId = await smtpProject(ctx, tenant, refusing.sink.port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: versionId, projectId });
    refusing.refuseOnce('rejected@frozen.test');
    expect((await call(ctx, tenant, 'POST', `/campaigns/${id}/send`)).statusCode).toBe(202);
    const first = await deliverAll(ctx, tenant, id, ctx.container.createWorker());
    expect(first.counters).toMatchObject({ sent: 1, failed: 1 });

    // The campaign is finished: the version may be unpublished, but not edited.
    expect((await call(ctx, tenant, 'POST', path(templateId, versionId, '/unpublish'))).statusCode).toBe(200);
    const edit = await call(ctx, tenant, 'PATCH', path(templateId, versionId), { htmlBody: '<p>EDITED DRAFT CONTENT</p>' });
    expect(edit.statusCode).toBe(409);

    const before = refusing.sink.messages.length;
    const retried = await call(ctx, tenant, 'POST', `/campaigns/${id}/retry-failed`);
    expect(retried.statusCode, retried.body).toBe(200);
    const after = await deliverAll(ctx, tenant, id, ctx.container.createWorker());
    expect(refusing.sink.messages.length).toBe(before); // nothing sent from an unpublished version
    expect(refusing.sink.messages.some((m) => m.raw.toString().includes('EDITED'))).toBe(false);
    expect(after.counters).toMatchObject({ sent: 1, failed: 1 });
    const log = (await call(ctx, tenant, 'GET', `/campaigns/${id}/messages?status=FAILED`)).json().data as { email: string; lastError: string }[];
    expect(log).toEqual([expect.objectContaining({ email: 'rejected@frozen.test', lastError: expect.stringContaining('not published') })]);
  }, 60_000);
});
