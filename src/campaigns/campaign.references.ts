import type { ProjectRepository } from '../projects/project.repository.js';
import { unprocessable, type ErrorDetail } from '../shared/errors.js';
import type { TemplateRepository } from '../templates/template.repository.js';
import type { CampaignPatch } from './campaign.repository.js';
import { parseAudienceFilter } from '../audience/audience-filter.js';

/**
 * Checks that what a campaign points at belongs to its tenant (422
 * otherwise), and — before it may be scheduled or sent — that its template
 * version is published. Another tenant's ids look exactly like missing ones.
 */
export class CampaignReferences {
  constructor(private readonly deps: { templates: TemplateRepository; projects: ProjectRepository }) {}

  /** For create and update: every reference named in the change must exist for the tenant. */
  async assertOwned(tenantId: string, columns: CampaignPatch): Promise<void> {
    const details: ErrorDetail[] = [];
    if (columns.template_version_id) {
      const version = await this.deps.templates.getVersion(tenantId, columns.template_version_id);
      if (!version) details.push({ field: 'templateVersionId', message: 'no such template version' });
    }
    if (columns.project_id && !(await this.deps.projects.getById(tenantId, columns.project_id))) {
      details.push({ field: 'projectId', message: 'no such project' });
    }
    if (columns.audience_filter) {
      const filter = parseAudienceFilter(columns.audience_filter);
      if (filter?.projectId && !(await this.deps.projects.getById(tenantId, filter.projectId))) {
        details.push({ field: 'audienceFilter.projectId', message: 'no such project' });
      }
    }
    if (details.length > 0) throw unprocessable('INVALID_REFERENCE', 'The campaign refers to something that does not exist', details);
  }

  /** For schedule and send: a published template version and an existing project, if any. */
  async assertSendable(tenantId: string, campaign: { template_version_id: string | null; project_id: string | null }): Promise<void> {
    if (!campaign.template_version_id) {
      throw unprocessable('TEMPLATE_REQUIRED', 'The campaign has no templateVersionId: attach a published template version first');
    }
    const version = await this.deps.templates.getVersion(tenantId, campaign.template_version_id);
    if (!version) throw unprocessable('INVALID_REFERENCE', 'The campaign’s template version no longer exists');
    if (version.status !== 'PUBLISHED') {
      throw unprocessable('TEMPLATE_NOT_PUBLISHED', `Template version ${version.id} is ${version.status}: publish it before scheduling or sending`);
    }
    if (campaign.project_id && !(await this.deps.projects.getById(tenantId, campaign.project_id))) {
      throw unprocessable('INVALID_REFERENCE', 'The campaign’s SMTP project no longer exists');
    }
  }
}
