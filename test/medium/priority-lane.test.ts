import pino from 'pino';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CampaignDeliveryStore } from '../../src/campaigns/campaign-delivery.store.js';
import { FanOut } from '../../src/campaigns/fanout.js';
import { DEFAULTS } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { CampaignMailBuilder } from '../../src/delivery/campaign-mail.js';
import type { Lane } from '../../src/delivery/delivery-store.js';
import type { Mailer } from '../../src/delivery/mailer.js';
import { RateLimiter } from '../../src/delivery/rate-limiter.js';
import { DeliveryWorker, QueueSignal } from '../../src/delivery/worker.js';
import { newId } from '../../src/shared/ids.js';
import { TemplateRenderer } from '../../src/templates/render.js';
import { createTestDatabase, DIALECTS } from '../helpers/databases.js';
import { factories, pipelineOf, repositoriesOf } from '../helpers/factories.js';

const SENDER = { fromEmail: 'news@lane.test', fromName: 'Lane', replyTo: null };

/** Records what it sends; `hold` makes every send wait until `release()`. */
class TestMailer implements Mailer {
  readonly sent: Mail.Options[] = [];
  started = 0;
  private held: (() => void)[] = [];
  private holding: boolean;

  constructor(hold = false) {
    this.holding = hold;
  }

  async send(mail: Mail.Options) {
    this.started++;
    if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
    this.sent.push(mail);
    return { messageId: String(mail.messageId), response: '250 ok' };
  }

  release(): void {
    this.holding = false;
    for (const resume of this.held.splice(0)) resume();
  }

  close(): void {}
}

/**
 * The queue's two streams on a real database of each engine: each lane
 * claims only its own stream, and a worker whose campaign sends are all
 * stuck still delivers a transactional email (its own loop, slots and
 * connections) — the priority lane of docs/SENDING.md.
 */
