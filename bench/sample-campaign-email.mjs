// `node bench/sample-campaign-email.mjs <checkout> <out.eml>`: one captured campaign email made by
// that checkout's build (`npm run build` there first): the sample docs/DELIVERABILITY.md scores with SpamAssassin.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
const tree = process.argv[2];
const out = process.argv[3];
const { createContainer } = await import(`${tree}/dist/container.js`);
const { openDatabase } = await import(`${tree}/dist/db/database.js`);
const { migrateToLatest } = await import(`${tree}/dist/db/migrate.js`);
const { buildApp } = await import(`${tree}/dist/app.js`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sa-'));
const database = openDatabase({ dialect: 'sqlite', file: path.join(dir, 'db.sqlite') });
await migrateToLatest(database);
const container = createContainer(database, {
  secret: 'spamassassin-measure-secret-0123456789abcdef',
  delivery: { outboxDir: path.join(dir, 'outbox'), publicUrl: 'https://mail.acme.example', mailFrom: 'Acme News <news@acme.example>' },
});
const app = await buildApp(container);
const { tenant, apiKey } = await container.tenants.create({ name: 'Acme' });
const headers = { authorization: `Bearer ${apiKey}`, 'x-tenant-id': tenant.id };
const call = async (method, url, body) => {
  const res = await app.inject({ method, url, headers, ...(body ? { payload: body } : {}) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json();
};
await call('POST', '/contacts/bulk', { contacts: [{ email: 'ana@example.org', optIn: true, attributes: { first_name: 'Ana' } }] });
const html = '<html><body><h1>November news</h1><p>Hello {{ first_name }},</p><p>This month we shipped faster exports, a new dashboard and better search. Read the details on our blog.</p><p><a href="https://www.acme.example/blog/november">Read the November update</a></p><p>Thanks for being with us,<br>The Acme team</p><p style="font-size:12px">You receive this because you subscribed at acme.example. <a href="{{ unsubscribeUrl }}">Unsubscribe</a></p></body></html>';
const template = await call('POST', '/templates', { name: 'News', subject: 'November news from Acme', htmlBody: html, locale: 'en' });
const versionId = template.versions[0].id;
await call('POST', `/templates/${template.id}/versions/${versionId}/publish`);
const campaign = await call('POST', '/campaigns', { name: 'November newsletter', templateVersionId: versionId });
await call('POST', `/campaigns/${campaign.id}/send?force=true`).catch(async () => call('POST', `/campaigns/${campaign.id}/send`));
const worker = container.createWorker();
for (let i = 0; i < 200; i++) {
  await container.fanout.run(tenant.id, campaign.id).catch(() => undefined);
  await worker.runOnce();
  const c = await call('GET', `/campaigns/${campaign.id}`);
  if (c.status === 'SENT') break;
  await new Promise((r) => setTimeout(r, 50));
}
const folder = path.join(dir, 'outbox', campaign.id);
const file = fs.readdirSync(folder).find((f) => f.endsWith('.eml'));
fs.copyFileSync(path.join(folder, file), out);
await app.close();
await container.close();
console.log('wrote', out);
