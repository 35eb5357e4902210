import { repositoriesOf } from '../helpers/factories.js';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp } from '../helpers/app.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import {
  addContacts,
  createCampaign,
  deliverAll,
  getCampaign,
  publishedTemplate,
  smtpProject,
  waitForFanOut,
} from '../helpers/flow.js';

const fastRetries = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 1000 };

const bilingual = {
  en: { subject: 'News for {{ first_name }}', html: '<p>Hello {{ first_name }}</p><a href="{{ unsubscribeUrl }}">Unsubscribe</a>' },
  es: { subject: 'Noticias para {{ first_name }}', html: '<p>Hola {{ first_name }}</p><a href="{{ unsubscribeUrl }}">Baja</a>' },
};

describe.each(DIALECTS)('send pipeline (%s)', (dialect) => {
  const ctx = useTestApp(dialect);
  let sink: SmtpSink;
  const softFailures = new Map<string, number>();

  beforeAll(async () => {
    sink = await startSmtpSink({
      recipientResponse: (address) => {
        if (address.startsWith('bounce')) return { code: 550, message: 'No such user' };
        const left = softFailures.get(address) ?? 0;
        if (left > 0) {
          softFailures.set(address, left - 1);
          return { code: 451, message: 'Try again later' };
        }
        return undefined;
      },
    });
  });
  afterAll(async () => sink?.close());

  const received = (domain: string) => sink.messages.filter((m) => m.envelope.to.some((to) => to.endsWith(`@${domain}`)));

  it('routes each contact to its locale variant and never mails suppressed or opted-out contacts', async () => {
    const tenant = await ctx.newTenant();
    const domain = 'routing.test';
    await addContacts(ctx, tenant, [
      { email: `en@${domain}`, locale: 'en', attributes: { first_name: 'Ann' } },
      { email: `es@${domain}`, locale: 'es', attributes: { first_name: 'Bea' } },
      { email: `mx@${domain}`, locale: 'es-MX', attributes: { first_name: 'Carla' } },
      { email: `fr@${domain}`, locale: 'fr', attributes: { first_name: 'Dan' } },
      { email: `none@${domain}`, attributes: { first_name: 'Eve' } },
      { email: `optout@${domain}`, locale: 'en', optIn: false, attributes: { first_name: 'Finn' } },
      { email: `suppressed@${domain}`, locale: 'es', attributes: { first_name: 'Gus' } },
    ]);
    expect((await ctx.request('POST', '/suppressions', { tenant, body: { email: `suppressed@${domain}`, reason: 'manual' } })).statusCode).toBe(201);
    const { baseVersionId } = await publishedTemplate(ctx, tenant, bilingual);
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });

    const sent = await ctx.request('POST', `/campaigns/${id}/send`, { tenant });
    expect(sent.statusCode, sent.body).toBe(202);
    expect(sent.json().status).toBe('SENDING');
    const campaign = await deliverAll(ctx, tenant, id, ctx.container.createWorker({ retry: fastRetries }));

    expect(campaign.status).toBe('SENT');
    expect(campaign.completedAt).not.toBeNull();
    expect(campaign.counters).toEqual({ total: 5, queued: 0, sent: 5, failed: 0, cancelled: 0, skipped: { quota: 0, suppressed: 0, optedOut: 0, erased: 0 } });
    const subjects = Object.fromEntries(received(domain).map((m) => [m.envelope.to[0], m.parsed.subject]));
    expect(subjects).toEqual({
      [`en@${domain}`]: 'News for Ann',
      [`es@${domain}`]: 'Noticias para Bea',
      [`mx@${domain}`]: 'Noticias para Carla',
      [`fr@${domain}`]: 'News for Dan',
      [`none@${domain}`]: 'News for Eve',
    });

    const message = received(domain).find((m) => m.envelope.to[0] === `es@${domain}`)!;
    expect(message.parsed.from?.value[0]).toMatchObject({ address: 'news@acme.test', name: 'Acme News' });
    expect(message.parsed.replyTo?.value[0]?.address).toBe('support@acme.test');
    expect(message.parsed.text).toContain('Hola Bea');
    const raw = message.raw.toString();
    expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    expect(raw).toMatch(/^List-Unsubscribe:\s*<http:\/\/127\.0\.0\.1:3000\/u\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+>/m);
    // {{ unsubscribeUrl }} in the body is the same signed link as the header.
    const headerUrl = /^List-Unsubscribe:\s*<([^>]+)>/m.exec(raw)![1];
    expect(message.parsed.html).toContain(`href="${headerUrl}"`);
    expect(message.parsed.messageId).toMatch(new RegExp(`^<${id}\\.\\d+@acme\\.test>$`));

    const log = await ctx.request('GET', `/campaigns/${id}/messages?limit=10`, { tenant });
    const locales = Object.fromEntries((log.json().data as { email: string; locale: string | null; status: string }[]).map((m) => [m.email, `${m.locale}:${m.status}`]));
    expect(locales).toEqual({
      [`en@${domain}`]: 'en:SENT',
      [`es@${domain}`]: 'es:SENT',
      [`mx@${domain}`]: 'es:SENT',
      [`fr@${domain}`]: 'en:SENT',
      [`none@${domain}`]: 'en:SENT',
    });

    // The recipients log pages in id order, its total the same on every page (counted or told by a short last page).
    const page = async (n: number) => (await ctx.request('GET', `/campaigns/${id}/messages?limit=2&page=${n}`, { tenant })).json();
    const pages = [await page(1), await page(2), await page(3)];
    expect(pages.map((p) => p.meta.total)).toEqual([5, 5, 5]);
    const ids = pages.flatMap((p) => (p.data as { id: number }[]).map((m) => m.id));
    expect(ids).toHaveLength(5);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(5);
  });

  it('refreshes the message table’s planner statistics on request (PostgreSQL; SQLite keeps none)', async () => {
    const { db } = ctx.container.database;
    await repositoriesOf(ctx.container.database).messages.refreshStatistics();
    if (dialect !== 'postgres') return;
    // A table this small is read whole by ANALYZE: its row estimate is then exact (-1 or stale before).
    const estimate = await sql<{ reltuples: number }>`select reltuples from pg_class where relname = 'messages'`.execute(db);
    const rows = await db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(estimate.rows[0]!.reltuples)).toBe(Number(rows.n));
  });

  it('adds nothing when the fan-out runs again', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [{ email: 'a@again.test' }, { email: 'b@again.test' }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    await ctx.request('POST', `/campaigns/${id}/send`, { tenant });
    await waitForFanOut(ctx, tenant, id);
    expect(await ctx.container.fanout.run(tenant.tenantId, id)).toBeUndefined();
    // Even forced to run again (as after a crash before the end was recorded), it resumes after the
    // last contact queued: nothing added, nothing counted twice against the quota.
    await ctx.container.database.db.updateTable('campaigns').set({ fanout_completed_at: null, fanout_lease_until: null }).where('id', '=', id).execute();
    const again = await ctx.container.fanout.run(tenant.tenantId, id);
    expect(again).toEqual({ matched: 2, queued: 2, skippedQuota: 0 });
    const messages = await ctx.container.database.db.selectFrom('messages').select('contact_id').where('campaign_id', '=', id).execute();
    expect(messages).toHaveLength(2);
    const usage = await ctx.container.database.db.selectFrom('usage').select('used').where('tenant_id', '=', tenant.tenantId).execute();
    expect(usage.map((u) => Number(u.used))).toEqual([2]);
  });

  it('refuses to send without a published template (422) or from a final state (409)', async () => {
    const tenant = await ctx.newTenant();
    const bare = await createCampaign(ctx, tenant, {});
    const noTemplate = await ctx.request('POST', `/campaigns/${bare}/send`, { tenant });
    expect(noTemplate.statusCode).toBe(422);
    expect(errorBody(noTemplate).code).toBe('TEMPLATE_REQUIRED');

    const draft = await ctx.request('POST', '/templates', { tenant, body: { name: 't', subject: 's', htmlBody: '<p>x</p>' } });
    const draftVersion = draft.json().versions[0].id as string;
    const withDraft = await createCampaign(ctx, tenant, { templateVersionId: draftVersion });
    const unpublished = await ctx.request('POST', `/campaigns/${withDraft}/send`, { tenant });
    expect(unpublished.statusCode).toBe(422);
    expect(errorBody(unpublished).code).toBe('TEMPLATE_NOT_PUBLISHED');
    const schedule = await ctx.request('POST', `/campaigns/${withDraft}/schedule`, {
      tenant,
      body: { scheduledAt: new Date(ctx.clock.now.getTime() + 60_000).toISOString() },
    });
    expect(schedule.statusCode).toBe(422);
    expect((await getCampaign(ctx, tenant, withDraft)).status).toBe('DRAFT');

    await ctx.request('POST', `/campaigns/${bare}/cancel`, { tenant });
    const cancelled = await ctx.request('POST', `/campaigns/${bare}/send`, { tenant });
    expect(cancelled.statusCode).toBe(409);
    expect(errorBody(cancelled)).toMatchObject({ code: 'INVALID_STATE', currentStatus: 'CANCELLED' });
  });

  it('refuses a send over the quota ceiling up front, and a scheduled one queues only what fits', async () => {
    const { tenant: t } = await ctx.container.tenants.create({ name: 'Small', monthlyQuota: 10 });
    const key = (await ctx.container.apiKeys.list(t.id))[0]!;
    void key;
    const tenant = await ctx.newTenant('placeholder');
    // A tenant with a 10-email quota (ceiling 11) and 12 contacts.
    const small = await (async () => {
      const created = await ctx.container.tenants.create({ name: 'Quota', monthlyQuota: 10 });
      return { tenantId: created.tenant.id, apiKey: created.apiKey, headers: { authorization: `Bearer ${created.apiKey}`, 'x-tenant-id': created.tenant.id }, keyWith: tenant.keyWith };
    })();
    await addContacts(ctx, small, Array.from({ length: 12 }, (_, i) => ({ email: `q${i}@quota.test` })));
    const { baseVersionId } = await publishedTemplate(ctx, small);
    const now = await createCampaign(ctx, small, { templateVersionId: baseVersionId });

    const refused = await ctx.request('POST', `/campaigns/${now}/send`, { tenant: small });
    expect(refused.statusCode).toBe(429);
    expect(errorBody(refused)).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: { limit: 10, used: 0, percentage: 0 } });
    expect((await getCampaign(ctx, small, now)).status).toBe('DRAFT');
    expect(await ctx.container.database.db.selectFrom('messages').select('id').where('campaign_id', '=', now).execute()).toHaveLength(0);

    const scheduled = await createCampaign(ctx, small, { templateVersionId: baseVersionId });
    await ctx.request('POST', `/campaigns/${scheduled}/schedule`, {
      tenant: small,
      body: { scheduledAt: new Date(ctx.clock.now.getTime() + 60_000).toISOString() },
    });
    ctx.clock.advance(61_000);
    await ctx.container.createScheduler().tick();
    const fannedOut = await getCampaign(ctx, small, scheduled);
    expect(fannedOut.counters).toMatchObject({ total: 12, queued: 11, skipped: { quota: 1, suppressed: 0 } });

    const usage = await ctx.request('GET', '/usage', { tenant: small });
    expect(usage.json()).toMatchObject({ limit: 10, used: 11, percentage: 110 });
    expect(usage.headers['x-quota-limit']).toBe('10');
    expect(usage.headers['x-quota-used']).toBe('11');
    expect(usage.headers['x-quota-percentage']).toBe('110');
    expect(usage.headers['x-quota-warning']).toBe('true');
    const fresh = await ctx.request('GET', '/campaigns', { tenant });
    expect(fresh.headers['x-quota-used']).toBe('0');
    expect(fresh.headers['x-quota-warning']).toBeUndefined();
  });

  it('accepts a send whose audience fits the quota although the tenant has more contacts than fit', async () => {
    const created = await ctx.container.tenants.create({ name: 'Quota bound', monthlyQuota: 10 });
    const tenant = { tenantId: created.tenant.id, apiKey: created.apiKey, headers: { authorization: `Bearer ${created.apiKey}`, 'x-tenant-id': created.tenant.id }, keyWith: (await ctx.newTenant()).keyWith };
    // 14 contacts, more than the ceiling of 11; the audience is 10 of them: 2 opted out, 2 suppressed.
    await addContacts(ctx, tenant, [
      ...Array.from({ length: 10 }, (_, i) => ({ email: `in${i}@bound.test` })),
      { email: 'out1@bound.test', optIn: false },
      { email: 'out2@bound.test', optIn: false },
      { email: 'gone1@bound.test' },
      { email: 'gone2@bound.test' },
    ]);
    for (const email of ['gone1@bound.test', 'gone2@bound.test']) {
      expect((await ctx.request('POST', '/suppressions', { tenant, body: { email, reason: 'manual' } })).statusCode).toBe(201);
    }
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    const sent = await ctx.request('POST', `/campaigns/${id}/send`, { tenant });
    expect(sent.statusCode, sent.body).toBe(202);
    await waitForFanOut(ctx, tenant, id);
    expect((await getCampaign(ctx, tenant, id)).counters).toMatchObject({ total: 10, queued: 10, skipped: { quota: 0 } });
  });

  it('starts a scheduled campaign when its time comes, once', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [{ email: 'a@sched.test' }, { email: 'b@sched.test' }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    const at = new Date(ctx.clock.now.getTime() + 5 * 60_000);
    await ctx.request('POST', `/campaigns/${id}/schedule`, { tenant, body: { scheduledAt: at.toISOString() } });

    const [s1, s2] = [ctx.container.createScheduler(), ctx.container.createScheduler()];
    await Promise.all([s1.tick(), s2.tick()]);
    expect((await getCampaign(ctx, tenant, id)).status).toBe('SCHEDULED');
    ctx.clock.advance(5 * 60_000);
    await Promise.all([s1.tick(), s2.tick()]);
    const started = await getCampaign(ctx, tenant, id);
    expect(started.status).toBe('SENDING');
    expect(started.counters.queued).toBe(2);
    const done = await deliverAll(ctx, tenant, id, ctx.container.createWorker());
    expect(done.counters.sent).toBe(2);
    expect(received('sched.test')).toHaveLength(2);
  });

  it('cancels mid-send: queued messages are cancelled, in-flight ones finish, counters are final', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, Array.from({ length: 20 }, (_, i) => ({ email: `c${i}@cancel.test` })));
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    await ctx.request('POST', `/campaigns/${id}/send`, { tenant });
    await waitForFanOut(ctx, tenant, id);
    const worker = ctx.container.createWorker({ batchSize: 5 });
    expect(await worker.runOnce()).toBe(5);

    const cancel = await ctx.request('POST', `/campaigns/${id}/cancel`, { tenant });
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json().status).toBe('CANCELLED');
    expect(await worker.runOnce()).toBe(0);
    const campaign = await getCampaign(ctx, tenant, id);
    expect(campaign.counters).toMatchObject({ total: 20, queued: 0, sent: 5, cancelled: 15 });
    expect(received('cancel.test')).toHaveLength(5);
    const again = await ctx.request('POST', `/campaigns/${id}/cancel`, { tenant });
    expect(again.statusCode).toBe(409);

    // A retry recorded after the cancel re-queues a message: the next outcome write cancels it — only in a cancelled campaign.
    const { db } = ctx.container.database;
    const messages = repositoriesOf(ctx.container.database).messages;
    const straggler = await db.selectFrom('messages').select('id').where('campaign_id', '=', id).where('status', '=', 'CANCELLED').executeTakeFirstOrThrow();
    await db.updateTable('messages').set({ status: 'QUEUED' }).where('id', '=', straggler.id).execute();
    const other = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    await ctx.request('POST', `/campaigns/${other}/send`, { tenant });
    await waitForFanOut(ctx, tenant, other);
    const at = new Date().toISOString();
    expect(await messages.cancelStragglers(tenant.tenantId, other, at)).toBe(0);
    expect(await messages.cancelStragglers(tenant.tenantId, id, at)).toBe(1);
    const statuses = await db.selectFrom('messages').select(['campaign_id', 'status']).where('campaign_id', 'in', [id, other]).execute();
    expect(statuses.filter((m) => m.campaign_id === id && m.status === 'QUEUED')).toHaveLength(0);
    expect(statuses.filter((m) => m.campaign_id === other && m.status === 'QUEUED')).toHaveLength(20);
  });

  it('sends test emails with the contact’s data and variant, without touching status or counters', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [{ email: 'known@testsend.test', locale: 'es', attributes: { first_name: 'Lola' } }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant, bilingual);
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });

    const res = await ctx.request('POST', `/campaigns/${id}/test`, {
      tenant,
      body: { emails: ['known@testsend.test', 'stranger@testsend.test'] },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().results.map((r: { status: string }) => r.status)).toEqual(['sent', 'sent']);
    const subjects = Object.fromEntries(received('testsend.test').map((m) => [m.envelope.to[0], m.parsed.subject]));
    expect(subjects).toEqual({ 'known@testsend.test': '[Test] Noticias para Lola', 'stranger@testsend.test': '[Test] News for' });
    const campaign = await getCampaign(ctx, tenant, id);
    expect(campaign.status).toBe('DRAFT');
    expect(campaign.counters.sent).toBe(0);

    // A chosen locale picks the variant for every copy, the contact's data still fills it.
    const before = sink.messages.length;
    const chosen = await ctx.request('POST', `/campaigns/${id}/test`, {
      tenant,
      body: { emails: ['known@testsend.test', 'other@testlocale.test'], locale: 'es-mx' },
    });
    expect(chosen.statusCode, chosen.body).toBe(200);
    expect(chosen.json().results.map((r: { status: string }) => r.status)).toEqual(['sent', 'sent']);
    const withLocale = Object.fromEntries(sink.messages.slice(before).map((m) => [m.envelope.to[0], m.parsed.subject]));
    expect(withLocale).toEqual({ 'known@testsend.test': '[Test] Noticias para Lola', 'other@testlocale.test': '[Test] Noticias para' });
    const english = await ctx.request('POST', `/campaigns/${id}/test`, { tenant, body: { emails: ['known@testsend.test'], locale: 'en' } });
    expect(english.statusCode, english.body).toBe(200);
    expect(sink.messages.at(-1)!.parsed.subject).toBe('[Test] News for Lola');
    const badLocale = await ctx.request('POST', `/campaigns/${id}/test`, { tenant, body: { emails: ['known@testsend.test'], locale: 'not a tag' } });
    expect(badLocale.statusCode).toBe(400);
    expect(errorBody(badLocale).details).toEqual([expect.objectContaining({ field: 'locale' })]);

    for (const body of [{ emails: [] }, { emails: Array.from({ length: 6 }, (_, i) => `x${i}@t.test`) }, { emails: ['not-an-email'] }, {}]) {
      const bad = await ctx.request('POST', `/campaigns/${id}/test`, { tenant, body });
      expect(bad.statusCode, JSON.stringify(body)).toBe(400);
    }
  });

  it('unsubscribes through the List-Unsubscribe URL, and queued emails to that address are skipped', async () => {
    const tenant = await ctx.newTenant();
    const [aliceId] = await addContacts(ctx, tenant, [
      { email: 'alice@unsub.test', locale: 'es' },
      { email: 'bob@unsub.test', locale: 'en' },
    ]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const first = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    const second = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    await ctx.request('POST', `/campaigns/${first}/send`, { tenant });
    await deliverAll(ctx, tenant, first, ctx.container.createWorker());
    await ctx.request('POST', `/campaigns/${second}/send`, { tenant });
    await waitForFanOut(ctx, tenant, second);

    const email = received('unsub.test').find((m) => m.envelope.to[0] === 'alice@unsub.test')!;
    const url = new URL(/^List-Unsubscribe:\s*<([^>]+)>/m.exec(email.raw.toString())![1]!);
    const page = await ctx.request('GET', url.pathname);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('Darme de baja'); // Alice's locale is es
    expect((await ctx.request('GET', `${url.pathname}?lang=de`)).body).toContain('Abmelden');

    const oneClick = await ctx.request('POST', url.pathname, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.statusCode).toBe(200);
    expect(oneClick.body).toContain('Te has dado de baja');
    const contact = await ctx.request('GET', `/contacts/${aliceId}`, { tenant });
    expect(contact.json().optIn).toBe(false);
    const suppression = await repositoriesOf(ctx.container.database).suppressions.get(tenant.tenantId, 'alice@unsub.test');
    expect(suppression?.reason).toBe('unsubscribe');

    sink.reset();
    const done = await deliverAll(ctx, tenant, second, ctx.container.createWorker());
    expect(done.counters).toMatchObject({ sent: 1, skipped: { quota: 0, suppressed: 1 } });
    expect(received('unsub.test').map((m) => m.envelope.to[0])).toEqual(['bob@unsub.test']);

    const tampered = url.pathname.slice(0, -2) + (url.pathname.endsWith('AA') ? 'BB' : 'AA');
    for (const path of [tampered, '/u/garbage', '/u/' + 'x'.repeat(300)]) {
      const res = await ctx.request('POST', path);
      expect(res.statusCode, path).toBe(400);
      expect(res.headers['content-type']).toContain('text/html');
    }
  });

  it('retries 4xx with backoff, fails and suppresses on a 5xx to the recipient, and re-queues failed ones on request', async () => {
    const tenant = await ctx.newTenant();
    softFailures.set('soft@retry.test', 2);
    softFailures.set('hopeless@retry.test', 100);
    await addContacts(ctx, tenant, [
      { email: 'soft@retry.test' },
      { email: 'bounce@retry.test' },
      { email: 'hopeless@retry.test' },
      { email: 'fine@retry.test' },
    ]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    await ctx.request('POST', `/campaigns/${id}/send`, { tenant });
    const done = await deliverAll(ctx, tenant, id, ctx.container.createWorker({ retry: fastRetries }));
    expect(done.status).toBe('SENT');
    expect(done.counters).toMatchObject({ sent: 2, failed: 2 });

    const log = (await ctx.request('GET', `/campaigns/${id}/messages`, { tenant })).json().data as {
      email: string;
      status: string;
      attempts: number;
      lastError: string | null;
    }[];
    const byEmail = Object.fromEntries(log.map((m) => [m.email, m]));
    expect(byEmail['soft@retry.test']).toMatchObject({ status: 'SENT', attempts: 3 });
    expect(byEmail['bounce@retry.test']).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(byEmail['bounce@retry.test']!.lastError).toContain('550');
    expect(byEmail['hopeless@retry.test']).toMatchObject({ status: 'FAILED', attempts: 3 });
    expect(byEmail['hopeless@retry.test']!.lastError).toContain('451');
    expect((await repositoriesOf(ctx.container.database).suppressions.get(tenant.tenantId, 'bounce@retry.test'))?.reason).toBe('bounce');
    expect(await repositoriesOf(ctx.container.database).suppressions.get(tenant.tenantId, 'hopeless@retry.test')).toBeUndefined();

    const failedOnly = await ctx.request('GET', `/campaigns/${id}/messages?status=FAILED`, { tenant });
    expect(failedOnly.json().meta.total).toBe(2);

    softFailures.set('hopeless@retry.test', 0);
    const retry = await ctx.request('POST', `/campaigns/${id}/retry-failed`, { tenant });
    expect(retry.statusCode).toBe(200);
    expect(retry.json().requeued).toBe(1); // the bounced address stays failed
    expect(retry.json().campaign.status).toBe('SENDING');
    const final = await deliverAll(ctx, tenant, id, ctx.container.createWorker({ retry: fastRetries }));
    expect(final.counters).toMatchObject({ sent: 3, failed: 1 });
  });

  it('captures emails as .eml files without an SMTP server, and test-mode keys never reach SMTP', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [{ email: 'reader@capture.test', attributes: { first_name: 'Ida' } }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    await ctx.request('POST', `/campaigns/${id}/send`, { tenant });
    await deliverAll(ctx, tenant, id, ctx.container.createWorker());
    const [message] = (await ctx.request('GET', `/campaigns/${id}/messages`, { tenant })).json().data as { id: number }[];
    const raw = await ctx.request('GET', `/campaigns/${id}/messages/${message!.id}/raw`, { tenant });
    expect(raw.statusCode).toBe(200);
    expect(raw.headers['content-type']).toContain('message/rfc822');
    expect(raw.body).toContain('Subject: Hello Ida');
    expect(raw.body).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect((await ctx.request('GET', `/campaigns/${id}/messages/999999/raw`, { tenant })).statusCode).toBe(404);
    expect((await ctx.request('GET', `/campaigns/${id}/messages/../../etc/raw`, { tenant })).statusCode).toBe(404);

    const testKey = await tenant.keyWith(['campaigns:read', 'campaigns:write', 'campaigns:send'], 'test');
    await addContacts(ctx, tenant, [{ email: 'tm@testmode.test' }]);
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const viaTest = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId, audienceFilter: { attributes: {} } });
    const send = await ctx.request('POST', `/campaigns/${viaTest}/send`, { headers: testKey.headers });
    expect(send.statusCode).toBe(202);
    const settled = await deliverAll(ctx, tenant, viaTest, ctx.container.createWorker());
    expect(settled.counters.sent).toBe(2);
    expect(received('testmode.test')).toHaveLength(0);
    expect(received('capture.test')).toHaveLength(0);
  });

  it('erases a deleted contact from the message history, keeping the counts', async () => {
    const tenant = await ctx.newTenant();
    const [goneId] = await addContacts(ctx, tenant, [{ email: 'gone@erase.test', externalId: 'ext-gone' }, { email: 'stays@erase.test' }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    await ctx.request('POST', `/campaigns/${id}/send`, { tenant });
    await deliverAll(ctx, tenant, id, ctx.container.createWorker());
    expect((await ctx.request('DELETE', '/contacts/ext-gone', { tenant })).statusCode).toBe(204);

    const log = (await ctx.request('GET', `/campaigns/${id}/messages`, { tenant })).json().data as { email: string | null; contactId: string | null }[];
    expect(log.map((m) => m.email).sort()).toEqual([null, 'stays@erase.test'].sort());
    expect(log.some((m) => m.contactId === goneId)).toBe(false);
    expect((await getCampaign(ctx, tenant, id)).counters.sent).toBe(2);
    expect(await repositoriesOf(ctx.container.database).suppressions.isSuppressed(tenant.tenantId, 'gone@erase.test')).toBe(true);
  });

  it('never sends a message whose campaign was cancelled after it was claimed', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [{ email: 'a@late.test' }, { email: 'b@late.test' }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, projectId });
    await ctx.request('POST', `/campaigns/${id}/send`, { tenant });
    await waitForFanOut(ctx, tenant, id);
    // A worker claims both, then dies; the campaign is cancelled; the leases run out.
    const repo = ctx.container.deliveryStore;
    expect(await repo.claimDue('dead-worker', 10, ctx.clock.now, 1000)).toHaveLength(2);
    expect((await ctx.request('POST', `/campaigns/${id}/cancel`, { tenant })).statusCode).toBe(200);
    ctx.clock.advance(2000);
    await ctx.container.createScheduler().tick(); // returns the expired leases to the queue
    expect(await ctx.container.createWorker().runOnce()).toBe(2);
    expect(received('late.test')).toHaveLength(0);
    const campaign = await getCampaign(ctx, tenant, id);
    expect(campaign.status).toBe('CANCELLED');
    expect(campaign.counters).toMatchObject({ sent: 0, cancelled: 2, queued: 0 });
    const retry = await ctx.request('POST', `/campaigns/${id}/retry-failed`, { tenant });
    expect(retry.statusCode).toBe(409);
  });

  it('records a send whose lease ran out before the outcome, instead of sending it again', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [{ email: 'slow@lease.test' }]);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    await ctx.request('POST', `/campaigns/${id}/send`, { tenant });
    await waitForFanOut(ctx, tenant, id);
    const repo = ctx.container.deliveryStore;
    const [claimed] = await repo.claimDue('slow-worker', 10, ctx.clock.now, 1000);
    ctx.clock.advance(2000);
    expect(await repo.releaseLeases(ctx.clock.now)).toBe(1); // back to QUEUED, nobody claimed it yet
    await repo.recordOutcomes('slow-worker', [{ id: claimed!.id, tenantId: tenant.tenantId, campaignId: id, kind: 'sent', providerMessageId: '<x>', response: '250 ok' }], ctx.clock.now);
    expect(await ctx.container.createWorker().runOnce()).toBe(0);
    await ctx.container.createScheduler().tick(); // the completion sweep
    const campaign = await getCampaign(ctx, tenant, id);
    expect(campaign).toMatchObject({ status: 'SENT', counters: { sent: 1, queued: 0 } });
  });

  it('refuses a test send to a suppressed address, however it is written', async () => {
    const tenant = await ctx.newTenant();
    await ctx.request('POST', '/suppressions', { tenant, body: { email: 'gone@suppressed.test', reason: 'unsubscribe' } });
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    const res = await ctx.request('POST', `/campaigns/${id}/test`, { tenant, body: { emails: ['ok@suppressed.test', 'gone@SUPPRESSED.test'] } });
    expect(res.statusCode).toBe(422);
    expect(errorBody(res)).toMatchObject({ code: 'SUPPRESSED_RECIPIENT' });
    expect(received('suppressed.test')).toHaveLength(0);
  });

  it('refuses to unpublish a template version a scheduled campaign will send', async () => {
    const tenant = await ctx.newTenant();
    const { baseVersionId, versionIds } = await publishedTemplate(ctx, tenant, bilingual);
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    await ctx.request('POST', `/campaigns/${id}/schedule`, { tenant, body: { scheduledAt: new Date(ctx.clock.now.getTime() + 60_000).toISOString() } });
    const versions = (await ctx.request('GET', `/templates/${(await repositoriesOf(ctx.container.database).templates.getVersion(tenant.tenantId, baseVersionId))!.template_id}/versions`, { tenant })).json().data as { id: string; templateId: string }[];
    const templateId = versions[0]!.templateId;
    for (const versionId of [baseVersionId, versionIds.es!]) {
      const res = await ctx.request('POST', `/templates/${templateId}/versions/${versionId}/unpublish`, { tenant });
      expect(res.statusCode).toBe(409);
      expect(errorBody(res).code).toBe('VERSION_IN_USE');
    }
    await ctx.request('POST', `/campaigns/${id}/cancel`, { tenant });
    expect((await ctx.request('POST', `/templates/${templateId}/versions/${versionIds.es}/unpublish`, { tenant })).statusCode).toBe(200);
  });

  it("keeps each tenant's sending endpoints to its own campaigns", async () => {
    const a = await ctx.newTenant('A');
    const b = await ctx.newTenant('B');
    const { baseVersionId } = await publishedTemplate(ctx, a);
    const id = await createCampaign(ctx, a, { templateVersionId: baseVersionId });
    for (const [method, url, body] of [
      ['POST', `/campaigns/${id}/send`, undefined],
      ['POST', `/campaigns/${id}/test`, { emails: ['x@y.test'] }],
      ['GET', `/campaigns/${id}/messages`, undefined],
      ['POST', `/campaigns/${id}/retry-failed`, undefined],
      ['GET', `/campaigns/${id}/messages/1/raw`, undefined],
      ['GET', `/campaigns/${id}/locale-coverage`, undefined],
    ] as const) {
      const res = await ctx.request(method, url, { tenant: b, body });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    expect((await getCampaign(ctx, a, id)).status).toBe('DRAFT');
    // And another tenant's template version cannot be attached.
    const stolen = await ctx.request('POST', '/campaigns', { tenant: b, body: { name: 'x', templateVersionId: baseVersionId } });
    expect(stolen.statusCode).toBe(422);
    expect(errorBody(stolen).details?.[0]?.field).toBe('templateVersionId');
  });
});