describe.each(DIALECTS)('priority lane (%s)', (dialect) => {
  let database: Database;
  let drop: () => Promise<void>;
  let make: ReturnType<typeof factories>;
  let repos: ReturnType<typeof repositoriesOf>;
  let fanout: FanOut;
  let store: CampaignDeliveryStore;
  let renderer: TemplateRenderer;
  const now = new Date();

  beforeAll(async () => {
    const test = await createTestDatabase(dialect);
    drop = test.drop;
    database = openDatabase(test.config, { poolSize: 4 });
    await migrateToLatest(database);
    make = factories(database);
    ({ repos, fanout, store } = pipelineOf(database));
    renderer = new TemplateRenderer({ threads: 1 });
  });
  afterAll(async () => {
    await renderer.close();
    await database.close();
    await drop();
  });

  async function sendingCampaign(tenantId: string, contacts: number): Promise<string> {
    for (let i = 0; i < contacts; i++) await make.contact(tenantId);
    const { versionIds } = await make.template(tenantId, [{ locale: 'en' }]);
    const campaignId = await make.campaign(tenantId, { status: 'SENDING', template_version_id: versionIds[0]!, started_at: now.toISOString() });
    await fanout.run(tenantId, campaignId);
    return campaignId;
  }

  /** A transactional email as the API queues it: the queue row, then its content beside it. */
  async function transactional(tenantId: string, to: string, options: { dueAt?: Date; contactId?: string | null; bypassUnsubscribe?: boolean } = {}) {
    const at = new Date().toISOString();
    const messageId = await repos.messages.queueTransactional({
      tenantId,
      contactId: options.contactId ?? null,
      email: to,
      locale: null,
      templateVersionId: null,
      dueAt: (options.dueAt ?? new Date()).toISOString(),
      at,
    });
    const emailId = newId();
    await database.db
      .insertInto('transactional_emails')
      .values({
        id: emailId,
        tenant_id: tenantId,
        message_id: messageId,
        to_email: to,
        contact_id: options.contactId ?? null,
        from_email: SENDER.fromEmail,
        from_name: null,
        reply_to: null,
        project_id: null,
        subject: `Receipt for ${to}`,
        html_body: '<p>Thanks</p>',
        text_body: 'Thanks',
        template_version_id: null,
        locale: null,
        unsubscribe_url: null,
        tags: '[]',
        metadata: null,
        bypass_unsubscribe: options.bypassUnsubscribe ? 1 : 0,
        send_mode: 'live',
        scheduled_at: null,
        idempotency_key: null,
        request_fingerprint: null,
        created_at: at,
      })
      .execute();
    return { messageId, emailId };
  }

  const statusOf = async (id: number) =>
    (await database.db.selectFrom('messages').select(['status', 'skip_reason']).where('id', '=', id).executeTakeFirstOrThrow());

  it('each lane claims its own stream only, and a scheduled email not before it is due', async () => {
    const tenantId = await make.tenant();
    const campaignId = await sendingCampaign(tenantId, 3);
    const due = await transactional(tenantId, 'due@lane.test');
    const later = await transactional(tenantId, 'later@lane.test', { dueAt: new Date(Date.now() + 3_600_000) });

    expect(await store.anyDue(new Date(), 'transactional')).toBe(true);
    const tx = await store.claimDue('w-a', 100, new Date(), 60_000, 'transactional');
    expect(tx.map((m) => m.id)).toEqual([due.messageId]);
    expect(tx[0]).toMatchObject({ stream: 'transactional', campaignId: null, content: { emailId: due.emailId, subject: 'Receipt for due@lane.test' } });
    expect(await store.anyDue(new Date(), 'transactional')).toBe(false); // the later one is not due

    const campaign = await store.claimDue('w-a', 100, new Date(), 60_000, 'campaign');
    expect(campaign).toHaveLength(3);
    expect(campaign.every((m) => m.stream === 'campaign' && m.campaignId === campaignId)).toBe(true);

    // An hour on, the scheduled one is due, and only the transactional lane takes it.
    const inAnHour = new Date(Date.now() + 3_600_001);
    expect(await store.claimDue('w-b', 100, inAnHour, 60_000, 'campaign')).toEqual([]);
    expect((await store.claimDue('w-b', 100, inAnHour, 60_000, 'transactional')).map((m) => m.id)).toEqual([later.messageId]);
    // The queue is shared by the tests below: these go out of it.
    await database.db.updateTable('messages').set({ status: 'CANCELLED', lease_owner: null }).where('tenant_id', '=', tenantId).execute();
  });

  it('delivers a transactional email while every campaign send is stuck, and records it with its events', async () => {
    const tenantId = await make.tenant();
    const campaignId = await sendingCampaign(tenantId, 60);
    const campaignMailer = new TestMailer(true);
    const priorityMailer = new TestMailer();
    const queued = new QueueSignal();
    const routes = { route: (_p: unknown, _t: boolean, lane?: Lane) => ({ mailer: lane === 'transactional' ? priorityMailer : campaignMailer, sender: SENDER }) };
    const worker = new DeliveryWorker(
      {
        store,
        routes,
        mail: new CampaignMailBuilder({ renderer, secret: 'lane-test-secret', publicUrl: 'https://lane.test' }),
        rateLimiter: new RateLimiter(),
        clock: () => new Date(),
        logger: pino({ level: 'silent' }),
        queued,
      },
      // A long poll: the nudge, not the poll, is what wakes the lane here.
      { ...DEFAULTS.sending, loops: 1, batchSize: 20, sendConcurrency: 5, idlePollMs: 20, priority: { sendConcurrency: 2, pollMs: 60_000, connections: 1 } },
    );
    worker.start();
    try {
      await until(() => campaignMailer.started >= 5); // the campaign loop's slots are all taken
      const { messageId, emailId } = await transactional(tenantId, 'receipt@lane.test');
      queued.notify('transactional');
      await until(async () => (await statusOf(messageId)).status === 'SENT');
      expect(priorityMailer.sent.map((m) => m.to)).toEqual(['receipt@lane.test']);
      expect(campaignMailer.sent).toHaveLength(0); // still stuck: nothing of the campaign went out before it
      const mail = priorityMailer.sent[0]!;
      expect(mail.headers).not.toHaveProperty('List-Unsubscribe');
      expect(mail.headers).not.toHaveProperty('List-Id');
      const events = await database.db.selectFrom('events').select(['type', 'campaign_id', 'data']).where('message_id', '=', messageId).execute();
      expect(events.map((e) => e.type)).toEqual(['email.sent']);
      expect(events[0]!.campaign_id).toBeNull();
      expect(JSON.parse(String(typeof events[0]!.data === 'string' ? events[0]!.data : JSON.stringify(events[0]!.data)))).toMatchObject({ emailId, campaignId: null });
    } finally {
      campaignMailer.release();
      await until(async () => (await database.db.selectFrom('campaigns').select('status').where('id', '=', campaignId).executeTakeFirstOrThrow()).status === 'SENT');
      await worker.stop();
    }
    expect(campaignMailer.sent).toHaveLength(60);
  });

  it('skips a suppressed address (an unsubscribe only when the email may bypass it) and a contact erased since', async () => {
    const tenantId = await make.tenant();
    const now = new Date().toISOString();
    await repos.suppressions.suppress(tenantId, 'bounced@lane.test', 'bounce', now);
    await repos.suppressions.suppress(tenantId, 'left@lane.test', 'unsubscribe', now);
    const contact = await make.contact(tenantId, { email: 'gone@lane.test' });
    const bounced = await transactional(tenantId, 'bounced@lane.test', { bypassUnsubscribe: true });
    const left = await transactional(tenantId, 'left@lane.test');
    const leftButReceipt = await transactional(tenantId, 'left@lane.test', { bypassUnsubscribe: true });
    const erased = await transactional(tenantId, contact.email, { contactId: contact.id });
    await database.db.deleteFrom('contacts').where('id', '=', contact.id).execute();

    const mailer = new TestMailer();
    const worker = new DeliveryWorker(
      {
        store,
        routes: { route: () => ({ mailer, sender: SENDER }) },
        mail: new CampaignMailBuilder({ renderer, secret: 'lane-test-secret', publicUrl: 'https://lane.test' }),
        rateLimiter: new RateLimiter(),
        clock: () => new Date(),
        logger: pino({ level: 'silent' }),
      },
      { ...DEFAULTS.sending, loops: 1 },
    );
    expect(await worker.runOnce()).toBe(4);
    expect(await statusOf(bounced.messageId)).toEqual({ status: 'SKIPPED', skip_reason: 'suppressed' });
    expect(await statusOf(left.messageId)).toEqual({ status: 'SKIPPED', skip_reason: 'suppressed' });
    expect(await statusOf(leftButReceipt.messageId)).toMatchObject({ status: 'SENT' });
    expect(await statusOf(erased.messageId)).toEqual({ status: 'SKIPPED', skip_reason: 'contact_erased' });
    expect(mailer.sent.map((m) => m.to)).toEqual(['left@lane.test']);
  });
});

/** Waits for a condition the test causes (no timing is asserted: a slow machine only waits longer). */
async function until(check: () => boolean | Promise<boolean>, limitMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > limitMs) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
