import { parseAudienceFilter } from '../audience/audience-filter.js';
import type { Transaction } from '../db/database.js';
import type { MessageRepository } from '../delivery/message.repository.js';
import type { EventLog } from '../events/event-log.js';
import { invalidState, notFound, validationError } from '../shared/errors.js';
import { noPause, type Pause } from '../shared/pause.js';
import type { TemplateRepository } from '../templates/template.repository.js';
import { isId, newId } from '../shared/ids.js';
import { toPage, type Page } from '../shared/pagination.js';
import type { Clock } from '../shared/time.js';
import { normaliseTimeZone } from '../shared/timezone.js';
import { campaignColumns } from './campaign.input.js';
import type { CampaignPatch, CampaignRepository, CampaignRow, CampaignView } from './campaign.repository.js';
import type {
  Campaign,
  CreateCampaignBody,
  ListCampaignsQuery,
  ScheduleCampaignBody,
  UpdateCampaignBody,
} from './campaign.schemas.js';
import { canPerform, type CampaignAction } from './lifecycle.js';
import type { CampaignReferences } from './campaign.references.js';
import type { KeyMode } from '../auth/api-key.js';
import type { PreflightService } from './preflight.service.js';
import { resolveScheduledAt, ScheduleTimeError } from './schedule-time.js';
import { campaignEvent } from './campaign-events.js';
import type { CampaignPauses } from './campaign-pause.js';

export interface CampaignServiceDeps {
  transaction: Transaction;
  /** Lifecycle moves that matter to receivers (campaign.sending, .sent, .cancelled) are recorded in the move's transaction. */
  eventLog: EventLog;
  campaigns: CampaignRepository;
  messages: MessageRepository;
  templates: TemplateRepository;
  references: CampaignReferences;
  clock: Clock;
  /** SENDING ⇄ PAUSED with the campaign's messages and events. */
  pauses: CampaignPauses;
  /** Race tests hold a request between its check and its write (shared/pause.ts). */
  pause?: Pause;
  /** The pre-send check, enforced when scheduling (absent: not checked). */
  preflight?: PreflightService;
}

/** Drafts and their life before sending: create, read, edit, schedule, cancel. */
export class CampaignService {
  constructor(private readonly deps: CampaignServiceDeps) {}

  async create(tenantId: string, body: CreateCampaignBody): Promise<Campaign> {
    const columns = campaignColumns(body);
    await this.deps.references.assertOwned(tenantId, columns);
    const now = this.deps.clock().toISOString();
    const row: CampaignRow = {
      id: newId(),
      tenant_id: tenantId,
      name: columns.name!,
      template_version_id: columns.template_version_id ?? null,
      subject: columns.subject ?? null,
      audience_filter: columns.audience_filter ?? null,
      project_id: columns.project_id ?? null,
      timezone: columns.timezone ?? null,
      status: 'DRAFT',
      scheduled_at: null,
      created_at: now,
      updated_at: now,
      cancelled_at: null,
      started_at: null,
      completed_at: null,
      paused_reason: null,
      breaker_baseline: null,
      fanout_completed_at: null,
      fanout_lease_until: null,
      send_mode: null,
      total_count: 0,
      queued_count: 0,
      sent_count: 0,
      failed_count: 0,
      cancelled_count: 0,
      skipped_quota: 0,
      skipped_suppressed: 0,
      skipped_opted_out: 0,
      skipped_erased: 0,
      track_opens: columns.track_opens ?? 0,
      last_test_send_at: null,
      track_clicks: columns.track_clicks ?? 0,
    };
    await this.deps.campaigns.insert(row);
    return toCampaign(row);
  }

  async list(tenantId: string, query: ListCampaignsQuery): Promise<Page<Campaign>> {
    const page = { page: query.page, limit: query.limit };
    const { rows, total } = await this.deps.campaigns.list(tenantId, { status: query.status }, page);
    return toPage(rows.map(toCampaign), total, page);
  }

