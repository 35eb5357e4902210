import { invalidState, notFound, validationError } from '../shared/errors.js';
import { isId, newId } from '../shared/ids.js';
import { toPage, type Page } from '../shared/pagination.js';
import type { Clock } from '../shared/time.js';
import { normaliseTimeZone } from '../shared/timezone.js';
import { campaignColumns } from './campaign.input.js';
import type { CampaignPatch, CampaignRepository, CampaignRow } from './campaign.repository.js';
import type {
  Campaign,
  CreateCampaignBody,
  ListCampaignsQuery,
  ScheduleCampaignBody,
  UpdateCampaignBody,
} from './campaign.schemas.js';
import { allowedFrom, targetOf, type CampaignAction, type CampaignStatus } from './lifecycle.js';
import { resolveScheduledAt, ScheduleTimeError } from './schedule-time.js';

export class CampaignService {
  constructor(private readonly deps: { campaigns: CampaignRepository; clock: Clock }) {}

  async create(tenantId: string, body: CreateCampaignBody): Promise<Campaign> {
    const columns = campaignColumns(body);
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

  update(tenantId: string, id: string, body: UpdateCampaignBody): Promise<Campaign> {
    return this.apply(tenantId, id, 'update', campaignColumns(body));
  }

  async schedule(tenantId: string, id: string, body: ScheduleCampaignBody): Promise<Campaign> {
    const campaign = await this.load(tenantId, id);
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
    return this.apply(tenantId, id, 'schedule', { scheduled_at: scheduledAt.toISOString(), timezone });
  }

  cancel(tenantId: string, id: string): Promise<Campaign> {
    return this.apply(tenantId, id, 'cancel', { cancelled_at: this.deps.clock().toISOString() });
  }

  /** Applies an action as one conditional update; explains a refusal with the current status. */
  private async apply(tenantId: string, id: string, action: CampaignAction, patch: CampaignPatch): Promise<Campaign> {
    if (!isId(id)) throw notFound('Campaign');
    const status = targetOf(action);
    const applied = await this.deps.campaigns.updateIfStatus(tenantId, id, allowedFrom(action), {
      ...patch,
      ...(status ? { status } : {}),
      updated_at: this.deps.clock().toISOString(),
    });
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

export function toCampaign(row: CampaignRow): Campaign {
  return {
    id: row.id,
    name: row.name,
    templateVersionId: row.template_version_id,
    subject: row.subject,
    audienceFilter: row.audience_filter === null ? null : JSON.parse(row.audience_filter),
    projectId: row.project_id,
    timezone: row.timezone,
    status: row.status as CampaignStatus,
    scheduledAt: row.scheduled_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    cancelledAt: row.cancelled_at,
  };
}
