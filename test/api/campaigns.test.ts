import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestContext, type TestTenant } from '../helpers/app.js';
import { publishedTemplate } from '../helpers/flow.js';

/** The seed's example, with ids of a real published template version and project of the tenant. */
async function seedCampaignFor(ctx: TestContext, tenant: TestTenant) {
  const { baseVersionId } = await publishedTemplate(ctx, tenant);
  const project = await ctx.request('POST', '/projects', {
    tenant,
    body: { name: 'p', smtp: { host: 'smtp.example.com', port: 587, secure: false }, fromEmail: 'news@example.com' },
  });
  return {
    name: 'June product update',
    templateVersionId: baseVersionId,
    subject: "What's new in June",
    audienceFilter: { locale: 'en', optIn: true, projectId: project.json().id as string, attributes: { plan: 'pro' } },
    timezone: 'Europe/Madrid',
  };
}

describe.each(DIALECTS)('campaigns API (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  const create = (tenant: TestTenant, body: unknown = { name: 'Campaign' }) =>
    ctx.request('POST', '/campaigns', { tenant, body });

  /** A campaign body that may be scheduled: it names a published template version. */
  async function schedulable(tenant: TestTenant) {
    const { baseVersionId } = await publishedTemplate(ctx, tenant);
    return { name: 'Campaign', templateVersionId: baseVersionId };
  }

  async function createOk(tenant: TestTenant, body: unknown = { name: 'Campaign' }) {
    const res = await create(tenant, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Record<string, any>;
  }

  describe('POST /campaigns', () => {
    it("creates the seed's example as a DRAFT", async () => {
      const tenant = await ctx.newTenant();
      const seedCampaign = await seedCampaignFor(ctx, tenant);
      const campaign = await createOk(tenant, seedCampaign);
      expect(campaign).toMatchObject({ ...seedCampaign, projectId: null, status: 'DRAFT', scheduledAt: null });
      expect(campaign.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(campaign.createdAt).toBe(campaign.updatedAt);
      const fetched = await ctx.request('GET', `/campaigns/${campaign.id}`, { tenant });
      expect(fetched.json()).toEqual(campaign);
    });

    it('trims the name and normalises locale and time zone', async () => {
      const tenant = await ctx.newTenant();
      const campaign = await createOk(tenant, {
        name: '  Spaced  ',
        timezone: 'europe/madrid',
        audienceFilter: { locale: 'es-mx' },
      });
      expect(campaign.name).toBe('Spaced');
      expect(campaign.timezone).toBe('Europe/Madrid');
      expect(campaign.audienceFilter).toEqual({ locale: 'es-MX' });
    });

    it('accepts a 200-character name and a 998-character subject', async () => {
      const tenant = await ctx.newTenant();
      const campaign = await createOk(tenant, { name: 'n'.repeat(200), subject: 's'.repeat(998) });
      expect(campaign.name).toHaveLength(200);
    });

    const invalid: [string, unknown, string][] = [
      ['no name', {}, 'name'],
      ['empty name', { name: '' }, 'name'],
      ['blank name', { name: '   ' }, 'name'],
      ['name of 201 characters', { name: 'n'.repeat(201) }, 'name'],
      ['name as a number', { name: 5 }, 'name'],
      ['subject of 999 characters', { name: 'x', subject: 's'.repeat(999) }, 'subject'],
      ['unknown time zone', { name: 'x', timezone: 'Mars/Olympus' }, 'timezone'],
      ['offset instead of a zone', { name: 'x', timezone: '+02:00' }, 'timezone'],
      ['unknown field', { name: 'x', colour: 'red' }, 'colour'],
      ['unknown filter field', { name: 'x', audienceFilter: { country: 'ES' } }, 'audienceFilter.country'],
      ['bad locale', { name: 'x', audienceFilter: { locale: 'not a locale' } }, 'audienceFilter.locale'],
      ['optIn as a string', { name: 'x', audienceFilter: { optIn: 'true' } }, 'audienceFilter.optIn'],
      ['nested attribute', { name: 'x', audienceFilter: { attributes: { plan: { a: 1 } } } }, 'audienceFilter.attributes.plan'],
      ['attribute array', { name: 'x', audienceFilter: { attributes: { plan: ['a'] } } }, 'audienceFilter.attributes.plan'],
      ['filter as an array', { name: 'x', audienceFilter: [] }, 'audienceFilter'],
    ];
    it.each(invalid)('refuses %s with 400 and writes nothing', async (_label, body, field) => {
      const tenant = await ctx.newTenant();
      const before = await ctx.count('campaigns');
      const res = await create(tenant, body);
      expect(res.statusCode).toBe(400);
      const error = errorBody(res);
      expect(error.code).toBe('VALIDATION_ERROR');
      expect(error.details?.map((d) => d.field)).toContain(field);
      expect(await ctx.count('campaigns')).toBe(before);
    });

    it('reports every bad field at once', async () => {
      const tenant = await ctx.newTenant();
      const res = await create(tenant, { name: '', timezone: 'Nowhere/Land', audienceFilter: { locale: '!!' } });
      expect(res.statusCode).toBe(400);
      expect(errorBody(res).details?.map((d) => d.field).sort()).toEqual(['audienceFilter.locale', 'name', 'timezone']);
    });

    it('keeps attribute keys such as __proto__ as plain data', async () => {
      const tenant = await ctx.newTenant();
      const res = await ctx.request('POST', '/campaigns', {
        tenant,
        headers: { 'content-type': 'application/json' },
        payload: '{"name":"x","audienceFilter":{"attributes":{"a.b":"1","x\'); DROP TABLE campaigns;--":true}}}',
      });
      expect(res.statusCode).toBe(201);
      expect(res.json().audienceFilter.attributes).toEqual({ 'a.b': '1', "x'); DROP TABLE campaigns;--": true });
      const poisoned = await ctx.request('POST', '/campaigns', {
        tenant,
        headers: { 'content-type': 'application/json' },
        payload: '{"name":"x","audienceFilter":{"attributes":{"__proto__":{"admin":true}}}}',
      });
      expect(poisoned.statusCode).toBe(400);
      errorBody(poisoned);
    });
  });

  describe('GET /campaigns', () => {
    it('pages newest first and filters by status', async () => {
      const tenant = await ctx.newTenant();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await createOk(tenant, { name: `c${i}` })).id);
      await ctx.request('POST', `/campaigns/${ids[1]}/cancel`, { tenant });

      const first = await ctx.request('GET', '/campaigns?page=1&limit=2', { tenant });
      expect(first.statusCode).toBe(200);
      expect(first.json().data.map((c: { id: string }) => c.id)).toEqual([ids[4], ids[3]]);
      expect(first.json().meta).toEqual({ page: 1, limit: 2, total: 5, totalPages: 3 });
      const last = await ctx.request('GET', '/campaigns?page=3&limit=2', { tenant });
      expect(last.json().data.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
      const beyond = await ctx.request('GET', '/campaigns?page=9&limit=2', { tenant });
      expect(beyond.json()).toEqual({ data: [], meta: { page: 9, limit: 2, total: 5, totalPages: 3 } });

      const drafts = await ctx.request('GET', '/campaigns?status=DRAFT', { tenant });
      expect(drafts.json().meta).toEqual({ page: 1, limit: 20, total: 4, totalPages: 1 });
      const cancelled = await ctx.request('GET', '/campaigns?status=CANCELLED', { tenant });
      expect(cancelled.json().data.map((c: { id: string }) => c.id)).toEqual([ids[1]]);
    });

    it("a full page's total follows this process's writes at once: new campaigns and status changes", async () => {
      const tenant = await ctx.newTenant();
      const total = async (query = '') => (await ctx.request('GET', `/campaigns?limit=1${query}`, { tenant })).json().meta.total;
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await createOk(tenant, { name: `t${i}` })).id);
      expect(await total()).toBe(3);
      expect(await total('&status=DRAFT')).toBe(3);
      ids.push((await createOk(tenant, { name: 't3' })).id);
      expect(await total()).toBe(4);
      expect(await total('&status=DRAFT')).toBe(4);
      await ctx.request('POST', `/campaigns/${ids[0]}/cancel`, { tenant });
      expect(await total('&status=DRAFT')).toBe(3);
      expect(await total('&status=CANCELLED')).toBe(1);
    });

    it("never lists another tenant's campaigns", async () => {
      const a = await ctx.newTenant('A');
      const b = await ctx.newTenant('B');
      await createOk(a);
      const res = await ctx.request('GET', '/campaigns', { tenant: b });
      expect(res.json()).toEqual({ data: [], meta: { page: 1, limit: 20, total: 0, totalPages: 0 } });
    });

    it.each(['status=draft', 'status=UNKNOWN', 'limit=0', 'limit=101', 'page=0', 'page=-1', 'limit=abc', 'page=1.5'])(
      'refuses ?%s with 400',
      async (query) => {
        const tenant = await ctx.newTenant();
        const res = await ctx.request('GET', `/campaigns?${query}`, { tenant });
        expect(res.statusCode).toBe(400);
        expect(errorBody(res).code).toBe('VALIDATION_ERROR');
      },
    );
  });

  describe('GET /campaigns/{id}', () => {
    it("answers 404 alike for a missing id, a malformed id and another tenant's id", async () => {
      const a = await ctx.newTenant('A');
      const b = await ctx.newTenant('B');
      const campaign = await createOk(a);
      for (const id of ['01a21603-0000-7000-8000-000000000000', 'nope', "1' OR '1'='1", campaign.id]) {
        const res = await ctx.request('GET', `/campaigns/${encodeURIComponent(id)}`, { tenant: b });
        expect(res.statusCode, id).toBe(404);
        expect(errorBody(res)).toMatchObject({ code: 'NOT_FOUND', message: 'Campaign not found' });
      }
    });
  });

  describe('PATCH /campaigns/{id}', () => {
    it('updates some fields, clears with null and keeps the rest', async () => {
      const tenant = await ctx.newTenant();
      const seedCampaign = await seedCampaignFor(ctx, tenant);
      const campaign = await createOk(tenant, seedCampaign);
      ctx.clock.advance(1000);
      const res = await ctx.request('PATCH', `/campaigns/${campaign.id}`, {
        tenant,
        body: { name: 'Renamed', subject: null, audienceFilter: { optIn: true } },
      });
      expect(res.statusCode).toBe(200);
      const updated = res.json();
      expect(updated).toMatchObject({
        name: 'Renamed',
        subject: null,
        audienceFilter: { optIn: true },
        templateVersionId: seedCampaign.templateVersionId,
        timezone: 'Europe/Madrid',
        status: 'DRAFT',
      });
      expect(updated.updatedAt > campaign.updatedAt).toBe(true);
    });

    it('validates like create and writes nothing on error', async () => {
      const tenant = await ctx.newTenant();
      const campaign = await createOk(tenant, await seedCampaignFor(ctx, tenant));
      for (const body of [{}, { name: null }, { name: ' ' }, { timezone: 'Bad/Zone' }, { status: 'SENT' }, { id: 'x' }]) {
        const res = await ctx.request('PATCH', `/campaigns/${campaign.id}`, { tenant, body });
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        errorBody(res);
      }
      const unchanged = await ctx.request('GET', `/campaigns/${campaign.id}`, { tenant });
      expect(unchanged.json()).toEqual(campaign);
    });

    it('edits only a DRAFT (409 INVALID_STATE naming the status otherwise)', async () => {
      const tenant = await ctx.newTenant();
      const campaign = await createOk(tenant);
      await ctx.request('POST', `/campaigns/${campaign.id}/cancel`, { tenant });
      const res = await ctx.request('PATCH', `/campaigns/${campaign.id}`, { tenant, body: { name: 'late' } });
      expect(res.statusCode).toBe(409);
      const error = errorBody(res);
      expect(error.code).toBe('INVALID_STATE');
      expect(error.message).toContain('CANCELLED');
      expect(error.currentStatus).toBe('CANCELLED');
    });

    it("answers 404 for another tenant's campaign and changes nothing", async () => {
      const a = await ctx.newTenant('A');
      const b = await ctx.newTenant('B');
      const campaign = await createOk(a);
      const res = await ctx.request('PATCH', `/campaigns/${campaign.id}`, { tenant: b, body: { name: 'hijacked' } });
      expect(res.statusCode).toBe(404);
      expect((await ctx.request('GET', `/campaigns/${campaign.id}`, { tenant: a })).json().name).toBe('Campaign');
    });
  });

  describe('POST /campaigns/{id}/schedule', () => {
    const future = () => new Date(ctx.clock.now.getTime() + 86_400_000);

    it('schedules an instant given with Z', async () => {
      const tenant = await ctx.newTenant();
      const campaign = await createOk(tenant, await schedulable(tenant));
      const at = future().toISOString();
      const res = await ctx.request('POST', `/campaigns/${campaign.id}/schedule`, { tenant, body: { scheduledAt: at } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'SCHEDULED', scheduledAt: at });
    });

    it("reads a time without offset in the campaign's zone, or the body's zone (which is stored)", async () => {
      const tenant = await ctx.newTenant();
      const year = ctx.clock.now.getUTCFullYear() + 1;
      const campaign = await createOk(tenant, { ...(await schedulable(tenant)), timezone: 'Europe/Madrid' });
      const madrid = await ctx.request('POST', `/campaigns/${campaign.id}/schedule`, {
        tenant,
        body: { scheduledAt: `${year}-07-01T09:00:00` },
      });
      expect(madrid.json()).toMatchObject({ scheduledAt: `${year}-07-01T07:00:00.000Z`, timezone: 'Europe/Madrid' });

      const ny = await ctx.request('POST', `/campaigns/${campaign.id}/schedule`, {
        tenant,
        body: { scheduledAt: `${year}-07-01T09:00:00`, timezone: 'America/New_York' },
      });
      expect(ny.statusCode).toBe(200);
      expect(ny.json()).toMatchObject({ status: 'SCHEDULED', scheduledAt: `${year}-07-01T13:00:00.000Z`, timezone: 'America/New_York' });
    });

    it('refuses a past time, a DST gap and a bad zone with 400, leaving the campaign as it was', async () => {
      const tenant = await ctx.newTenant();
      const year = ctx.clock.now.getUTCFullYear() + 1;
      const campaign = await createOk(tenant, { ...(await schedulable(tenant)), timezone: 'Europe/Madrid' });
      const bodies = [
        { scheduledAt: new Date(ctx.clock.now.getTime() - 1000).toISOString() },
        { scheduledAt: `${year}-03-28T02:30:00`, timezone: 'Europe/Madrid' },
        { scheduledAt: `${year + 1}-03-26T02:30:00` }, // last Sunday of March: a gap in Madrid
        { scheduledAt: `${year}-07-01T09:00:00`, timezone: 'Atlantis/Capital' },
        { scheduledAt: 'next tuesday' },
        { scheduledAt: 12345 },
        {},
      ];
      for (const body of bodies) {
        const res = await ctx.request('POST', `/campaigns/${campaign.id}/schedule`, { tenant, body });
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(errorBody(res).code).toBe('VALIDATION_ERROR');
      }
      expect((await ctx.request('GET', `/campaigns/${campaign.id}`, { tenant })).json()).toEqual(campaign);
    });

    it('reschedules a SCHEDULED campaign and refuses a CANCELLED one with 409', async () => {
      const tenant = await ctx.newTenant();
      const campaign = await createOk(tenant, await schedulable(tenant));
      const first = future();
      const second = new Date(first.getTime() + 3_600_000);
      await ctx.request('POST', `/campaigns/${campaign.id}/schedule`, { tenant, body: { scheduledAt: first.toISOString() } });
      const again = await ctx.request('POST', `/campaigns/${campaign.id}/schedule`, {
        tenant,
        body: { scheduledAt: second.toISOString() },
      });
      expect(again.json()).toMatchObject({ status: 'SCHEDULED', scheduledAt: second.toISOString() });

      await ctx.request('POST', `/campaigns/${campaign.id}/cancel`, { tenant });
      const refused = await ctx.request('POST', `/campaigns/${campaign.id}/schedule`, {
        tenant,
        body: { scheduledAt: second.toISOString() },
      });
      expect(refused.statusCode).toBe(409);
      expect(errorBody(refused)).toMatchObject({ code: 'INVALID_STATE', currentStatus: 'CANCELLED' });
    });
  });

  describe('POST /campaigns/{id}/cancel', () => {
    it('cancels a DRAFT and a SCHEDULED campaign, then refuses with 409', async () => {
      const tenant = await ctx.newTenant();
      const draft = await createOk(tenant, await schedulable(tenant));
      const scheduled = await createOk(tenant, await schedulable(tenant));
      await ctx.request('POST', `/campaigns/${scheduled.id}/schedule`, {
        tenant,
        body: { scheduledAt: new Date(ctx.clock.now.getTime() + 60_000).toISOString() },
      });
      for (const id of [draft.id, scheduled.id]) {
        const res = await ctx.request('POST', `/campaigns/${id}/cancel`, { tenant });
        expect(res.statusCode).toBe(200);
        expect(res.json().status).toBe('CANCELLED');
        expect(res.json().cancelledAt).not.toBeNull();
        const again = await ctx.request('POST', `/campaigns/${id}/cancel`, {
          tenant,
          headers: { 'content-type': 'application/json' },
          payload: '',
        });
        expect(again.statusCode).toBe(409);
        expect(errorBody(again).message).toMatch(/CANCELLED/);
      }
    });

    it('lets exactly one of many concurrent cancels win', async () => {
      const tenant = await ctx.newTenant();
      const campaign = await createOk(tenant, await schedulable(tenant));
      const results = await Promise.all(
        Array.from({ length: 10 }, () => ctx.request('POST', `/campaigns/${campaign.id}/cancel`, { tenant })),
      );
      const codes = results.map((r) => r.statusCode).sort();
      expect(codes.filter((c) => c === 200)).toHaveLength(1);
      expect(codes.filter((c) => c === 409)).toHaveLength(9);
    });

    it('never lets a schedule and a cancel both win', async () => {
      const tenant = await ctx.newTenant();
      for (let round = 0; round < 5; round++) {
        const campaign = await createOk(tenant, await schedulable(tenant));
        const [schedule, cancel] = await Promise.all([
          ctx.request('POST', `/campaigns/${campaign.id}/schedule`, {
            tenant,
            body: { scheduledAt: new Date(ctx.clock.now.getTime() + 60_000).toISOString() },
          }),
          ctx.request('POST', `/campaigns/${campaign.id}/cancel`, { tenant }),
        ]);
        const final = (await ctx.request('GET', `/campaigns/${campaign.id}`, { tenant })).json();
        expect(cancel.statusCode).toBe(200); // cancel is allowed from DRAFT and SCHEDULED alike
        expect(final.status).toBe('CANCELLED');
        // A schedule that ran after the cancel must have been refused.
        if (schedule.statusCode !== 200) expect(schedule.statusCode).toBe(409);
      }
    });
  });
});
