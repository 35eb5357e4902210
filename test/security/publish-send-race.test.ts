import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestContext, type TestTenant } from '../helpers/app.js';
import { addContacts, createCampaign, publishedTemplate } from '../helpers/flow.js';

/**
 * Holds one request at a named point between its check and its write
 * (shared/pause.ts) until the test releases it, so a competing request can
 * be driven in between — deterministically, on both engines.
 */
class Gate {
  private readonly held = new Map<string, { reached: () => void; until: Promise<void> }>();
  private readonly reachedAt = new Map<string, Promise<void>>();
  private readonly releases = new Map<string, () => void>();

  hold(point: string): void {
    let reached!: () => void;
    let release!: () => void;
    this.reachedAt.set(point, new Promise<void>((resolve) => (reached = resolve)));
    this.held.set(point, { reached, until: new Promise<void>((resolve) => (release = resolve)) });
    this.releases.set(point, release);
  }

  reached(point: string): Promise<void> {
    return this.reachedAt.get(point)!;
  }

  release(point: string): void {
    this.releases.get(point)?.();
  }

  readonly pause = async (point: string): Promise<void> => {
    const hold = this.held.get(point);
    if (!hold) return;
    this.held.delete(point);
    hold.reached();
    await hold.until;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(DIALECTS)('unpublish racing schedule and send (%s)', (dialect) => {
  const gate = new Gate();
  const ctx = useTestApp(dialect, { pause: gate.pause });

  /** A DRAFT campaign on a published en base version with a published es variant; the URLs of both versions. */
  async function setUp(ctx: TestContext): Promise<{ tenant: TestTenant; campaignId: string; baseUrl: string; variantUrl: string }> {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [{ email: 'a@race.test' }]);
    const { baseVersionId, versionIds } = await publishedTemplate(ctx, tenant, {
      en: { subject: 'Hi', html: '<p>Hi <a href="{{ unsubscribeUrl }}">unsubscribe</a></p>' },
      es: { subject: 'Hola', html: '<p>Hola <a href="{{ unsubscribeUrl }}">baja</a></p>' },
    });
    const templateId = (
      await ctx.container.database.db.selectFrom('template_versions').select('template_id').where('id', '=', baseVersionId).executeTakeFirstOrThrow()
    ).template_id;
    const campaignId = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    return {
      tenant,
      campaignId,
      baseUrl: `/templates/${templateId}/versions/${baseVersionId}`,
      variantUrl: `/templates/${templateId}/versions/${versionIds.es}`,
    };
  }

  async function state(tenant: TestTenant, campaignId: string, versionUrl: string) {
    const campaign = (await ctx.request('GET', `/campaigns/${campaignId}`, { tenant })).json() as { status: string };
    const version = (await ctx.request('GET', versionUrl, { tenant })).json() as { status: string };
    return { campaign: campaign.status, version: version.status };
  }

  for (const action of ['send', 'schedule'] as const) {
    const start = (tenant: TestTenant, campaignId: string) =>
      action === 'send'
        ? ctx.request('POST', `/campaigns/${campaignId}/send`, { tenant })
        : ctx.request('POST', `/campaigns/${campaignId}/schedule`, {
            tenant,
            body: { scheduledAt: new Date(ctx.clock.now.getTime() + 3_600_000).toISOString() },
          });
    const started = action === 'send' ? 'SENDING' : 'SCHEDULED';

    it(`${action} first, unpublish while it is between check and write: the unpublish is refused`, async () => {
      const { tenant, campaignId, variantUrl } = await setUp(ctx);
      gate.hold(action);
      const sending = start(tenant, campaignId);
      await gate.reached(action);
      // The Spanish variant: unpublishing any member of the group is refused, not only the base.
      const unpublishing = ctx.request('POST', `${variantUrl}/unpublish`, { tenant });
      await sleep(300); // let the unpublish run as far as it can
      gate.release(action);
      const [sent, unpublished] = await Promise.all([sending, unpublishing]);
      expect(sent.statusCode, sent.body).toBe(action === 'send' ? 202 : 200);
      expect(unpublished.statusCode, unpublished.body).toBe(409);
      expect(errorBody(unpublished).code).toBe('VERSION_IN_USE');
      expect(await state(tenant, campaignId, variantUrl)).toEqual({ campaign: started, version: 'PUBLISHED' });
    });

    it(`unpublish first, ${action} while the unpublish is between write and check: the ${action} is refused`, async () => {
      const { tenant, campaignId, baseUrl } = await setUp(ctx);
      gate.hold('unpublish');
      const unpublishing = ctx.request('POST', `${baseUrl}/unpublish`, { tenant });
      await gate.reached('unpublish');
      const sending = start(tenant, campaignId);
      await sleep(300);
      gate.release('unpublish');
      const [unpublished, sent] = await Promise.all([unpublishing, sending]);
      expect(unpublished.statusCode, unpublished.body).toBe(200);
      expect(sent.statusCode, sent.body).toBe(422);
      expect(errorBody(sent).code).toBe('TEMPLATE_NOT_PUBLISHED');
      expect(await state(tenant, campaignId, baseUrl)).toEqual({ campaign: 'DRAFT', version: 'DRAFT' });
    });
  }
});
