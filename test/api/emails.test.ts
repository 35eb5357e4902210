import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestTenant } from '../helpers/app.js';
import { addContacts, publishedTemplate, smtpProject } from '../helpers/flow.js';
import { repositoriesOf } from '../helpers/factories.js';
import { tenantWithQuota } from '../helpers/routes.js';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../helpers/smtp-sink.js';

/**
 * Issue 16, items 1–5: transactional email through HTTP, queued and sent by
 * a real worker to a real SMTP sink (or captured), on both engines.
 */
describe.each(DIALECTS)('transactional email (%s)', (dialect) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailingcore-emails-'));
  const ctx = useTestApp(dialect, { delivery: { outboxDir: path.join(dataDir, 'outbox'), smtpUrl: undefined } });
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const send = (tenant: TestTenant, body: unknown, headers: Record<string, string> = {}, query = '') =>
    ctx.request('POST', `/emails/send${query}`, { headers: { ...tenant.headers, ...headers }, body });
  const accepted = async (tenant: TestTenant, body: unknown, headers: Record<string, string> = {}) => {
    const res = await send(tenant, body, headers);
    expect(res.statusCode, res.body).toBe(202);
    return res.json() as { id: string; status: string; queued: boolean };
  };
  /** Runs a worker until the queue has nothing due. */
  const drain = async () => {
    const worker = ctx.container.createWorker();
    while ((await worker.runOnce()) > 0) {
      /* next round */
    }
  };
  const to = (address: string) => sink.messages.filter((m) => m.envelope.to.includes(address));
  const only = (address: string): SinkMessage => {
    const found = to(address);
    expect(found, address).toHaveLength(1);
    return found[0]!;
  };
  /** The DKIM-Signature header's d= tag, from the raw header block. */
  const dkimDomain = (m: SinkMessage) => {
    const block = m.raw.toString('latin1').split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
    return block.match(/^DKIM-Signature:.*?\bd=([^;\s]+)/im)?.[1];
  };
  /** A header's unfolded value as sent, from the raw header block. */
  const header = (m: SinkMessage, name: string) => {
    const block = m.raw.toString('latin1').split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
    const line = block.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
    return line?.slice(name.length + 1).trim();
  };
  const emailsOf = async (tenantId: string) =>
    Number(
      (
        await ctx.container.database.db
          .selectFrom('transactional_emails')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('tenant_id', '=', tenantId)
          .executeTakeFirstOrThrow()
      ).n,
    );
  const usedOf = async (tenant: TestTenant) => Number((await ctx.request('GET', '/usage', { tenant })).json().used);

  it('sends raw content as given to a bare address: From, Reply-To, no List-Unsubscribe, text derived, logged SENT', async () => {
    const tenant = await ctx.newTenant('Raw');
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const body = {
      to: ' Someone@Bare.TEST ',
      subject: 'Receipt {{ total }} {% raw %}',
      htmlBody: '<p>Total {{ 5 | plus: 1 }} {% if x %}x{% endif %} €</p>',
      projectId,
      fromName: 'Billing',
      replyTo: 'help@acme.test',
      tags: ['receipt', 'eu_1'],
      metadata: { orderId: 'A-1' },
    };
    const first = await accepted(tenant, body);
    expect(first).toEqual({ id: expect.any(String), status: 'QUEUED', queued: true });
    await drain();
    const m = only('Someone@bare.test');
    expect(m.parsed.subject).toBe('Receipt {{ total }} {% raw %}');
    expect(m.parsed.html).toContain('Total {{ 5 | plus: 1 }} {% if x %}x{% endif %} €');
    expect(m.parsed.text).toContain('Total {{ 5 | plus: 1 }}');
    expect(m.parsed.from?.value).toEqual([{ address: 'news@acme.test', name: 'Billing' }]);
    expect(m.parsed.replyTo?.value).toEqual([{ address: 'help@acme.test', name: '' }]);
    expect(header(m, 'list-unsubscribe')).toBeUndefined();
    expect(header(m, 'list-unsubscribe-post')).toBeUndefined();

    const logs = await ctx.request('GET', '/emails/logs', { tenant });
    expect(logs.statusCode, logs.body).toBe(200);
    expect(logs.json()).toMatchObject({
      data: [{ id: first.id, toEmail: 'Someone@bare.test', subject: body.subject, status: 'SENT', tags: ['receipt', 'eu_1'], lastError: null }],
      meta: { page: 1, limit: 20, total: 1, totalPages: 1 },
    });
    const item = logs.json().data[0];
    expect(item.messageId).toBe(m.parsed.messageId);
    expect(item.sentAt).toEqual(expect.any(String));

    const detail = await ctx.request('GET', `/emails/${first.id}`, { tenant });
    expect(detail.statusCode, detail.body).toBe(200);
    expect(detail.json()).toMatchObject({
      id: first.id,
      status: 'SENT',
      attempts: 1,
      fromEmail: 'news@acme.test',
      fromName: 'Billing',
      replyTo: 'help@acme.test',
      projectId,
      metadata: { orderId: 'A-1' },
      tracking: { opens: false, clicks: false },
      mode: 'live',
      contactId: null,
    });
    const events = detail.json().events as { type: string; data: Record<string, unknown> }[];
    expect(events.map((e) => e.type)).toContain('email.sent');
    // A bare address is named in its events (no contact to erase it through: erasure finds them by message).
    expect(events.find((e) => e.type === 'email.sent')!.data).toMatchObject({ emailId: first.id, campaignId: null, contactId: null, email: 'Someone@bare.test' });
    // A live email was sent, not captured.
    expect((await ctx.request('GET', `/emails/${first.id}/raw`, { tenant })).statusCode).toBe(404);
    // Counted once in the month's usage.
    expect(await usedOf(tenant)).toBe(1);
  });

  it('tracking on: links and pixel rewritten in the render pool (the raw HTML otherwise as given); a click redirects and is an email.clicked event of the email', async () => {
    const tenant = await ctx.newTenant('Tracked');
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const sent = await accepted(tenant, {
      to: 'reader@track.test',
      subject: 'Your order',
      htmlBody: '<p>Total {{ total }}</p><a href="https://shop.test/orders/1">Your order</a>',
      projectId,
      tracking: { opens: true, clicks: true },
    });
    await drain();
    const html = String(only('reader@track.test').parsed.html);
    expect(html).toContain('Total {{ total }}');
    expect(html).not.toContain('href="https://shop.test/orders/1"');
    const clickUrl = /href="[^"]*\/track\/c\/([^"]+)"/.exec(html);
    expect(clickUrl, html).not.toBeNull();
    expect(html).toMatch(/\/track\/o\/[^"]+/);
    const click = await ctx.request('GET', `/track/c/${clickUrl![1]}`, { headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0) Firefox/130.0' } });
    expect(click.statusCode).toBe(302);
    expect(click.headers.location).toBe('https://shop.test/orders/1');
    await ctx.container.trackingRecorder.flush();
    const events = (await ctx.request('GET', `/emails/${sent.id}`, { tenant })).json().events as { type: string; data: Record<string, unknown> }[];
    expect(events.find((e) => e.type === 'email.clicked')?.data).toMatchObject({ emailId: sent.id, campaignId: null, url: 'https://shop.test/orders/1' });
  });

  it('From must be on a VERIFIED sending domain (exact or organisational) or the project/default From; DKIM-signed by it', async () => {
    const tenant = await ctx.newTenant('From');
    const other = await ctx.newTenant('Other');
    const projectId = await smtpProject(ctx, tenant, sink.port);
    for (const [owner, name] of [
      [tenant, 'signed-tx.test'],
      [other, 'others-tx.test'],
    ] as const) {
      const created = await ctx.request('POST', '/domains', { tenant: owner, body: { name } });
      expect(created.statusCode, created.body).toBe(201);
      await ctx.container.database.db.updateTable('sending_domains').set({ status: 'VERIFIED' }).where('id', '=', created.json().id).execute();
    }
    const pending = await ctx.request('POST', '/domains', { tenant, body: { name: 'pending-tx.test' } });
    expect(pending.statusCode).toBe(201);

    for (const fromEmail of ['x@unknown-tx.test', 'x@others-tx.test', 'x@pending-tx.test', 'news@signed-tx.test.evil.test']) {
      const res = await send(tenant, { to: 'r@from.test', subject: 'S', htmlBody: '<p>x</p>', fromEmail, projectId });
      expect(res.statusCode, `${fromEmail}: ${res.body}`).toBe(422);
      expect(errorBody(res).code).toBe('FROM_NOT_VERIFIED');
    }
    const signed = await accepted(tenant, { to: 'dkim@from.test', subject: 'Signed', htmlBody: '<p>x</p>', fromEmail: 'Billing@Signed-TX.test', projectId });
    await accepted(tenant, { to: 'sub@from.test', subject: 'Sub', htmlBody: '<p>x</p>', fromEmail: 'a@mail.signed-tx.test', projectId });
    await accepted(tenant, { to: 'proj@from.test', subject: 'Project From', htmlBody: '<p>x</p>', fromEmail: 'NEWS@acme.test', projectId });
    await drain();
    const m = only('dkim@from.test');
    expect(m.parsed.from?.value[0]?.address).toBe('Billing@signed-tx.test');
    expect(dkimDomain(m)).toBe('signed-tx.test');
    expect(dkimDomain(only('sub@from.test'))).toBe('signed-tx.test');
    expect(dkimDomain(only('proj@from.test'))).toBeUndefined();
    expect((await ctx.request('GET', `/emails/${signed.id}`, { tenant })).json().status).toBe('SENT');
  });

  it('renders a published template now: locale routing, variables over attributes, List-Unsubscribe only for a contact when used', async () => {
    const tenant = await ctx.newTenant('Template');
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const { baseVersionId, versionIds } = await publishedTemplate(ctx, tenant, {
      en: { subject: 'Order {{ order }} for {{ first_name }}', html: '<p>Hi {{ first_name }} ({{ plan }})</p><a href="{{ unsubscribeUrl }}">Unsubscribe</a>' },
      es: { subject: 'Pedido {{ order }} para {{ first_name }}', html: '<p>Hola {{ first_name }} ({{ plan }})</p><a href="{{ unsubscribeUrl }}">Baja</a>' },
    });
    await addContacts(ctx, tenant, [{ email: 'ana@tpl.test', locale: 'es-MX', attributes: { first_name: 'Ana', plan: 'free' } }]);
    const toContact = await accepted(tenant, { to: 'ana@tpl.test', templateVersionId: baseVersionId, variables: { order: 'A-1', plan: 'pro' }, projectId });
    // A bare address: routed by `locale`, no unsubscribe link (the link renders empty).
    await accepted(tenant, { to: 'bob@tpl.test', templateVersionId: baseVersionId, locale: 'es', variables: { order: 'B-2', first_name: 'Bob' }, projectId });
    // The contact's locale is overridden by an explicit `locale`.
    await accepted(tenant, { to: 'ana@tpl.test', templateVersionId: baseVersionId, locale: 'en', variables: { order: 'C-3' }, projectId, subject: 'Own subject' });
    await drain();
    const ana = to('ana@tpl.test');
    expect(ana.map((m) => m.parsed.subject).sort()).toEqual(['Own subject', 'Pedido A-1 para Ana']);
    const spanish = ana.find((m) => m.parsed.subject === 'Pedido A-1 para Ana')!;
    expect(spanish.parsed.html).toContain('Hola Ana (pro)');
    expect(header(spanish, 'list-unsubscribe')).toMatch(/\/u\//);
    expect(ana.find((m) => m.parsed.subject === 'Own subject')!.parsed.html).toContain('Hi Ana (free)');
    const bob = only('bob@tpl.test');
    expect(bob.parsed.subject).toBe('Pedido B-2 para Bob');
    expect(header(bob, 'list-unsubscribe')).toBeUndefined();
    const detail = (await ctx.request('GET', `/emails/${toContact.id}`, { tenant })).json();
    expect(detail).toMatchObject({ templateVersionId: versionIds.es, locale: 'es', contactId: expect.any(String) });

    // Not published, not the tenant's, or a broken render: 422.
    const created = await ctx.request('POST', `/templates/${(await ctx.request('GET', '/templates', { tenant })).json().data[0].id}/versions`, {
      tenant,
      body: { locale: 'fr', localeGroupId: baseVersionId, subject: 'Salut', htmlBody: '<p>Salut</p>' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const draft = await send(tenant, { to: 'ana@tpl.test', templateVersionId: created.json().id });
    expect([draft.statusCode, errorBody(draft).code]).toEqual([422, 'TEMPLATE_NOT_PUBLISHED']);
    const foreign = await send(await ctx.newTenant('Foreign'), { to: 'ana@tpl.test', templateVersionId: baseVersionId });
    expect([foreign.statusCode, errorBody(foreign).code]).toEqual([422, 'INVALID_REFERENCE']);
    const both = await send(tenant, { to: 'ana@tpl.test', templateVersionId: baseVersionId, htmlBody: '<p>x</p>' });
    expect(both.statusCode).toBe(400);
  });

  it('refuses suppressed addresses (SUPPRESSED_RECIPIENT); bypassUnsubscribe passes an unsubscribe only', async () => {
    const tenant = await ctx.newTenant('Suppressed');
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const suppressions = repositoriesOf(ctx.container.database).suppressions;
    for (const reason of ['unsubscribe', 'bounce', 'complaint', 'manual'] as const) {
      await suppressions.suppress(tenant.tenantId, `${reason}@supp.test`, reason);
    }
    for (const reason of ['unsubscribe', 'bounce', 'complaint', 'manual']) {
      const res = await send(tenant, { to: `${reason}@supp.test`, subject: 'S', htmlBody: '<p>x</p>', projectId });
      expect([res.statusCode, errorBody(res).code], reason).toEqual([422, 'SUPPRESSED_RECIPIENT']);
    }
    for (const reason of ['bounce', 'complaint', 'manual']) {
      const res = await send(tenant, { to: `${reason}@supp.test`, subject: 'S', htmlBody: '<p>x</p>', projectId, bypassUnsubscribe: true });
      expect([res.statusCode, errorBody(res).code], reason).toEqual([422, 'SUPPRESSED_RECIPIENT']);
    }
    // An opted-out contact is not a suppression: opt-in is a campaign rule.
    await addContacts(ctx, tenant, [{ email: 'optout@supp.test', optIn: false }]);
    await accepted(tenant, { to: 'optout@supp.test', subject: 'Reset', htmlBody: '<p>x</p>', projectId });
    const reset = await accepted(tenant, { to: 'unsubscribe@supp.test', subject: 'Reset', htmlBody: '<p>x</p>', projectId, bypassUnsubscribe: true });
    await drain();
    expect(only('unsubscribe@supp.test').parsed.subject).toBe('Reset');
    expect(only('optout@supp.test').parsed.subject).toBe('Reset');
    expect((await ctx.request('GET', `/emails/${reset.id}`, { tenant })).json()).toMatchObject({ status: 'SENT', bypassUnsubscribe: true });
    expect(await emailsOf(tenant.tenantId)).toBe(2);
  });

  it('makes header injection impossible through subject, fromName, replyTo, tags, metadata and variables', async () => {
    const tenant = await ctx.newTenant('Injection');
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const base = { to: 'victim@inject.test', subject: 'Hello', htmlBody: '<p>x</p>', projectId };
    for (const [field, value] of [
      ['subject', 'Hi\r\nBcc: evil@inject.test'],
      ['subject', 'Hi\nX-Injected: 1'],
      ['fromName', 'Name\r\nBcc: evil@inject.test'],
      ['replyTo', 'a@inject.test\r\nBcc: evil@inject.test'],
      ['replyTo', 'a@inject.test, evil@inject.test'],
      ['fromEmail', 'news@acme.test\r\nBcc: evil@inject.test'],
      ['tags', ['ok', 'bad\r\nBcc: evil@inject.test']],
      ['to', 'victim@inject.test\r\nBcc: evil@inject.test'],
    ] as const) {
      const res = await send(tenant, { ...base, [field]: value });
      expect(res.statusCode, `${field}: ${res.body}`).toBe(400);
      expect(errorBody(res).details?.map((d) => d.field.split('.')[0])).toContain(field);
    }
    const { baseVersionId } = await publishedTemplate(ctx, tenant, { en: { subject: 'Hi {{ name }}', html: '<p>{{ name }}</p>' } });
    await accepted(tenant, {
      ...base,
      metadata: { note: 'x\r\nBcc: evil@inject.test', 'X-Injected': '1' },
      tags: ['safe'],
    });
    await accepted(tenant, { to: 'victim2@inject.test', templateVersionId: baseVersionId, projectId, variables: { name: 'Eve\r\nBcc: evil@inject.test' } });
    await drain();
    for (const address of ['victim@inject.test', 'victim2@inject.test']) {
      const m = only(address);
      const headerBlock = m.raw.toString('latin1').split(/\r?\n\r?\n/)[0]!;
      expect(headerBlock).not.toMatch(/^(bcc|x-injected):/im);
      expect(m.envelope.to).toEqual([address]);
    }
    expect(to('evil@inject.test')).toEqual([]);
    expect(only('victim2@inject.test').parsed.subject).toBe('Hi Eve Bcc: evil@inject.test');
  });

  it('idempotency: same key and request → the same email (Idempotent-Replayed); another request → 409; 25 in parallel → one email', async () => {
    const tenant = await ctx.newTenant('Idempotent');
    const body = { to: 'once@idem.test', subject: 'Once', htmlBody: '<p>x</p>', idempotencyKey: 'order-1' };
    const first = await send(tenant, body);
    expect(first.statusCode, first.body).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await send(tenant, body);
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    // The header means the same key.
    const { idempotencyKey: _k, ...withoutKey } = body;
    const viaHeader = await send(tenant, withoutKey, { 'idempotency-key': 'order-1' });
    expect([viaHeader.statusCode, viaHeader.json().id]).toEqual([202, first.json().id]);
    const different = await send(tenant, { ...body, subject: 'Twice' });
    expect([different.statusCode, errorBody(different).code]).toEqual([409, 'IDEMPOTENCY_KEY_REUSED']);
    const mismatch = await send(tenant, body, { 'idempotency-key': 'order-2' });
    expect([mismatch.statusCode, errorBody(mismatch).code]).toEqual([400, 'VALIDATION_ERROR']);
    // Another tenant's key is its own.
    expect((await send(await ctx.newTenant('Other key'), body)).json().id).not.toBe(first.json().id);
    expect(await emailsOf(tenant.tenantId)).toBe(1);

    const race = { to: 'race@idem.test', subject: 'Race', htmlBody: '<p>x</p>', idempotencyKey: 'race-1' };
    const answers = await Promise.all(Array.from({ length: 25 }, () => send(tenant, race)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(25).fill(202));
    expect(new Set(answers.map((a) => a.json().id)).size).toBe(1);
    expect(await emailsOf(tenant.tenantId)).toBe(2);
    expect(await usedOf(tenant)).toBe(2);
  });

  it('batch: 99 good and 1 bad → 99 queued in one go, the bad one reported; past the quota ceiling → 429 and nothing queued', async () => {
    const tenant = await ctx.newTenant('Batch');
    const emails: unknown[] = Array.from({ length: 100 }, (_, i) => ({ to: `b${i}@batch.test`, subject: `B${i}`, htmlBody: '<p>x</p>' }));
    emails[42] = { to: 'not an address', subject: 'Bad', htmlBody: '<p>x</p>' };
    const res = await ctx.request('POST', '/emails/batch', { tenant, body: { emails } });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { data: { index: number; id?: string; status?: string; error?: { code: string; details?: { field: string }[] } }[]; meta: { queued: number; failed: number } };
    expect(body.meta).toEqual({ queued: 99, failed: 1 });
    expect(body.data).toHaveLength(100);
    expect(body.data[42]).toMatchObject({ index: 42, error: { code: 'VALIDATION_ERROR', details: [{ field: 'to' }] } });
    expect(body.data.filter((r) => r.status === 'QUEUED')).toHaveLength(99);
    expect(await emailsOf(tenant.tenantId)).toBe(99);
    // Items are judged by the send schema too (unknown field, wrong type), never a 500.
    const mixed = await ctx.request('POST', '/emails/batch', { tenant, body: { emails: [{ to: 'x@batch.test', subject: 1 }, { bogus: true }, 'text', null] } });
    expect(mixed.statusCode, mixed.body).toBe(200);
    expect(mixed.json().data.map((r: { error?: { code: string } }) => r.error?.code)).toEqual(Array(4).fill('VALIDATION_ERROR'));
    expect((await ctx.request('POST', '/emails/batch', { tenant, body: { emails: [] } })).statusCode).toBe(400);
    expect((await ctx.request('POST', '/emails/batch', { tenant, body: { emails: Array(101).fill(emails[0]) } })).statusCode).toBe(400);

    const small = await tenantWithQuota(ctx, 'Small quota', 10); // ceiling 11
    const over = await ctx.request('POST', '/emails/batch', { tenant: small, body: { emails: emails.slice(0, 12) } });
    expect([over.statusCode, errorBody(over).code]).toEqual([429, 'QUOTA_EXCEEDED']);
    expect(await emailsOf(small.tenantId)).toBe(0);
    const fits = await ctx.request('POST', '/emails/batch', { tenant: small, body: { emails: emails.slice(0, 11) } });
    expect(fits.statusCode, fits.body).toBe(200);
    expect(fits.headers['x-quota-used']).toBe('11');
    const single = await send(small, emails[0]);
    expect([single.statusCode, errorBody(single).code]).toEqual([429, 'QUOTA_EXCEEDED']);
    expect(await emailsOf(small.tenantId)).toBe(11);
  });

  it('logs: pagination and the status, to, tag, since and until filters', async () => {
    const tenant = await ctx.newTenant('Logs');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await accepted(tenant, { to: `l${i % 2}@logs.test`, subject: `L${i}`, htmlBody: '<p>x</p>', tags: i < 2 ? ['welcome'] : ['receipt'] })).id);
      ctx.clock.advance(1000);
    }
    const scheduledAt = new Date(ctx.clock.now.getTime() + 3_600_000).toISOString();
    const scheduled = await accepted(tenant, { to: 'later@logs.test', subject: 'Later', htmlBody: '<p>x</p>', scheduledAt });
    expect(scheduled.status).toBe('SCHEDULED');
    const get = async (query: string) => {
      const res = await ctx.request('GET', `/emails/logs?${query}`, { tenant });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { data: { id: string; status: string; subject: string }[]; meta: Record<string, number> };
    };
    const page2 = await get('page=2&limit=2');
    expect(page2.meta).toEqual({ page: 2, limit: 2, total: 6, totalPages: 3 });
    expect(page2.data.map((e) => e.subject)).toEqual(['L3', 'L2']);
    expect((await get('status=SCHEDULED')).data.map((e) => e.id)).toEqual([scheduled.id]);
    expect((await get('status=QUEUED')).meta.total).toBe(5);
    expect((await get('to=L1%40LOGS.test')).meta.total).toBe(0); // the local part is case-sensitive
    expect((await get('to=l1%40LOGS.test')).data.map((e) => e.subject)).toEqual(['L3', 'L1']);
    expect((await get('tag=welcome')).data.map((e) => e.subject)).toEqual(['L1', 'L0']);
    expect((await get('tag=welc')).meta.total).toBe(0);
    const detail = (await ctx.request('GET', `/emails/${ids[2]}`, { tenant })).json();
    const since = encodeURIComponent(detail.createdAt);
    expect((await get(`since=${since}`)).meta.total).toBe(4);
    expect((await get(`until=${since}`)).data.map((e) => e.subject)).toEqual(['L1', 'L0']);
    expect((await ctx.request('GET', '/emails/logs?status=NOPE', { tenant })).statusCode).toBe(400);
    expect((await ctx.request('GET', '/emails/logs?since=yesterday', { tenant })).statusCode).toBe(400);
    // Cancel the scheduled one so later workers of this file leave it alone.
    expect((await ctx.request('DELETE', `/scheduled-emails/${scheduled.id}`, { tenant })).statusCode).toBe(200);
  });

  it('an mc_test_ key captures: GET /emails/{id}/raw answers the email, the sink gets nothing', async () => {
    const tenant = await ctx.newTenant('Captured');
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const testKey = await tenant.keyWith(['email:send', 'email:read'], 'test');
    const res = await ctx.request('POST', '/emails/send', {
      headers: testKey.headers,
      body: { to: 'captured@capture.test', subject: 'Captured one', htmlBody: '<p>Captured body</p>', projectId },
    });
    expect(res.statusCode, res.body).toBe(202);
    const { id } = res.json();
    expect((await ctx.request('GET', `/emails/${id}/raw`, { tenant })).statusCode).toBe(404); // not sent yet
    await drain();
    expect(to('captured@capture.test')).toEqual([]);
    const raw = await ctx.request('GET', `/emails/${id}/raw`, { headers: testKey.headers });
    expect(raw.statusCode, raw.body).toBe(200);
    expect(raw.headers['content-type']).toMatch(/^message\/rfc822/);
    expect(raw.body).toContain('Subject: Captured one');
    expect(raw.body).toContain('Captured body');
    expect((await ctx.request('GET', `/emails/${id}`, { tenant })).json()).toMatchObject({ status: 'SENT', mode: 'test' });
  });

  it('scheduled: listed, released by the worker on time, cancelled before it goes (quota given back), 409 after', async () => {
    const tenant = await ctx.newTenant('Scheduled');
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const inAMinute = () => new Date(ctx.clock.now.getTime() + 60_000).toISOString();
    const later = await accepted(tenant, { to: 'later@sched.test', subject: 'Later', htmlBody: '<p>x</p>', projectId, scheduledAt: inAMinute() });
    const cancelled = await accepted(tenant, { to: 'never@sched.test', subject: 'Never', htmlBody: '<p>x</p>', projectId, scheduledAt: inAMinute() });
    expect([later.status, cancelled.status]).toEqual(['SCHEDULED', 'SCHEDULED']);
    expect(await usedOf(tenant)).toBe(2);
    const list = await ctx.request('GET', '/scheduled-emails?limit=10', { tenant });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().data.map((e: { id: string }) => e.id).sort()).toEqual([later.id, cancelled.id].sort());
    expect(list.json().meta.total).toBe(2);

    const cancel = await ctx.request('DELETE', `/scheduled-emails/${cancelled.id}`, { tenant });
    expect(cancel.statusCode, cancel.body).toBe(200);
    expect(cancel.json()).toMatchObject({ id: cancelled.id, status: 'CANCELLED' });
    expect(await usedOf(tenant)).toBe(1);
    const twice = await ctx.request('DELETE', `/scheduled-emails/${cancelled.id}`, { tenant });
    expect([twice.statusCode, errorBody(twice).code]).toEqual([409, 'INVALID_STATE']);

    await drain();
    expect(to('later@sched.test')).toEqual([]);
    ctx.clock.advance(61_000);
    await drain();
    expect(only('later@sched.test').parsed.subject).toBe('Later');
    expect(to('never@sched.test')).toEqual([]);
    const gone = await ctx.request('DELETE', `/scheduled-emails/${later.id}`, { tenant });
    expect([gone.statusCode, errorBody(gone).code]).toEqual([409, 'INVALID_STATE']);
    expect((await ctx.request('GET', '/scheduled-emails', { tenant })).json().meta.total).toBe(0);
    const statuses = (await ctx.request('GET', '/emails/logs', { tenant })).json().data.map((e: { status: string }) => e.status).sort();
    expect(statuses).toEqual(['CANCELLED', 'SENT']);

    // Not scheduled → 404 here; out of range → 422.
    const now = await accepted(tenant, { to: 'now@sched.test', subject: 'Now', htmlBody: '<p>x</p>' });
    expect((await ctx.request('DELETE', `/scheduled-emails/${now.id}`, { tenant })).statusCode).toBe(404);
    for (const scheduledAt of [
      new Date(ctx.clock.now.getTime() - 1000).toISOString(),
      new Date(ctx.clock.now.getTime() + 31 * 86_400_000).toISOString(),
    ]) {
      const res = await send(tenant, { to: 'x@sched.test', subject: 'S', htmlBody: '<p>x</p>', scheduledAt });
      expect([res.statusCode, errorBody(res).code]).toEqual([422, 'INVALID_SCHEDULE']);
    }
    const noOffset = await send(tenant, { to: 'x@sched.test', subject: 'S', htmlBody: '<p>x</p>', scheduledAt: '2030-01-01T10:00:00' });
    expect(noOffset.statusCode).toBe(400);
    await drain();
  });

  it('?sync=true waits for a worker to record the outcome', async () => {
    const tenant = await ctx.newTenant('Sync');
    const projectId = await smtpProject(ctx, tenant, sink.port);
    const worker = ctx.container.createWorker();
    worker.start();
    try {
      const res = await send(tenant, { to: 'sync@sync.test', subject: 'Sync', htmlBody: '<p>x</p>', projectId }, {}, '?sync=true');
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ status: 'SENT', queued: true });
      expect(only('sync@sync.test').parsed.subject).toBe('Sync');
    } finally {
      await worker.stop();
    }
  });

  it("another tenant's ids answer 404; scopes email:send and email:read are required (403)", async () => {
    const owner = await ctx.newTenant('Owner');
    const stranger = await ctx.newTenant('Stranger');
    const mine = await accepted(owner, { to: 'o@owner.test', subject: 'Mine', htmlBody: '<p>x</p>', scheduledAt: new Date(ctx.clock.now.getTime() + 3_600_000).toISOString() });
    for (const [method, url] of [
      ['GET', `/emails/${mine.id}`],
      ['GET', `/emails/${mine.id}/raw`],
      ['DELETE', `/scheduled-emails/${mine.id}`],
      ['GET', '/emails/not-an-id'],
    ] as const) {
      const res = await ctx.request(method, url, { tenant: stranger });
      expect([res.statusCode, errorBody(res).code], url).toEqual([404, 'NOT_FOUND']);
    }
    expect((await ctx.request('GET', '/emails/logs', { tenant: stranger })).json().meta.total).toBe(0);
    expect((await ctx.request('GET', '/scheduled-emails', { tenant: stranger })).json().meta.total).toBe(0);
    const reader = await owner.keyWith(['email:read']);
    const sender = await owner.keyWith(['email:send']);
    const refused = await ctx.request('POST', '/emails/send', { headers: reader.headers, body: { to: 'x@owner.test', subject: 'S', htmlBody: '<p>x</p>' } });
    expect([refused.statusCode, errorBody(refused).code]).toEqual([403, 'INSUFFICIENT_SCOPE']);
    expect((await ctx.request('GET', '/emails/logs', { headers: sender.headers })).statusCode).toBe(403);
    expect((await ctx.request('GET', '/emails/logs', { headers: reader.headers })).statusCode).toBe(200);
    expect((await ctx.request('DELETE', `/scheduled-emails/${mine.id}`, { tenant: owner })).statusCode).toBe(200);
  });

  it('bad input answers 400/422 with the documented shape, never 500', async () => {
    const tenant = await ctx.newTenant('Bad input');
    const ok = { to: 'x@bad.test', subject: 'S', htmlBody: '<p>x</p>' };
    const cases: [unknown, number, string][] = [
      [{ subject: 'S', htmlBody: '<p>x</p>' }, 400, 'to'],
      [{ to: 'x@bad.test', htmlBody: '<p>x</p>' }, 400, 'subject'],
      [{ to: 'x@bad.test', subject: 'S' }, 400, 'htmlBody'],
      [{ ...ok, subject: 'x'.repeat(999) }, 400, 'subject'],
      [{ ...ok, htmlBody: 'x'.repeat(512 * 1024 + 1) }, 400, 'htmlBody'],
      [{ ...ok, textBody: 'é'.repeat(300 * 1024) }, 400, 'textBody'],
      [{ ...ok, tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, 400, 'tags'],
      [{ ...ok, tags: ['a b'] }, 400, 'tags'],
      [{ ...ok, metadata: { big: 'x'.repeat(8 * 1024) } }, 400, 'metadata'],
      [{ ...ok, metadata: ['not', 'an', 'object'] }, 400, 'metadata'],
      [{ ...ok, fromName: 'Bad\u0007Name' }, 400, 'fromName'],
      [{ ...ok, tracking: { opens: 'yes' } }, 400, 'tracking'],
      [{ ...ok, locale: 'not a locale' }, 400, 'locale'],
      [{ ...ok, extra: 1 }, 400, 'extra'],
      [{ ...ok, projectId: 'nope' }, 422, 'projectId'],
      [{ ...ok, templateVersionId: undefined, subject: undefined, htmlBody: undefined }, 400, 'subject'],
    ];
    for (const [body, status, field] of cases) {
      const res = await send(tenant, body);
      expect(res.statusCode, `${field}: ${res.body.slice(0, 300)}`).toBe(status);
      const error = errorBody(res);
      expect(error.details?.map((d) => d.field.split('.')[0]), res.body.slice(0, 300)).toContain(field);
    }
    expect(await emailsOf(tenant.tenantId)).toBe(0);
  });
});