  async get(tenantId: string, id: string): Promise<Campaign> {
    return toCampaign(await this.load(tenantId, id));
  }

  async update(tenantId: string, id: string, body: UpdateCampaignBody): Promise<Campaign> {
    const columns = campaignColumns(body);
    const campaign = await this.load(tenantId, id);
    if (!canPerform('update', campaign.status)) throw invalidState('campaign', campaign.status, 'update');
    await this.deps.references.assertOwned(tenantId, columns);
    return this.apply(tenantId, id, 'update', columns);
  }

  /** Needs a published template and a passed pre-send check (unless `force`); the key's mode (live or test) decides how the campaign will be sent. */
  async schedule(tenantId: string, id: string, body: ScheduleCampaignBody, mode: KeyMode = 'live', force = false): Promise<Campaign> {
    const campaign = await this.load(tenantId, id);
    if (!canPerform('schedule', campaign.status)) throw invalidState('campaign', campaign.status, 'schedule');
    let timezone = campaign.timezone;
    if (body.timezone !== undefined) {
      timezone = normaliseTimeZone(body.timezone) ?? null;
      if (!timezone) {
        throw validationError('Invalid schedule', [{ field: 'timezone', message: `"${body.timezone}" is not an IANA time zone` }]);
      }
    }
    let scheduledAt: Date;
    try {
      scheduledAt = resolveScheduledAt(body.scheduledAt, timezone ?? undefined, this.deps.clock());
    } catch (error) {
      if (error instanceof ScheduleTimeError) {
        throw validationError('Invalid schedule', [{ field: 'scheduledAt', message: error.message }]);
      }
      throw error;
    }
    await this.deps.references.assertSendable(tenantId, campaign);
    await this.deps.preflight?.enforce(tenantId, campaign, force);
    const at = this.deps.clock().toISOString();
    await startUsingVersion(this.deps, tenantId, campaign, 'schedule', {
      scheduled_at: scheduledAt.toISOString(),
      timezone,
      send_mode: mode,
      updated_at: at,
    });
    return toCampaign(await this.load(tenantId, id));
  }

  /** SENDING → PAUSED by hand (`pausedReason: "manual"`): its queued messages wait, in-flight sends go back to the queue. */
  async pause(tenantId: string, id: string): Promise<Campaign> {
    if (!isId(id)) throw notFound('Campaign');
    const paused = await this.deps.pauses.pause(tenantId, id, 'manual', this.deps.clock().toISOString());
    const current = await this.load(tenantId, id);
    if (!paused) throw invalidState('campaign', current.status, 'pause');
    return toCampaign(current);
  }

  /** PAUSED → SENDING: its queued messages are due at once. */
  async resume(tenantId: string, id: string): Promise<Campaign> {
    if (!isId(id)) throw notFound('Campaign');
    const resumed = await this.deps.pauses.resume(tenantId, id, this.deps.clock().toISOString());
    const current = await this.load(tenantId, id);
    if (!resumed) throw invalidState('campaign', current.status, 'resume');
    return toCampaign(current);
  }

  /** From DRAFT, SCHEDULED, SENDING or PAUSED; a sending or paused campaign's queued messages are cancelled with it, in one transaction. */
  async cancel(tenantId: string, id: string): Promise<Campaign> {
    if (!isId(id)) throw notFound('Campaign');
    const at = this.deps.clock().toISOString();
    const cancelled = await this.deps.transaction(async (trx) => {
      const campaigns = this.deps.campaigns.in(trx);
      if (!(await campaigns.move(tenantId, id, 'cancel', { cancelled_at: at, updated_at: at, fanout_lease_until: null, paused_reason: null }))) return false;
      // In-flight sends finish and are counted as they settle.
      const n = await this.deps.messages.in(trx).cancelQueued(tenantId, id, at);
      await campaigns.addCounts(tenantId, id, { cancelled: n });
      await this.deps.eventLog.in(trx).record([campaignEvent('cancel', tenantId, id, at)!]);
      return true;
    });
    const current = await this.load(tenantId, id);
    if (!cancelled) throw invalidState('campaign', current.status, 'cancel');
    return toCampaign(current);
  }

