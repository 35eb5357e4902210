import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { createRouteFixture, settle } from '../helpers/routes.js';

/**
 * The same request many times at once (a retrying client, a double click):
 * one wins, the others answer as if they had come after it — never a 5xx,
 * never two winners. On PostgreSQL the requests really run concurrently.
 */
const TIMES = 12;

const tally = (statuses: number[]) => statuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});

describe.each(DIALECTS)('concurrent duplicates (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  it.each([
    ['DELETE /contacts/:id', (f: Awaited<ReturnType<typeof createRouteFixture>>) => `/contacts/${f.contactId}`, 204],
    ['DELETE /projects/:id', (f: Awaited<ReturnType<typeof createRouteFixture>>) => `/projects/${f.projectId}`, 204],
    ['DELETE /suppressions/:email', (f: Awaited<ReturnType<typeof createRouteFixture>>) => `/suppressions/${encodeURIComponent(f.suppressionEmail)}`, 204],
  ] as const)('%s: one 204, the others 404', async (_label, url, winner) => {
    const fixture = await createRouteFixture(ctx, await ctx.newTenant());
    const answers = await Promise.all(Array.from({ length: TIMES }, () => ctx.request('DELETE', url(fixture), { tenant: fixture.tenant })));
    expect(tally(answers.map((r) => r.statusCode))).toEqual({ [winner]: 1, 404: TIMES - 1 });
  });

  it.each([
    ['send', 202],
    ['cancel', 200],
  ] as const)('POST /campaigns/:id/%s: one %i, the others 409', async (action, winner) => {
    const fixture = await createRouteFixture(ctx, await ctx.newTenant());
    const answers = await Promise.all(
      Array.from({ length: TIMES }, () => ctx.request('POST', `/campaigns/${fixture.campaignId}/${action}`, { tenant: fixture.tenant })),
    );
    await settle(ctx);
    expect(tally(answers.map((r) => r.statusCode))).toEqual({ [winner]: 1, 409: TIMES - 1 });
  });

  it('POST /campaigns with one Idempotency-Key: one campaign, the others replayed or told it is in progress', async () => {
    const tenant = await ctx.newTenant();
    const answers = await Promise.all(
      Array.from({ length: TIMES }, () => ctx.request('POST', '/campaigns', { tenant, body: { name: 'Once' }, headers: { 'idempotency-key': 'once' } })),
    );
    for (const res of answers) expect([201, 409], res.body).toContain(res.statusCode);
    expect(answers.filter((r) => r.statusCode === 201 && !r.headers['idempotent-replayed'])).toHaveLength(1);
    const created = await ctx.container.database.db.selectFrom('campaigns').select('id').where('tenant_id', '=', tenant.tenantId).execute();
    expect(created).toHaveLength(1);
  });

  it('PUT /contacts with one address: one contact, every answer 200 with its id', async () => {
    const tenant = await ctx.newTenant();
    const answers = await Promise.all(
      Array.from({ length: TIMES }, (_, i) => ctx.request('PUT', '/contacts', { tenant, body: { email: 'same@race.test', attributes: { n: i } } })),
    );
    expect(answers.map((r) => r.statusCode)).toEqual(Array(TIMES).fill(200));
    expect(new Set(answers.map((r) => r.json().id)).size).toBe(1);
  });
});
