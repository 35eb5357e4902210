import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestContext, type TestTenant } from '../helpers/app.js';
import { addContacts, createCampaign, deliverAll, publishedTemplate } from '../helpers/flow.js';
import { tables } from '../helpers/routes.js';

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** The files whose bytes hold any of `needles` (UTF-8, as written). */
const filesHolding = (files: string[], needles: string[]) =>
  files.filter((file) => {
    const bytes = fs.readFileSync(file);
    return needles.some((needle) => bytes.includes(Buffer.from(needle, 'utf8')));
  });

/** "table: row" for every row of every table whose text holds any of `needles`. */
async function rowsHolding(ctx: TestContext, needles: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const table of await tables(ctx)) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table.name)}`.execute(ctx.container.database.db);
    for (const row of rows) {
      const text = JSON.stringify(row);
      if (needles.some((needle) => text.includes(needle) || text.includes(JSON.stringify(needle).slice(1, -1)))) found.push(`${table.name}: ${text}`);
    }
  }
  return found;
}

/**
 * Issue 12, item 7: a GDPR erasure reaches every copy the product made —
 * captured .eml files of campaign messages and test sends, stored
 * Idempotency-Key answers — leaving only the suppression that keeps the
 * address from being mailed again.
 */
describe.each(DIALECTS)('GDPR erasure reaches every copy (%s)', (dialect) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailingcore-erasure-'));
  const ctx = useTestApp(dialect, { delivery: { outboxDir: path.join(dataDir, 'outbox'), smtpUrl: undefined } });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  /** The data directory's files other than the database's own: the outbox here, plus the SQLite file's neighbours. */
  async function dataFiles(): Promise<string[]> {
    const files = filesUnder(dataDir);
    if (dialect === 'sqlite') {
      const { rows } = await sql<{ file: string }>`pragma database_list`.execute(ctx.container.database.db);
      const dbFile = rows[0]!.file;
      const databaseFiles = new Set([dbFile, `${dbFile}-wal`, `${dbFile}-shm`, `${dbFile}-journal`]);
      files.push(...filesUnder(path.dirname(dbFile)).filter((file) => !databaseFiles.has(file)));
    }
    return files;
  }

  const idempotent = (tenant: TestTenant, key: string) => ({ ...tenant.headers, 'idempotency-key': key });

  it('deletes captured campaign and test-send emails and purges stored idempotent answers; only the suppression keeps the address', async () => {
    const tenant = await ctx.newTenant('Erasure');
    const address = 'Erin.Gone+gdpr@erasure.test';
    const kept = 'kim.stays@erasure.test';
    const bulkBody = { contacts: [{ email: address, externalId: 'gdpr-erin', optIn: true, attributes: { first_name: 'Erin' } }, { email: kept, optIn: true, attributes: { first_name: 'Kim' } }] };
    const bulk = await ctx.request('POST', '/contacts/bulk', { headers: idempotent(tenant, 'erasure-bulk'), body: bulkBody });
    expect(bulk.statusCode, bulk.body).toBe(200);
    const putBody = { email: address, externalId: 'gdpr-erin', optIn: true, attributes: { first_name: 'Erin' } };
    const put = await ctx.request('PUT', '/contacts', { headers: idempotent(tenant, 'erasure-put'), body: putBody });
    expect(put.statusCode, put.body).toBe(200);
    const id = put.json().id as string;
    expect(bulk.json().results[0].id).toBe(id);

    // A subscribed webhook endpoint: the delivery payloads are copies of the person too.
    const endpoint = await ctx.request('POST', '/webhooks/endpoints', {
      tenant,
      body: { url: 'http://127.0.0.1:9/erasure-hooks', events: ['email.sent', 'contact.unsubscribed', 'contact.erased'] },
    });
    expect(endpoint.statusCode, endpoint.body).toBe(201);
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    const campaignId = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    for (const key of [undefined, (await tenant.keyWith(['campaigns:write'], 'test')).headers]) {
      const test = await ctx.request('POST', `/campaigns/${campaignId}/test`, { headers: key ?? tenant.headers, body: { emails: [address, kept] } });
      expect(test.statusCode, test.body).toBe(200);
      expect(test.json().results.map((r: { status: string }) => r.status)).toEqual(['sent', 'sent']);
    }
    expect((await ctx.request('POST', `/campaigns/${campaignId}/send`, { tenant })).statusCode).toBe(202);
    expect((await deliverAll(ctx, tenant, campaignId, ctx.container.createWorker())).counters.sent).toBe(2);
    // Transactional emails to the person (issue 16): one from the template (with its unsubscribe link), one raw
    // holding the address in its content and metadata; both captured.
    const emails = [
      { to: address, templateVersionId: baseVersionId, variables: { first_name: 'Erin' }, idempotencyKey: 'erasure-tx-1' },
      { to: address, subject: `Receipt for ${address}`, htmlBody: `<p>${address}</p>`, metadata: { customer: address }, tags: ['receipt'] },
    ];
    const emailIds: string[] = [];
    for (const body of emails) {
      const res = await ctx.request('POST', '/emails/send', { tenant, body });
      expect(res.statusCode, res.body).toBe(202);
      emailIds.push(res.json().id);
    }
    expect(await ctx.container.createWorker().runOnce()).toBe(2);

    // The scan sees the copies before the erasure: 2 test sends + 1 campaign email each, + 2 transactional emails for the person.
    expect(filesHolding(await dataFiles(), [address])).toHaveLength(5);
    expect(filesHolding(await dataFiles(), [kept])).toHaveLength(3);
    expect((await rowsHolding(ctx, [address, id])).length).toBeGreaterThan(0);
    expect((await rowsHolding(ctx, [address])).filter((row) => row.startsWith('transactional_emails: '))).toHaveLength(2);
    expect((await rowsHolding(ctx, [address])).filter((row) => row.startsWith('webhook_deliveries: '))).toHaveLength(3);

    expect((await ctx.request('DELETE', '/contacts/gdpr-erin', { tenant })).statusCode).toBe(204);

    expect(filesHolding(await dataFiles(), [address, id])).toEqual([]);
    expect(filesHolding(await dataFiles(), [kept])).toHaveLength(3); // other people's copies stay
    const rows = await rowsHolding(ctx, [address]);
    expect(rows, rows.join('\n')).toHaveLength(1);
    expect(rows[0]).toMatch(/^suppressions: /);
    // The id is left only in the two events that tell receivers to erase the person too (no address in them),
    // and in their webhook deliveries.
    const idRows = await rowsHolding(ctx, [id]);
    expect(idRows, idRows.join('\n')).toHaveLength(4);
    expect(idRows.filter((row) => row.startsWith('events: '))).toHaveLength(2);
    const deliveryRows = idRows.filter((row) => row.startsWith('webhook_deliveries: '));
    expect(deliveryRows.map((row) => JSON.parse(row.slice('webhook_deliveries: '.length)).event_type).sort()).toEqual(['contact.erased', 'contact.unsubscribed']);
    const notices = (await ctx.request('GET', `/events?order=asc&since=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`, { tenant })).json().data as { type: string; data: Record<string, unknown> }[];
    expect(notices.filter((e) => e.data.contactId === id).map((e) => [e.type, e.data.how])).toEqual([
      ['contact.unsubscribed', 'erasure'],
      ['contact.erased', undefined],
    ]);
    // The contact's email.sent event is kept for the counts, without the person.
    const sent = notices.filter((e) => e.type === 'email.sent' && e.data.erased === true);
    expect(sent).toHaveLength(3);
    expect(JSON.stringify(sent)).not.toContain(address);
    // The transactional emails stay for the counts, without the person, their content or their files.
    for (const emailId of emailIds) {
      const email = await ctx.request('GET', `/emails/${emailId}`, { tenant });
      expect(email.statusCode, email.body).toBe(200);
      expect(email.json()).toMatchObject({ toEmail: null, contactId: null, metadata: null, status: 'SENT' });
      expect((await ctx.request('GET', `/emails/${emailId}/raw`, { tenant })).statusCode).toBe(404);
    }
    expect((await ctx.request('GET', '/emails/logs', { tenant })).json().meta.total).toBe(2);
    // Its idempotency key does not send it again.
    const replayed = await ctx.request('POST', '/emails/send', { tenant, body: emails[0] });
    expect([replayed.statusCode, errorBody(replayed).code]).toEqual([409, 'IDEMPOTENT_ANSWER_ERASED']);

    // A retry of an answered request is still not run again, and its answer is gone.
    for (const [method, url, key, body] of [
      ['PUT', '/contacts', 'erasure-put', putBody],
      ['POST', '/contacts/bulk', 'erasure-bulk', bulkBody],
    ] as const) {
      const replay = await ctx.request(method, url, { headers: idempotent(tenant, key), body });
      expect(replay.statusCode, replay.body).toBe(410);
      expect(errorBody(replay).code).toBe('IDEMPOTENT_ANSWER_ERASED');
      expect(replay.body).not.toContain(address);
    }
    expect((await ctx.request('GET', '/contacts/gdpr-erin', { tenant })).statusCode).toBe(404);
    // The campaign's own raw endpoint says the file is gone rather than failing.
    const log = (await ctx.request('GET', `/campaigns/${campaignId}/messages`, { tenant })).json().data as { id: number; email: string | null }[];
    const erased = log.find((m) => m.email === null)!;
    expect((await ctx.request('GET', `/campaigns/${campaignId}/messages/${erased.id}/raw`, { tenant })).statusCode).toBe(404);
  });

  it('reaches transactional emails sent to the address before it was a contact: rows, events, webhook payloads, captured files', async () => {
    const tenant = await ctx.newTenant('Bare erasure');
    const address = 'bare.person@erasure.test';
    const endpoint = await ctx.request('POST', '/webhooks/endpoints', { tenant, body: { url: 'http://127.0.0.1:9/bare-hooks', events: ['email.sent'] } });
    expect(endpoint.statusCode, endpoint.body).toBe(201);
    const res = await ctx.request('POST', '/emails/send', { tenant, body: { to: address, subject: 'Welcome', htmlBody: `<p>Hi ${address}</p>` } });
    expect(res.statusCode, res.body).toBe(202);
    expect(await ctx.container.createWorker().runOnce()).toBe(1);
    expect(filesHolding(await dataFiles(), [address])).toHaveLength(1);
    const holding = async () => (await rowsHolding(ctx, [address])).map((row) => row.slice(0, row.indexOf(':'))).sort();
    expect(await holding()).toEqual(['events', 'messages', 'transactional_emails', 'webhook_deliveries']);

    await addContacts(ctx, tenant, [{ email: address, externalId: 'bare-person' }]);
    expect((await ctx.request('DELETE', '/contacts/bare-person', { tenant })).statusCode).toBe(204);
    expect(filesHolding(await dataFiles(), [address])).toEqual([]);
    expect(await holding()).toEqual(['suppressions']);
    expect((await ctx.request('GET', `/emails/${res.json().id}`, { tenant })).json()).toMatchObject({ toEmail: null, status: 'SENT' });
  });

  it('erases only its own tenant’s copies of an address', async () => {
    const a = await ctx.newTenant('A');
    const b = await ctx.newTenant('B');
    const shared = 'shared.person@erasure.test';
    for (const tenant of [a, b]) {
      await addContacts(ctx, tenant, [{ email: shared, externalId: 'shared', attributes: { first_name: 'Sam' } }]);
      const { baseVersionId } = await publishedTemplate(ctx, tenant);
      const campaignId = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
      expect((await ctx.request('POST', `/campaigns/${campaignId}/test`, { tenant, body: { emails: [shared] } })).statusCode).toBe(200);
    }
    expect(filesHolding(await dataFiles(), [shared])).toHaveLength(2);
    expect((await ctx.request('DELETE', '/contacts/shared', { tenant: a })).statusCode).toBe(204);
    expect(filesHolding(await dataFiles(), [shared])).toHaveLength(1);
    expect((await ctx.request('GET', '/contacts/shared', { tenant: b })).statusCode).toBe(200);
  });
});