  /** Applies an action as one conditional update; explains a refusal with the current status. */
  private async apply(tenantId: string, id: string, action: CampaignAction, patch: CampaignPatch): Promise<Campaign> {
    if (!isId(id)) throw notFound('Campaign');
    const applied = await this.deps.campaigns.move(tenantId, id, action, { ...patch, updated_at: this.deps.clock().toISOString() });
    const current = await this.load(tenantId, id);
    if (!applied) throw invalidState('campaign', current.status, action);
    return toCampaign(current);
  }

  private async load(tenantId: string, id: string): Promise<CampaignRow> {
    const row = isId(id) ? await this.deps.campaigns.getById(tenantId, id) : undefined;
    if (!row) throw notFound('Campaign');
    return row;
  }
}

export function toCampaign(row: CampaignView): Campaign {
  return {
    id: row.id,
    name: row.name,
    templateVersionId: row.template_version_id,
    subject: row.subject,
    audienceFilter: parseAudienceFilter(row.audience_filter),
    projectId: row.project_id,
    timezone: row.timezone,
    tracking: { opens: row.track_opens === 1, clicks: row.track_clicks === 1 },
    status: row.status,
    pausedReason: row.paused_reason,
    scheduledAt: row.scheduled_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    cancelledAt: row.cancelled_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    counters: countersOf(row),
  };
}

/** `queued` is what is still waiting or in flight: created minus every settled outcome. */
export function countersOf(row: CampaignView): Campaign['counters'] {
  const skippedAtSend = row.skipped_suppressed + row.skipped_opted_out + row.skipped_erased;
  const settled = row.sent_count + row.failed_count + row.cancelled_count + skippedAtSend;
  return {
    total: row.total_count,
    queued: Math.max(0, row.queued_count - settled),
    sent: row.sent_count,
    failed: row.failed_count,
    cancelled: row.cancelled_count,
    skipped: { quota: row.skipped_quota, suppressed: row.skipped_suppressed, optedOut: row.skipped_opted_out, erased: row.skipped_erased },
  };
}

/**
 * Schedule and send: the campaign starts using its template version. The
 * version's locale group is locked (PostgreSQL) and the move applies only
 * while the version is PUBLISHED, checked in the move's own statement, so an
 * unpublish (template.service.ts) and this cannot both commit. Callers have
 * checked the references (assertSendable); a refusal is explained: the
 * campaign's state, or why its references are no longer sendable.
 */
export async function startUsingVersion(
  deps: Pick<CampaignServiceDeps, 'transaction' | 'campaigns' | 'templates' | 'references' | 'pause' | 'eventLog' | 'clock'>,
  tenantId: string,
  campaign: CampaignRow,
  action: 'schedule' | 'send',
  patch: CampaignPatch,
): Promise<void> {
  const versionId = campaign.template_version_id!;
  const applied = await deps.transaction(async (trx) => {
    await deps.templates.in(trx).lockGroupForUse(tenantId, versionId);
    await (deps.pause ?? noPause)(action);
    if (!(await deps.campaigns.in(trx).moveIfPublished(tenantId, campaign.id, action, patch))) return false;
    const event = campaignEvent(action, tenantId, campaign.id, deps.clock().toISOString());
    if (event) await deps.eventLog.in(trx).record([event]);
    return true;
  });
  if (applied) return;
  const current = await deps.campaigns.getById(tenantId, campaign.id);
  if (!current) throw notFound('Campaign');
  if (!canPerform(action, current.status)) throw invalidState('campaign', current.status, action);
  await deps.references.assertSendable(tenantId, current); // the version was unpublished meanwhile: says so
  throw invalidState('campaign', current.status, action);
}
