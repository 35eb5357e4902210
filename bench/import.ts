/**
 * Benchmark 3 — import. A CSV file of BENCH_SCALE contacts (email, locale,
 * optIn and three attribute columns) posted to `POST /contacts/import` of a
 * real listening server (a fresh process) over HTTP, timed until the answer.
 * Baseline, in the same run: the same file parsed with csv-parse and written
 * with a bare batched INSERT (1000 rows per statement, one transaction per
 * batch) into a copy of the contacts table (same columns, indexes and keys).
 * Targets (issue 18): the app at most IMPORT_TARGET × the baseline's time
 * (PostgreSQL, whose import writes through COPY, faster than it), and the
 * server process's peak RSS at most IMPORT_RSS_TARGET_MIB.
 *
 *   node --import tsx bench/import.ts          (BENCH_SCALE, BENCH_ENGINES)
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse as parseCsv } from 'csv-parse';
import type { DatabaseConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { newId } from '../src/shared/ids.js';
import type { ChildContext } from './child.js';
import { fmtInt, fmtMiB, fmtMs, fmtRatio, runIfMain, log, peakRssMiB, recordTarget, report, settings, startChild, runChild, verdict, type ChildResult, type Engine } from './lib/common.js';
import { IMPORT_BATCH_ROWS } from '../src/contacts/contact.import.js';
import { cloneTable, freshDatabase } from './lib/db.js';
import { createTenant, openApp, type Tenant } from './lib/setup.js';

export const IMPORT_TARGET: Record<Engine, number> = { sqlite: 1.3, postgres: 1.0 };
export const IMPORT_RSS_TARGET_MIB = 150;
const BATCH = 1000;

export function writeCsv(file: string, rows: number): number {
  const out = fs.openSync(file, 'w');
  const locales = ['en', 'es', 'fr'];
  let chunk = 'email,locale,optIn,first_name,last_name,plan\n';
  for (let i = 1; i <= rows; i++) {
    chunk += `person${i}@import.example,${locales[i % 3]},${i % 10 === 0 ? 'false' : 'true'},Name${i},Surname${i % 997},${i % 4 === 0 ? 'pro' : 'free'}\n`;
    if (chunk.length > 1 << 20) {
      fs.writeSync(out, chunk);
      chunk = '';
    }
  }
  fs.writeSync(out, chunk);
  fs.closeSync(out);
  return fs.statSync(file).size;
}

/** Child role: the real app listening on a random port until told to stop. */
export async function importApp(params: { config: DatabaseConfig }, ctx: ChildContext): Promise<ChildResult> {
  const database = openDatabase(params.config, { poolSize: 10 });
  const fixture = await openApp(database);
  const address = await fixture.app.listen({ host: '127.0.0.1', port: 0 });
  ctx.emit({ url: address });
  await ctx.command(); // stop
  await fixture.close();
  return { peakRssMiB: peakRssMiB() };
}

interface ImportBaselineResult extends ChildResult {
  ms: number;
  rows: number;
}

