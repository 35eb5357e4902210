/**
 * Issue 18, target 7: what a sender reads after a send — the report
 * (`GET /campaigns/{id}/stats`), the recipients log's first page, and the
 * event log (a campaign's events, the tenant's latest) — timed the same way
 * at every size, so the scaling and history benchmarks can show they stay flat.
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import type { Database } from '../../src/db/database.js';
import { EventRepository } from '../../src/events/event.repository.js';
import { messageEvent } from '../../src/events/event-types.js';
import { newId } from '../../src/shared/ids.js';
import { median } from './common.js';
import type { Fixture, Tenant } from './setup.js';

/** The reads, by label: each answered 200 before its timing counts. */
export const REPORT_QUERIES = {
  'GET /campaigns/{id}/stats': (campaignId: string) => `/campaigns/${campaignId}/stats`,
  'GET /campaigns/{id}/messages?limit=50': (campaignId: string) => `/campaigns/${campaignId}/messages?limit=50`,
  'GET /events?campaignId=…&limit=50': (campaignId: string) => `/events?campaignId=${campaignId}&limit=50`,
  'GET /events?limit=50': () => '/events?limit=50',
} as const;

export type ReportTimings = Record<keyof typeof REPORT_QUERIES, number>;

/**
 * An `email.sent` event for every message of the campaign, as the worker
 * writes them (same columns, same data), in pages through the event log's
 * own insert: the event table as it is after the whole audience was mailed.
 */
export async function seedSentEvents(database: Database, tenantId: string, campaignId: string): Promise<number> {
  const events = new EventRepository(database.db, database.dialect);
  const at = new Date().toISOString();
  let after = 0;
  let written = 0;
  for (;;) {
    const page = await database.db
      .selectFrom('messages')
      .select(['id', 'contact_id', 'email', 'locale', 'template_version_id'])
      .where('campaign_id', '=', campaignId)
      .where('id', '>', after)
      .orderBy('id')
      .limit(10_000)
      .execute();
    if (page.length === 0) {
      // Written here in seconds, where a worker writes them over the send (an hour at a million) while
      // autovacuum keeps PostgreSQL's statistics current: the reads are timed with statistics as current.
      if (database.dialect === 'postgres') await sql`analyze events`.execute(database.db);
      return written;
    }
    await events.insertMany(
      page.map((m) => {
        const event = messageEvent(
          'email.sent',
          { tenantId, campaignId, messageId: Number(m.id), contactId: m.contact_id, email: m.email, externalId: null, locale: m.locale, templateVersionId: m.template_version_id },
          at,
          { providerMessageId: `<${m.id}@sink>` },
        );
        return { id: newId(), tenant_id: tenantId, type: event.type, campaign_id: campaignId, contact_id: m.contact_id, message_id: Number(m.id), data: JSON.stringify(event.data), created_at: at };
      }),
    );
    written += page.length;
    after = Number(page.at(-1)!.id);
  }
}

/** The median of `reps` calls of each read, through the app (every hook, authentication, serialization), in ms. */
export async function timeReportQueries(fixture: Fixture, tenant: Tenant, campaignId: string, reps = 30): Promise<ReportTimings> {
  const timings = {} as ReportTimings;
  for (const [label, url] of Object.entries(REPORT_QUERIES) as [keyof typeof REPORT_QUERIES, (id: string) => string][]) {
    const runs: number[] = [];
    for (let i = 0; i < reps + 3; i++) {
      const started = performance.now();
      const res = await fixture.app.inject({ method: 'GET', url: url(campaignId), headers: tenant.headers });
      const ms = performance.now() - started;
      if (res.statusCode !== 200) throw new Error(`${label} → ${res.statusCode}: ${res.body}`);
      if (i >= 3) runs.push(ms); // the first three warm the statement caches
    }
    timings[label] = median(runs);
  }
  return timings;
}
