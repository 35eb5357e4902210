import type { CampaignRow } from '../../src/campaigns/campaign.repository.js';
import { createRepositories } from '../../src/repositories.js';
import { CampaignBreaker } from '../../src/campaigns/campaign-breaker.js';
import { CampaignDeliveryStore } from '../../src/campaigns/campaign-delivery.store.js';
import { CampaignPauses } from '../../src/campaigns/campaign-pause.js';
import { FanOut, type FanOutDeps } from '../../src/campaigns/fanout.js';
import { DEFAULTS, FANOUT_CHUNK_DEFAULTS } from '../../src/config.js';
import { transactionOf, type Database } from '../../src/db/database.js';
import { SigningKeys } from '../../src/domains/signing-keys.js';
import { eventLogOf } from '../../src/events/event-log.js';
import { SecretBox } from '../../src/shared/secret-box.js';
import { newId } from '../../src/shared/ids.js';

/**
 * The middle test tier (Immich's "medium" tests): repositories on a real
 * database of either engine, and factories that write rows directly, so a
 * fan-out or delivery test needs no tenant, template, project and campaign
 * built over HTTP first.
 */
export const repositoriesOf = (database: Database) => createRepositories(database);

const now = () => new Date().toISOString();

export function factories(database: Database) {
  const { db } = database;
  return {
    async tenant(overrides: { monthlyQuota?: number; fallbackLocale?: string | null } = {}): Promise<string> {
      const id = newId();
      await db
        .insertInto('tenants')
        .values({ id, name: `tenant ${id.slice(-6)}`, monthly_quota: overrides.monthlyQuota ?? 100_000, fallback_locale: overrides.fallbackLocale ?? null, created_at: now(), updated_at: now() })
        .execute();
      return id;
    },

    async contact(
      tenantId: string,
      overrides: { email?: string; locale?: string | null; optIn?: boolean; attributes?: Record<string, unknown>; externalId?: string } = {},
    ): Promise<{ id: string; email: string }> {
      const id = newId();
      const email = overrides.email ?? `c-${id.slice(-12)}@factory.test`;
      await db
        .insertInto('contacts')
        .values({
          id,
          tenant_id: tenantId,
          email,
          external_id: overrides.externalId ?? null,
          locale: overrides.locale ?? null,
          opt_in: overrides.optIn === false ? 0 : 1,
          attributes: JSON.stringify(overrides.attributes ?? {}),
          consent_version: null,
          source: null,
          project_id: null,
          created_at: now(),
          updated_at: now(),
        })
        .execute();
      return { id, email };
    },

    /** A template with one version per locale given (the first anchors the group); all PUBLISHED unless said otherwise. */
    async template(
      tenantId: string,
      variants: { locale: string | null; subject?: string; html?: string; status?: 'DRAFT' | 'PUBLISHED' }[] = [{ locale: 'en' }],
    ): Promise<{ templateId: string; versionIds: string[] }> {
      const templateId = newId();
      await db.insertInto('templates').values({ id: templateId, tenant_id: tenantId, name: 'factory', created_at: now(), updated_at: now() }).execute();
      const versionIds: string[] = [];
      for (const v of variants) {
        const id = newId();
        const status = v.status ?? 'PUBLISHED';
        await db
          .insertInto('template_versions')
          .values({
            id,
            tenant_id: tenantId,
            template_id: templateId,
            status,
            subject: v.subject ?? `Hello ${v.locale ?? 'anyone'}`,
            html_body: v.html ?? `<p>${v.locale ?? 'base'} {{ email }} <a href="{{ unsubscribeUrl }}">unsubscribe</a></p>`,
            text_body: null,
            locale: v.locale,
            locale_group_id: versionIds[0] ?? null,
            variables: null,
            published_at: status === 'PUBLISHED' ? now() : null,
            first_published_at: status === 'PUBLISHED' ? now() : null,
            created_at: now(),
            updated_at: now(),
          })
          .execute();
        versionIds.push(id);
      }
      return { templateId, versionIds };
    },

    async campaign(tenantId: string, overrides: Partial<CampaignRow> = {}): Promise<string> {
      const id = newId();
      await db
        .insertInto('campaigns')
        .values({
          id,
          tenant_id: tenantId,
          name: 'factory campaign',
          template_version_id: null,
          subject: null,
          audience_filter: null,
          project_id: null,
          timezone: null,
          status: 'DRAFT',
          scheduled_at: null,
          created_at: now(),
          updated_at: now(),
          cancelled_at: null,
          started_at: null,
          completed_at: null,
          fanout_completed_at: null,
          fanout_lease_until: null,
          send_mode: null,
          ...overrides,
        })
        .execute();
      return id;
    },
  };
}

/**
 * The campaign pipeline's parts over a real database, wired as the
 * container wires them: the fan-out (its clock given), the delivery store
 * with its circuit breaker (default thresholds), and the pauses it uses.
 */
export function pipelineOf(
  database: Database,
  clock: () => Date = () => new Date(),
  fanOutOptions: Partial<Pick<FanOutDeps, 'chunkRows' | 'onQueued'>> = {},
) {
  const repos = repositoriesOf(database);
  const transaction = transactionOf(database.db);
  const eventLog = eventLogOf(repos);
  const pauses = new CampaignPauses({ ...repos, stats: repos.campaignStats, transaction, eventLog });
  const store = new CampaignDeliveryStore({
    ...repos,
    transaction,
    eventLog,
    softBounceLimit: 3,
    breaker: new CampaignBreaker({ campaigns: repos.campaigns, pauses, settings: DEFAULTS.breaker }),
    signingKeys: new SigningKeys({ domains: repos.sendingDomains, secretBox: new SecretBox('pipeline-test-secret') }),
  });
  const fanout = new FanOut({ ...repos, transaction, eventLog, clock, leaseMs: 60_000, chunkRows: FANOUT_CHUNK_DEFAULTS[database.dialect], ...fanOutOptions });
  return { repos, fanout, store, pauses };
}