/** Child role: csv-parse and a bare batched insert into bench_contacts. */
export async function importBaseline(params: { config: DatabaseConfig; tenantId: string; file: string }): Promise<ImportBaselineResult> {
  const database = openDatabase(params.config, { poolSize: 2 });
  const { db } = database;
  const started = performance.now();
  const parser = fs.createReadStream(params.file).pipe(parseCsv({ columns: true, bom: true, skip_empty_lines: true }));
  let batch: Record<string, unknown>[] = [];
  let rows = 0;
  const flush = async () => {
    const values = batch;
    batch = [];
    await db.transaction().execute((trx) => trx.insertInto('bench_contacts' as 'contacts').values(values as never).execute());
    rows += values.length;
  };
  for await (const record of parser as AsyncIterable<Record<string, string>>) {
    const now = new Date().toISOString();
    batch.push({
      id: newId(),
      tenant_id: params.tenantId,
      email: record.email!.toLowerCase(),
      locale: record.locale,
      opt_in: record.optIn === 'true' ? 1 : 0,
      attributes: JSON.stringify({ first_name: record.first_name, last_name: record.last_name, plan: record.plan }),
      created_at: now,
      updated_at: now,
    });
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  const ms = performance.now() - started;
  await database.close();
  return { ms, rows, peakRssMiB: peakRssMiB() };
}

function postFile(url: string, tenant: Tenant, file: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}/contacts/import`, { method: 'POST', headers: { ...tenant.headers, 'content-type': 'text/csv' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    fs.createReadStream(file).pipe(request);
  });
}

export async function main(): Promise<void> {
  const rows = settings.scale;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailingcore-bench-import-'));
  const file = path.join(dir, 'contacts.csv');
  const size = writeCsv(file, rows);
  const table: string[][] = [];
  try {
    for (const engine of settings.engines) {
      const { bench, database } = await freshDatabase(engine);
      const fixture = await openApp(database);
      try {
        const tenant = await createTenant(fixture.container, 100_000);
        await cloneTable(database, 'contacts', 'bench_contacts');

        const base = await runChild<ImportBaselineResult>('import-baseline', { config: bench.config, tenantId: tenant.tenantId, file });
        if (base.rows !== rows) throw new Error(`baseline wrote ${base.rows} rows, expected ${rows}`);
        log(`${engine}: baseline ${fmtMs(base.ms)}; importing through the app`);

        const server = startChild('import-app', { config: bench.config });
        const { url } = (await server.next()) as { url: string };
        const started = performance.now();
        const answer = await postFile(url, tenant, file);
        const ms = performance.now() - started;
        server.send({ stop: true });
        const app = await server.result;
        if (answer.status !== 200) throw new Error(`POST /contacts/import → ${answer.status}: ${answer.body.slice(0, 500)}`);
        const result = JSON.parse(answer.body) as { processed: number; created: number; failed: number };
        if (result.created !== rows || result.failed !== 0) throw new Error(`import answered ${answer.body.slice(0, 500)}`);

        const ratio = ms / base.ms;
        recordTarget({
          target: '5 import: time',
          engine,
          figure: `${fmtMs(ms)} for ${fmtInt(rows)} rows (${fmtRatio(ratio)})`,
          baseline: `csv-parse + batched INSERT: ${fmtMs(base.ms)}`,
          goal: `≤ ${IMPORT_TARGET[engine]}×`,
          met: ratio <= IMPORT_TARGET[engine],
        });
        recordTarget({
          target: '5 import: server peak RSS',
          engine,
          figure: fmtMiB(app.peakRssMiB),
          baseline: `baseline process ${fmtMiB(base.peakRssMiB)}`,
          goal: `≤ ${IMPORT_RSS_TARGET_MIB} MiB`,
          met: app.peakRssMiB <= IMPORT_RSS_TARGET_MIB,
        });
        table.push([
          engine,
          fmtInt(rows),
          `${fmtMs(ms)} (${fmtInt((rows / ms) * 1000)} rows/s)`,
          `${fmtMs(base.ms)} (${fmtInt((rows / base.ms) * 1000)} rows/s)`,
          fmtRatio(ratio),
          `≤ ${IMPORT_TARGET[engine]}×: ${verdict(ratio <= IMPORT_TARGET[engine])}`,
          fmtMiB(app.peakRssMiB),
          `≤ ${IMPORT_RSS_TARGET_MIB} MiB: ${verdict(app.peakRssMiB <= IMPORT_RSS_TARGET_MIB)}`,
          fmtMiB(base.peakRssMiB),
        ]);
      } finally {
        await fixture.close();
        await bench.drop();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  report({
    title: 'Import',
    table: {
      columns: ['engine', 'rows', 'MailingCore: POST /contacts/import', 'baseline: csv-parse + batched INSERT', 'ratio', 'target', 'peak RSS (server process)', 'RSS target', 'peak RSS (baseline process)'],
      rows: table,
    },
    notes: [
      `CSV of ${fmtInt(rows)} rows, ${(size / 1024 ** 2).toFixed(1)} MiB: email, locale, optIn and three attribute columns; every row a new contact`,
      `MailingCore: the file streamed over HTTP to a real listening server (fresh process), timed until the answer; validation, the matching rule (upsert on (tenant, email)), batches in one transaction each: ${IMPORT_BATCH_ROWS.sqlite} rows as multi-row INSERTs on SQLite, ${fmtInt(IMPORT_BATCH_ROWS.postgres)} rows through COPY into a temporary stage and one INSERT … SELECT on PostgreSQL`,
      `baseline: the same file through csv-parse and a plain multi-row INSERT of ${BATCH} rows per transaction into a copy of \`contacts\` (same columns, indexes and keys), in a fresh process`,
    ],
  });
}

runIfMain(import.meta.url, main);
