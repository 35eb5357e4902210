/**
 * Profiling aid for the read API (not part of `npm run bench`): seeds a
 * tenant with BENCH_SCALE contacts and 20, then 1,000 campaigns, and for
 * `GET /campaigns?limit=20`, `GET /campaigns/{id}` and `GET /contacts?limit=50`
 * prints where a request's time goes — each SQL statement of the service
 * alone, the service call (statements + row mapping), the whole route
 * through `inject` (authentication, hooks, response schema) — as the median
 * of many calls, and the query plans (EXPLAIN ANALYZE on PostgreSQL,
 * EXPLAIN QUERY PLAN on SQLite).
 *
 *   BENCH_SCALE=100000 node --import tsx bench/explain-api.ts
 */
import { performance } from 'node:perf_hooks';
import { sql, type Compilable, type Kysely } from 'kysely';
import type { Database } from '../src/db/database.js';
import type { DB } from '../src/db/schema.js';
import { median, runIfMain, settings } from './lib/common.js';
import { freshDatabase, seedContacts, warm } from './lib/db.js';
import { call, createTenant, openApp, publishedTemplate, type Fixture, type Tenant } from './lib/setup.js';

const ROUNDS = 300;

async function timeIt(task: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 30; i++) await task();
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    await task();
    samples.push(performance.now() - started);
  }
  return median(samples) * 1000;
}

async function plan(database: Database, query: Compilable): Promise<string> {
  const { sql: text, parameters } = query.compile();
  const explain = database.dialect === 'postgres' ? `explain (analyze, buffers off, timing off) ${text}` : `explain query plan ${text}`;
  const result = await sql.raw<Record<string, unknown>>(inline(explain, parameters, database.dialect)).execute(database.db);
  return result.rows.map((row) => (database.dialect === 'postgres' ? String(row['QUERY PLAN']) : `  ${String(row.detail)}`)).join('\n');
}

/** Inlines the parameters (EXPLAIN through sql.raw has no binding). */
function inline(text: string, parameters: readonly unknown[], dialect: string): string {
  const quote = (value: unknown) => (typeof value === 'number' ? String(value) : `'${String(value).replace(/'/g, "''")}'`);
  if (dialect === 'postgres') return text.replace(/\$(\d+)/g, (_m, n: string) => quote(parameters[Number(n) - 1]));
  let i = 0;
  return text.replace(/\?/g, () => quote(parameters[i++]));
}

async function addCampaigns(database: Database, tenantId: string, versionId: string, n: number): Promise<void> {
  const now = Date.now();
  const rows = Array.from({ length: n }, (_, i) => {
    const at = new Date(now + i).toISOString();
    return {
      id: `${(now + i).toString(16).padStart(12, '0').slice(0, 8)}-${(now + i).toString(16).padStart(12, '0').slice(8)}-7000-8000-${i.toString(16).padStart(12, '0')}`,
      tenant_id: tenantId,
      name: `Campaign ${i}`,
      template_version_id: versionId,
      audience_filter: JSON.stringify({ optIn: true, locale: 'es' }),
      status: 'DRAFT' as const,
      created_at: at,
      updated_at: at,
    };
  });
  for (let i = 0; i < rows.length; i += 200) await database.db.insertInto('campaigns').values(rows.slice(i, i + 200)).execute();
}

async function report(fixture: Fixture, database: Database, tenant: Tenant, label: string): Promise<void> {
  const db: Kysely<DB> = database.db;
  const { container, app } = fixture;
  const campaignPage = db.selectFrom('campaigns').selectAll().where('tenant_id', '=', tenant.tenantId).orderBy('id', 'desc').limit(20).offset(0);
  const campaignCount = db.selectFrom('campaigns').select((eb) => eb.fn.countAll<number>().as('total')).where('tenant_id', '=', tenant.tenantId);
  const contactPage = db.selectFrom('contacts').selectAll().where('contacts.tenant_id', '=', tenant.tenantId).orderBy('contacts.id', 'desc').limit(50).offset(0);
  const contactCount = db.selectFrom('contacts').select((eb) => eb.fn.countAll<number>().as('total')).where('contacts.tenant_id', '=', tenant.tenantId);
  const first = (await campaignPage.execute())[0]!;
  const byId = db.selectFrom('campaigns').selectAll().where('tenant_id', '=', tenant.tenantId).where('id', '=', first.id);
  const lines: [string, number][] = [
    ['campaigns: page of 20 (SQL)', await timeIt(() => campaignPage.execute())],
    ['campaigns: count (SQL)', await timeIt(() => campaignCount.execute())],
    ['campaigns: by id (SQL)', await timeIt(() => byId.execute())],
    ['campaigns: CampaignService.list', await timeIt(() => container.campaigns.list(tenant.tenantId, { page: 1, limit: 20 }))],
    ['campaigns: CampaignService.get', await timeIt(() => container.campaigns.get(tenant.tenantId, first.id))],
    ['campaigns: GET /campaigns?limit=20 (inject)', await timeIt(() => call(app, tenant, 'GET', '/campaigns?limit=20'))],
    ['campaigns: GET /campaigns/{id} (inject)', await timeIt(() => call(app, tenant, 'GET', `/campaigns/${first.id}`))],
    ['contacts: page of 50 (SQL)', await timeIt(() => contactPage.execute())],
    ['contacts: count (SQL)', await timeIt(() => contactCount.execute())],
    ['contacts: GET /contacts?limit=50 (inject)', await timeIt(() => call(app, tenant, 'GET', '/contacts?limit=50'))],
  ];
  console.log(`\n## ${database.dialect}, ${label}`);
  for (const [name, us] of lines) console.log(`${name.padEnd(48)} ${us.toFixed(0).padStart(7)} µs`);
  for (const [name, query] of [
    ['campaigns page', campaignPage],
    ['campaigns count', campaignCount],
    ['contacts page', contactPage],
    ['contacts count', contactCount],
  ] as const) {
    console.log(`-- ${name}\n${await plan(database, query)}`);
  }
}

async function explainEngine(engine: 'sqlite' | 'postgres'): Promise<void> {
  const { bench, database } = await freshDatabase(engine);
  const fixture = await openApp(database);
  try {
    const tenant = await createTenant(fixture.container, 1_000_000);
    const versionId = await publishedTemplate(fixture.app, tenant);
    await seedContacts(database, tenant.tenantId, settings.scale);
    await addCampaigns(database, tenant.tenantId, versionId, 20);
    await warm(database);
    await report(fixture, database, tenant, `${settings.scale} contacts, 20 campaigns`);
    await addCampaigns(database, tenant.tenantId, versionId, 980);
    if (engine === 'postgres') await sql`analyze`.execute(database.db);
    await report(fixture, database, tenant, `${settings.scale} contacts, 1,000 campaigns`);
  } finally {
    await fixture.close();
    await bench.drop();
  }
}

export async function main(): Promise<void> {
  for (const engine of settings.engines) await explainEngine(engine);
}

runIfMain(import.meta.url, main);
