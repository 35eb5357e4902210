import type { SendingDomainRepository } from '../domains/sending-domain.repository.js';
import type { Sender } from '../delivery/compose.js';
import type { ProjectRepository } from '../projects/project.repository.js';
import { AppError, notFound } from '../shared/errors.js';
import { isId } from '../shared/ids.js';
import type { TemplateRepository } from '../templates/template.repository.js';
import type { CampaignRepository, CampaignRow } from './campaign.repository.js';
import type { CoverageWarning, LocaleCoverage } from './coverage.js';
import { preflightChecks, type PreflightReport } from './preflight.js';

export interface PreflightDeps {
  campaigns: CampaignRepository;
  templates: TemplateRepository;
  projects: ProjectRepository;
  domains: SendingDomainRepository;
  coverage: LocaleCoverage;
  /** The sender of campaigns without a project (MAIL_FROM). */
  defaultSender: Sender;
}

/** Gathers what the pre-send check decides on (campaigns/preflight.ts) and enforces it on send and schedule. */
export class PreflightService {
  constructor(private readonly deps: PreflightDeps) {}

  async report(tenantId: string, id: string): Promise<PreflightReport> {
    const campaign = isId(id) ? await this.deps.campaigns.getById(tenantId, id) : undefined;
    if (!campaign) throw notFound('Campaign');
    return (await this.run(tenantId, campaign)).report;
  }

  /**
   * 422 PREFLIGHT_FAILED, the failed checks in `details`, unless `force`;
   * answers the audience's uncovered locales, the send's `warnings`.
   */
  async enforce(tenantId: string, campaign: CampaignRow, force: boolean): Promise<CoverageWarning[]> {
    const { report, gaps } = await this.run(tenantId, campaign);
    if (!report.ok && !force) {
      const failed = report.checks.filter((check) => check.status === 'fail');
      throw new AppError(
        422,
        'PREFLIGHT_FAILED',
        `The pre-send check failed: ${failed.map((check) => check.message).join('; ')}. Fix the campaign, or send with ?force=true`,
        failed.map((check) => ({ field: check.id, message: check.message })),
      );
    }
    return gaps;
  }

  private async run(tenantId: string, campaign: CampaignRow): Promise<{ report: PreflightReport; gaps: CoverageWarning[] }> {
    const [project, domains, variants, gaps] = await Promise.all([
      campaign.project_id ? this.deps.projects.getById(tenantId, campaign.project_id) : undefined,
      this.deps.domains.verifiedKeys(tenantId),
      this.variantsOf(tenantId, campaign),
      this.deps.coverage.gaps(tenantId, campaign),
    ]);
    const report = preflightChecks({
      fromEmail: project?.from_email ?? this.deps.defaultSender.fromEmail,
      verifiedDomains: domains.map((d) => d.name),
      variants,
      oneClickUnsubscribe: true,
      uncoveredLocales: gaps,
      project: project
        ? { name: project.name, lastVerifyOk: project.last_verify_ok === null ? null : project.last_verify_ok === 1, firstDeliveredAt: project.first_delivered_at }
        : null,
      lastTestSendAt: campaign.last_test_send_at,
    });
    return { report, gaps };
  }

  /** The published variants of the campaign's version group; while none is published, its own version. */
  private async variantsOf(tenantId: string, campaign: CampaignRow) {
    if (!campaign.template_version_id) return [];
    let rows = await this.deps.templates.publishedVariants(tenantId, campaign.template_version_id);
    if (rows.length === 0) {
      const own = await this.deps.templates.getVersion(tenantId, campaign.template_version_id);
      rows = own ? [own] : [];
    }
    return rows.map((row) => ({ id: row.id, locale: row.locale, html: row.html_body }));
  }
}
