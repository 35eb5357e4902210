import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CampaignDeliveryStore } from '../../src/campaigns/campaign-delivery.store.js';
import { FanOut } from '../../src/campaigns/fanout.js';
import { CampaignPauses } from '../../src/campaigns/campaign-pause.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createTestDatabase, DIALECTS } from '../helpers/databases.js';
import { factories, pipelineOf, repositoriesOf } from '../helpers/factories.js';

/**
 * The fan-out and the delivery store on a real database of each engine,
 * with rows written by factories: no HTTP, no tenant set up through the API.
 */
describe.each(DIALECTS)('fan-out and delivery store (%s)', (dialect) => {
  let database: Database;
  let drop: () => Promise<void>;
  let make: ReturnType<typeof factories>;
  let repos: ReturnType<typeof repositoriesOf>;
  let fanout: FanOut;
  let store: CampaignDeliveryStore;
  let pauses: CampaignPauses;
  const now = new Date();

  beforeAll(async () => {
    const test = await createTestDatabase(dialect);
    drop = test.drop;
    database = openDatabase(test.config, { poolSize: 3 });
    await migrateToLatest(database);
    make = factories(database);
    ({ repos, fanout, store, pauses } = pipelineOf(database, () => now));
  });
  afterAll(async () => {
    await database.close();
    await drop();
  });

  async function sendingCampaign(contacts: number, quota = 100_000) {
    const tenantId = await make.tenant({ monthlyQuota: quota });
    const made = [];
    for (let i = 0; i < contacts; i++) made.push(await make.contact(tenantId, { locale: i % 2 ? 'es' : 'en' }));
    const { versionIds } = await make.template(tenantId, [{ locale: 'en' }, { locale: 'es' }]);
    const campaignId = await make.campaign(tenantId, { status: 'SENDING', template_version_id: versionIds[0]!, started_at: now.toISOString() });
    return { tenantId, campaignId, contacts: made, versionIds };
  }

  it('queues every contact once, routed by locale, and never past the quota ceiling', async () => {
    const { tenantId, campaignId, versionIds } = await sendingCampaign(6);
    expect(await fanout.run(tenantId, campaignId)).toEqual({ matched: 6, queued: 6, skippedQuota: 0 });
    const rows = await database.db.selectFrom('messages').select(['locale', 'template_version_id']).where('campaign_id', '=', campaignId).execute();
    expect(rows.filter((r) => r.locale === 'es').every((r) => r.template_version_id === versionIds[1])).toBe(true);
    expect(await fanout.run(tenantId, campaignId)).toBeUndefined(); // done: nothing to do

    // Quota 4 → ceiling 110 % = 4: the first four by id, the rest counted as skipped.
    const capped = await sendingCampaign(6, 4);
    expect(await fanout.run(capped.tenantId, capped.campaignId)).toEqual({ matched: 6, queued: 4, skippedQuota: 2 });
    const queued = await database.db.selectFrom('messages').select('contact_id').where('campaign_id', '=', capped.campaignId).execute();
    expect(queued.map((r) => r.contact_id).sort()).toEqual(capped.contacts.slice(0, 4).map((c) => c.id));
    expect(await repos.usage.used(capped.tenantId, now.toISOString().slice(0, 7))).toBe(4);
  });

  it('parks a paused campaign: the claim passes over it, resume makes it due, settle un-parks a send re-queued after the resume', async () => {
    await store.claimDue('sweeper', 100_000, new Date('2100-01-01T00:00:00Z'), 60_000); // earlier tests' leftovers out of the way
    const { tenantId, campaignId } = await sendingCampaign(4);
    await fanout.run(tenantId, campaignId);
    const [inFlight] = await store.claimDue('p1', 1, now, 60_000);
    expect(inFlight?.campaignId).toBe(campaignId);

    const at = now.toISOString();
    expect(await pauses.pause(tenantId, campaignId, 'manual', at)).toBe(true);
    expect(await pauses.pause(tenantId, campaignId, 'manual', at)).toBe(false);
    expect(await store.claimDue('p2', 1000, new Date('2100-01-01T00:00:00Z'), 60_000)).toEqual([]);
    expect(await pauses.resume(tenantId, campaignId, at)).toBe(true);

    // The send in flight saw PAUSED before the resume, and is recorded after it.
    const touched = await store.recordOutcomes('p1', [{ id: inFlight!.id, tenantId, campaignId, kind: 'paused' }], now);
    expect(touched).toEqual([{ tenantId, campaignId, parked: true }]);
    await store.settle(touched, now);
    const due = await store.claimDue('p3', 1000, now, 60_000);
    expect(due.map((m) => m.id).sort()).toEqual(
      (await database.db.selectFrom('messages').select('id').where('campaign_id', '=', campaignId).execute()).map((r) => Number(r.id)).sort(),
    );
    expect(due.find((m) => m.id === inFlight!.id)?.attempts).toBe(1); // the paused claim's attempt was given back
    expect(await repos.campaigns.getById(tenantId, campaignId)).toMatchObject({ status: 'SENDING', paused_reason: null });
  });

  it('runs a fan-out again after a resume when the campaign was paused while it ran', async () => {
    const { tenantId, campaignId } = await sendingCampaign(2);
    expect(await repos.campaigns.claimFanOut(tenantId, campaignId, now, 60_000)).toBe(true); // another process's fan-out, in flight
    expect(await pauses.pause(tenantId, campaignId, 'manual', now.toISOString())).toBe(true);
    expect(await fanout.run(tenantId, campaignId)).toBeUndefined();
    expect(await pauses.resume(tenantId, campaignId, now.toISOString())).toBe(true);
    expect(await fanout.run(tenantId, campaignId)).toEqual({ matched: 2, queued: 2, skippedQuota: 0 });
  });

  it('leaves nothing behind when the campaign was cancelled before the fan-out committed', async () => {
    const { tenantId, campaignId } = await sendingCampaign(3);
    await database.db.updateTable('campaigns').set({ status: 'CANCELLED' }).where('id', '=', campaignId).execute();
    expect(await fanout.run(tenantId, campaignId)).toBeUndefined();
    expect(await repos.messages.lastContactOf(campaignId)).toBeUndefined();
  });

  it('records outcomes with their counters and suppressions in one go, then completes the campaign', async () => {
    const { tenantId, campaignId } = await sendingCampaign(5);
    await fanout.run(tenantId, campaignId);
    // Earlier tests left their messages queued: claim everything, keep this campaign's.
    const claimed = (await store.claimDue('w1', 1000, now, 60_000)).filter((m) => m.campaignId === campaignId);
    expect(claimed).toHaveLength(5);
    const [a, b, c, d, e] = claimed.map((m) => ({ id: m.id, tenantId, campaignId, email: m.email! }));
    const touched = await store.recordOutcomes(
      'w1',
      [
        { ...a!, kind: 'sent', providerMessageId: '<a>', response: '250' },
        { ...b!, kind: 'failed', error: '550 5.1.1 unknown', bounce: { email: b!.email, type: 'hard' } },
        { ...c!, kind: 'skipped', reason: 'opted_out' },
        { ...d!, kind: 'skipped', reason: 'suppressed' },
        { ...e!, kind: 'skipped', reason: 'contact_erased' },
        // Another worker's claim: refused by the lease, counted nowhere.
      ],
      now,
    );
    expect(touched).toEqual([{ tenantId, campaignId }]);
    expect(await store.recordOutcomes('w2', [{ ...a!, kind: 'sent', providerMessageId: '<x>', response: '250' }], now)).toEqual([]);
    expect(await repos.suppressions.get(tenantId, b!.email)).toMatchObject({ reason: 'bounce' });

    await store.settle(touched, now);
    const campaign = await repos.campaigns.getById(tenantId, campaignId);
    expect(campaign).toMatchObject({
      status: 'SENT',
      sent_count: 1,
      failed_count: 1,
      skipped_opted_out: 1,
      skipped_suppressed: 1,
      skipped_erased: 1,
    });
  });

  it('keeps runs of soft bounces per tenant and address: a batch adds up, a delivery ends the run, the limit suppresses', async () => {
    const tenantId = await make.tenant();
    const other = await make.tenant();
    const a = await make.contact(tenantId, { email: 'a@runs.test' });
    const b = await make.contact(tenantId, { email: 'b@runs.test' });
    const { versionIds } = await make.template(tenantId, [{ locale: 'en' }]);
    const campaign = () => make.campaign(tenantId, { status: 'SENDING', template_version_id: versionIds[0]!, started_at: now.toISOString() });
    const claimOf = async (campaignIds: string[]) => {
      for (const id of campaignIds) await fanout.run(tenantId, id);
      return (await store.claimDue('w-runs', 1000, now, 60_000)).filter((m) => campaignIds.includes(m.campaignId!));
    };
    const runOf = (tenant: string, email: string) => repos.softBounces.runOf(tenant, email);
    await repos.softBounces.add([{ tenantId, email: b.email }, { tenantId: other, email: a.email }, { tenantId: other, email: a.email }], now.toISOString());

    const [c1, c2] = [await campaign(), await campaign()];
    const claimed = await claimOf([c1, c2]);
    expect(claimed).toHaveLength(4);
    const outcome = (m: (typeof claimed)[number]) => {
      const of = { id: m.id, tenantId, campaignId: m.campaignId, recipient: { contactId: m.contactId, email: m.email, externalId: null, locale: null, templateVersionId: m.templateVersionId } };
      return m.email === a.email
        ? { ...of, kind: 'failed' as const, error: '552 5.2.2 mailbox full', bounce: { email: m.email, type: 'soft' as const } }
        : { ...of, kind: 'sent' as const, providerMessageId: '<x>', response: '250' };
    };
    await store.recordOutcomes('w-runs', claimed.map(outcome), now);
    expect(await runOf(tenantId, a.email)).toBe(2); // the same address twice in one batch: one row, two bounces
    expect(await runOf(tenantId, b.email)).toBe(0); // delivered: the run is over
    expect(await runOf(other, a.email)).toBe(2); // another tenant's run of the same address is its own

    const c3 = await campaign();
    const third = (await claimOf([c3])).filter((m) => m.email === a.email);
    await store.recordOutcomes('w-runs', third.map(outcome), now);
    expect(await repos.suppressions.get(tenantId, a.email)).toMatchObject({ reason: 'bounce' });
    expect(await runOf(tenantId, a.email)).toBe(0);
    expect(await repos.suppressions.get(other, a.email)).toBeUndefined();
    const events = await database.db.selectFrom('events').select(['type', 'data']).where('tenant_id', '=', tenantId).where('type', '=', 'email.bounced').execute();
    expect(events).toHaveLength(3);
    for (const e of events) expect(JSON.parse(typeof e.data === 'string' ? e.data : JSON.stringify(e.data))).toMatchObject({ bounceType: 'soft' });
  });

  describe('streamed in committed chunks', () => {
    /** A fan-out of chunks of 2, then 3: `onChunk` runs after each chunk has committed, before the next. */
    const chunked = (onChunk: () => Promise<void> | void = () => {}) =>
      pipelineOf(database, () => now, { chunkRows: { first: 2, max: 3 }, onQueued: onChunk }).fanout;

    const queuedOf = async (campaignId: string) =>
      (await database.db.selectFrom('messages').select('contact_id').where('campaign_id', '=', campaignId).orderBy('contact_id').execute()).map((r) => r.contact_id);

    it('queues every contact exactly once across chunks, the quota ceiling cutting inside a chunk', async () => {
      const { tenantId, campaignId, contacts } = await sendingCampaign(7);
      expect(await chunked().run(tenantId, campaignId)).toEqual({ matched: 7, queued: 7, skippedQuota: 0 });
      expect(await queuedOf(campaignId)).toEqual(contacts.map((c) => c.id));

      // Quota 4 → ceiling 4: chunks of 2 then 2 (not 3), the first four by id; three skipped.
      const capped = await sendingCampaign(7, 4);
      expect(await chunked().run(capped.tenantId, capped.campaignId)).toEqual({ matched: 7, queued: 4, skippedQuota: 3 });
      expect(await queuedOf(capped.campaignId)).toEqual(capped.contacts.slice(0, 4).map((c) => c.id));
      expect(await repos.usage.used(capped.tenantId, now.toISOString().slice(0, 7))).toBe(4);
      expect(await repos.campaigns.getById(capped.tenantId, capped.campaignId)).toMatchObject({ total_count: 7, queued_count: 4, skipped_quota: 3 });
    });

    it('lets workers claim a committed chunk while the fan-out goes on, and completes only after the last one', async () => {
      await store.claimDue('sweeper', 100_000, new Date('2100-01-01T00:00:00Z'), 60_000); // earlier tests' leftovers out of the way
      const { tenantId, campaignId } = await sendingCampaign(6);
      const claimedMidway: number[] = [];
      const run = chunked(async () => {
        if (claimedMidway.length > 0) return;
        const claimed = await store.claimDue('early', 100, now, 60_000);
        claimedMidway.push(...claimed.filter((m) => m.campaignId === campaignId).map((m) => m.id));
        const touched = await store.recordOutcomes('early', claimed.map((m) => ({ id: m.id, tenantId, campaignId, kind: 'sent' as const, providerMessageId: `<${m.id}@pipeline.test>`, response: '250 OK' })), now);
        await store.settle(touched, now); // the fan-out is not done: the campaign must stay SENDING
        expect((await repos.campaigns.getById(tenantId, campaignId))?.status).toBe('SENDING');
      });
      expect(await run.run(tenantId, campaignId)).toEqual({ matched: 6, queued: 6, skippedQuota: 0 });
      expect(claimedMidway).toHaveLength(2); // the first chunk, sent before the fan-out finished
      const rest = await store.claimDue('late', 100, now, 60_000);
      expect(rest.filter((m) => m.campaignId === campaignId)).toHaveLength(4);
      await store.settle(await store.recordOutcomes('late', rest.map((m) => ({ id: m.id, tenantId, campaignId, kind: 'sent' as const, providerMessageId: `<${m.id}@pipeline.test>`, response: '250 OK' })), now), now);
      expect(await repos.campaigns.getById(tenantId, campaignId)).toMatchObject({ status: 'SENT', sent_count: 6, queued_count: 6 });
    });

    it('resumes after a crash between chunks: every contact once, the quota charged once', async () => {
      const { tenantId, campaignId, contacts } = await sendingCampaign(7);
      class Crash extends Error {}
      let chunksSeen = 0;
      const dying = chunked(() => {
        if (++chunksSeen === 2) throw new Crash(); // the process dies after its second chunk committed
      });
      await expect(dying.run(tenantId, campaignId)).rejects.toBeInstanceOf(Crash);
      expect(await queuedOf(campaignId)).toHaveLength(5); // 2 + 3 committed, then nothing
      // Its lease runs out; another process takes the fan-out over.
      await database.db.updateTable('campaigns').set({ fanout_lease_until: null }).where('id', '=', campaignId).execute();
      expect(await chunked().run(tenantId, campaignId)).toEqual({ matched: 7, queued: 7, skippedQuota: 0 });
      expect(await queuedOf(campaignId)).toEqual(contacts.map((c) => c.id));
      expect(await repos.usage.used(tenantId, now.toISOString().slice(0, 7))).toBe(7);
    });

    it('stops at a cancel between chunks: nothing queued after it, what was queued cancelled', async () => {
      const { tenantId, campaignId } = await sendingCampaign(7);
      const run = chunked(async () => {
        await database.db.updateTable('campaigns').set({ status: 'CANCELLED' }).where('id', '=', campaignId).execute();
        await repos.messages.cancelQueued(tenantId, campaignId, now.toISOString());
      });
      expect(await run.run(tenantId, campaignId)).toBeUndefined();
      const rows = await database.db.selectFrom('messages').select('status').where('campaign_id', '=', campaignId).execute();
      expect(rows.map((r) => r.status)).toEqual(['CANCELLED', 'CANCELLED']);
      expect((await repos.campaigns.getById(tenantId, campaignId))?.fanout_completed_at).toBeNull();
    });

    it('leaves out a contact suppressed or opted out before its chunk', async () => {
      const { tenantId, campaignId, contacts } = await sendingCampaign(6);
      const late = contacts.at(-1)!;
      const optedOut = contacts.at(-2)!;
      let first = true;
      const run = chunked(async () => {
        if (!first) return;
        first = false;
        await database.db.insertInto('suppressions').values({ tenant_id: tenantId, email: late.email, reason: 'manual', created_at: now.toISOString() }).execute();
        await database.db.updateTable('contacts').set({ opt_in: 0 }).where('id', '=', optedOut.id).execute();
      });
      expect(await run.run(tenantId, campaignId)).toEqual({ matched: 4, queued: 4, skippedQuota: 0 });
      expect(await queuedOf(campaignId)).not.toContain(late.id);
      expect(await queuedOf(campaignId)).not.toContain(optedOut.id);
    });
  });
});
