import { AppError, invalidState, notFound, unprocessable, validationError, type ErrorDetail } from '../shared/errors.js';
import { isId, newId } from '../shared/ids.js';
import { normaliseLocale } from '../shared/locale.js';
import { toPage, type Page } from '../shared/pagination.js';
import type { Clock } from '../shared/time.js';
import { TemplateRenderError, TemplateSyntaxError } from './liquid.js';
import { buildContext, type RenderContact, type TemplateRenderer } from './render.js';
import type { NewVersionRow, TemplateRepository, TemplateRow, VersionPatch, VersionRow } from './template.repository.js';
import {
  LIMITS,
  type CreateTemplateBody,
  type CreateVersionBody,
  type ListQuery,
  type Preview,
  type PreviewBody,
  type PublishResult,
  type Template,
  type TemplateSummary,
  type TemplateVersion,
  type UpdateVersionBody,
} from './template.schemas.js';
import { checkDeclarations, parseVariables } from './variables.js';
import type { Transaction } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import { parseJsonObject } from '../shared/json.js';
import { noPause, type Pause } from '../shared/pause.js';

export const PREVIEW_UNSUBSCRIBE_URL = 'https://example.invalid/u/preview';

const PREVIEW_CONTACT: RenderContact = {
  email: 'preview@example.invalid',
  locale: null,
  externalId: null,
  attributes: {},
};

/** What preview reads of a contact. */
export interface ContactForPreview {
  email: string;
  locale: string | null;
  external_id: string | null;
  attributes: unknown;
}

export interface TemplateServiceDeps {
  transaction: Transaction;
  templates: TemplateRepository;
  /** Preview with a contact's data reads it here (ContactRepository). */
  contacts: { getById(tenantId: string, id: string): Promise<ContactForPreview | undefined> };
  renderer: TemplateRenderer;
  clock: Clock;
  /** Race tests hold an unpublish between its write and its check (shared/pause.ts). */
  pause?: Pause;
}

export class TemplateService {
  constructor(private readonly deps: TemplateServiceDeps) {}

  async create(tenantId: string, body: CreateTemplateBody): Promise<Template> {
    const details: ErrorDetail[] = [];
    const name = body.name.trim();
    if (name.length === 0 || [...name].length > LIMITS.name) {
      details.push({ field: 'name', message: `must be 1 to ${LIMITS.name} characters after trimming` });
    }
    const columns = versionColumns(body, details);
    if (details.length > 0) throw validationError('Invalid template', details);

    const now = this.now();
    const template: TemplateRow = { id: newId(), tenant_id: tenantId, name, created_at: now, updated_at: now };
    const version = newVersionRow(tenantId, template.id, columns, now);
    await this.deps.templates.insertWithVersion(template, version);
    return toTemplate(template, [version]);
  }

  async list(tenantId: string, query: ListQuery): Promise<Page<TemplateSummary>> {
    const page = { page: query.page, limit: query.limit };
    const { rows, total } = await this.deps.templates.listTemplates(tenantId, page);
    return toPage(rows.map(toSummary), total, page);
  }

  async get(tenantId: string, id: string): Promise<Template> {
    const template = await this.loadTemplate(tenantId, id);
    const { rows } = await this.deps.templates.listVersions(tenantId, id);
    return toTemplate(template, rows);
  }

  async createVersion(tenantId: string, templateId: string, body: CreateVersionBody): Promise<TemplateVersion> {
    await this.loadTemplate(tenantId, templateId);
    const { fromVersionId, ...fields } = body;
    const details: ErrorDetail[] = [];
    let columns = versionColumns(fields, details);
    if (fromVersionId !== undefined) {
      const source = isId(fromVersionId) ? await this.deps.templates.getTemplateVersion(tenantId, templateId, fromVersionId) : undefined;
      if (!source) {
        const message = 'must be the id of a version of the same template';
        throw unprocessable('VALIDATION_ERROR', `fromVersionId ${message}`, [{ field: 'fromVersionId', message }]);
      }
      columns = { ...copiedColumns(source), ...columns };
    } else {
      if (fields.subject === undefined) details.push({ field: 'subject', message: 'is required (or give fromVersionId)' });
      if (fields.htmlBody === undefined) details.push({ field: 'htmlBody', message: 'is required (or give fromVersionId)' });
    }
    if (details.length > 0) throw validationError('Invalid template version', details);
    if (columns.locale_group_id) await this.checkGroupAnchor(tenantId, templateId, columns.locale_group_id, null);
    const version = newVersionRow(tenantId, templateId, columns, this.now());
    await this.deps.templates.insertVersion(version);
    return toVersion(version);
  }

  async listVersions(tenantId: string, templateId: string, query: ListQuery): Promise<Page<TemplateVersion>> {
    await this.loadTemplate(tenantId, templateId);
    const page = { page: query.page, limit: query.limit };
    const { rows, total } = await this.deps.templates.listVersions(tenantId, templateId, page);
    return toPage(rows.map(toVersion), total, page);
  }

  async getVersion(tenantId: string, templateId: string, versionId: string): Promise<TemplateVersion> {
    return toVersion(await this.loadVersion(tenantId, templateId, versionId));
  }

  async updateVersion(
    tenantId: string,
    templateId: string,
    versionId: string,
    body: UpdateVersionBody,
  ): Promise<TemplateVersion> {
    const current = await this.loadVersion(tenantId, templateId, versionId);
    const details: ErrorDetail[] = [];
    const columns = versionColumns(body, details);
    if (details.length > 0) throw validationError('Invalid template version', details);
    if (current.status !== 'DRAFT') throw invalidState('template version', current.status, 'edit');
    if (current.first_published_at !== null) throw frozen(current.id);
    if (columns.locale_group_id === versionId) columns.locale_group_id = null; // anchoring itself is what null means
    if (columns.locale_group_id) await this.checkGroupAnchor(tenantId, templateId, columns.locale_group_id, versionId);
    // Only a draft never published: a publish that slips in between makes this change nothing.
    const applied = await this.deps.templates.updateIfStatus(
      tenantId,
      templateId,
      versionId,
      'DRAFT',
      { ...columns, updated_at: this.now() },
      { neverPublished: true },
    );
    const after = await this.loadVersion(tenantId, templateId, versionId);
    if (!applied) throw after.first_published_at !== null ? frozen(versionId) : invalidState('template version', after.status, 'edit');
    return toVersion(after);
  }

  /**
   * Freezes a draft: strict syntax check of every part, CSS inlined, text
   * derived when missing, then one conditional update (WHERE status = 'DRAFT').
   * Refused when the group already has a published version in this locale.
   */
  async publish(tenantId: string, templateId: string, versionId: string): Promise<PublishResult> {
    const version = await this.loadVersion(tenantId, templateId, versionId);
    if (version.status !== 'DRAFT') throw invalidState('template version', version.status, 'publish');

    // Published before (and unpublished since): its content is frozen already and stays exactly as it was.
    const refrozen = version.first_published_at === null;
    const bodies = refrozen ? await this.checkedFreeze(version) : undefined;
    await this.refuseTwin(tenantId, version);
    const now = this.now();
    let applied: boolean;
    try {
      applied = await this.deps.templates.updateIfStatus(tenantId, templateId, versionId, 'DRAFT', {
        status: 'PUBLISHED',
        ...(bodies
          ? { html_body: bodies.htmlBody, text_body: bodies.textBody, text_derived: version.text_body === null ? 1 : 0, first_published_at: now }
          : {}),
        published_at: now,
        updated_at: now,
      });
    } catch (error) {
      // A concurrent publish of a twin won the unique index.
      if (isUniqueViolation(error)) await this.refuseTwin(tenantId, version);
      throw error;
    }
    if (!applied) {
      const after = await this.loadVersion(tenantId, templateId, versionId);
      throw invalidState('template version', after.status, 'publish');
    }
    return { id: versionId, status: 'PUBLISHED', publishedAt: now };
  }

  /**
   * Back to DRAFT; messages already queued keep the version id they resolved.
   * Refused (409 VERSION_IN_USE) while a scheduled, sending or paused campaign may
   * still render this group: the version changes first and the check runs
   * after it in the same transaction, with the group locked against a
   * campaign starting to use it (campaign.service.ts startUsingVersion), so
   * an unpublish and a schedule or send cannot both commit.
   */
  async unpublish(tenantId: string, templateId: string, versionId: string): Promise<PublishResult> {
    await this.loadVersion(tenantId, templateId, versionId);
    const applied = await this.deps.transaction(async (trx) => {
      const templates = this.deps.templates.in(trx);
      await templates.lockGroupForChange(tenantId, versionId);
      const changed = await templates.updateIfStatus(tenantId, templateId, versionId, 'PUBLISHED', {
        status: 'DRAFT',
        published_at: null,
        updated_at: this.now(),
      });
      if (!changed) return false;
      await (this.deps.pause ?? noPause)('unpublish');
      const campaignId = await templates.activeCampaignUsingGroupOf(tenantId, versionId);
      if (campaignId) {
        throw new AppError(409, 'VERSION_IN_USE', `Campaign ${campaignId} is scheduled, sending or paused with this template: cancel it or let it finish before unpublishing`);
      }
      return true;
    });
    if (!applied) {
      const after = await this.loadVersion(tenantId, templateId, versionId);
      throw invalidState('template version', after.status, 'unpublish');
    }
    return { id: versionId, status: 'DRAFT', publishedAt: null };
  }

  /**
   * Renders a version as it would be sent: a draft goes through the same
   * freezing as publishing (inlined CSS, derived text) without storing it.
   */
  async preview(tenantId: string, templateId: string, versionId: string, body: PreviewBody): Promise<Preview> {
    const version = await this.loadVersion(tenantId, templateId, versionId);
    let contact = PREVIEW_CONTACT;
    if (body.contactId !== undefined) {
      const row = isId(body.contactId) ? await this.deps.contacts.getById(tenantId, body.contactId) : undefined;
      if (!row) throw notFound('Contact');
      contact = { email: row.email, locale: row.locale, externalId: row.external_id, attributes: parseJsonObject(row.attributes) };
    }
    // A version ever published holds its frozen bodies; a draft is frozen here the way publishing would.
    const bodies =
      version.first_published_at !== null ? { htmlBody: version.html_body, textBody: version.text_body } : await this.checkedFreeze(version);
    const context = buildContext({ contact, unsubscribeUrl: PREVIEW_UNSUBSCRIBE_URL, data: body.data });
    try {
      const rendered = await this.deps.renderer.render(
        {
          id: version.id,
          subject: version.subject,
          htmlBody: bodies.htmlBody,
          textBody: bodies.textBody,
          variables: parseVariables(version.variables),
        },
        context,
      );
      return { subject: rendered.subject, html: rendered.html, text: rendered.text };
    } catch (error) {
      throw templateError(error);
    }
  }

  /** A group anchor must be a version of the same template and tenant that is not itself a member. */
  private async checkGroupAnchor(tenantId: string, templateId: string, anchorId: string, versionId: string | null) {
    const anchor = isId(anchorId) ? await this.deps.templates.getTemplateVersion(tenantId, templateId, anchorId) : undefined;
    const refuse = (message: string) =>
      unprocessable('INVALID_LOCALE_GROUP', message, [{ field: 'localeGroupId', message }]);
    if (!anchor) throw refuse('must be the id of a version of the same template');
    if (anchor.locale_group_id !== null) {
      throw refuse(`version ${anchorId} belongs to group ${anchor.locale_group_id}; use that anchor`);
    }
    if (versionId !== null && (await this.deps.templates.countGroupMembers(tenantId, versionId)) > 0) {
      throw refuse('this version anchors a locale group of its own and cannot join another');
    }
  }

  private async refuseTwin(tenantId: string, version: VersionRow): Promise<void> {
    const twin = await this.deps.templates.findPublishedTwin(tenantId, version);
    if (twin) {
      throw new AppError(
        409,
        'CONFLICT',
        `Version ${twin.id} of this locale group is already published for locale ${version.locale}; unpublish it first`,
        undefined,
        { conflictingVersionId: twin.id },
      );
    }
  }

  private async loadTemplate(tenantId: string, id: string): Promise<TemplateRow> {
    const row = isId(id) ? await this.deps.templates.getTemplate(tenantId, id) : undefined;
    if (!row) throw notFound('Template');
    return row;
  }

  private async loadVersion(tenantId: string, templateId: string, versionId: string): Promise<VersionRow> {
    const row =
      isId(templateId) && isId(versionId)
        ? await this.deps.templates.getTemplateVersion(tenantId, templateId, versionId)
        : undefined;
    if (!row) throw notFound('Template version');
    return row;
  }

  /**
   * Strict syntax check of every part (all problems at once), then the frozen
   * bodies — in a render thread (CSS inlining of a hostile draft can take
   * seconds): see TemplateRenderer.freeze.
   */
  private async checkedFreeze(version: VersionRow) {
    try {
      return await this.deps.renderer.freeze({ subject: version.subject, htmlBody: version.html_body, textBody: version.text_body });
    } catch (error) {
      throw templateError(error);
    }
  }

  private now(): string {
    return this.deps.clock().toISOString();
  }
}

type VersionColumns = Pick<VersionPatch, 'subject' | 'html_body' | 'text_body' | 'locale' | 'locale_group_id' | 'variables'>;

/** Pure checks the JSON schema cannot express, turning a validated body into column values. */
function versionColumns(body: Partial<CreateVersionBody>, details: ErrorDetail[]): VersionColumns {
  const columns: VersionColumns = {};
  if (body.subject !== undefined) {
    if (body.subject.trim() === '') details.push({ field: 'subject', message: 'must not be blank' });
    columns.subject = body.subject;
  }
  if (body.htmlBody !== undefined) {
    if (Buffer.byteLength(body.htmlBody) > LIMITS.htmlBody) {
      details.push({ field: 'htmlBody', message: `must be at most ${LIMITS.htmlBody} bytes` });
    }
    columns.html_body = body.htmlBody;
  }
  if (body.textBody !== undefined) {
    if (body.textBody !== null && Buffer.byteLength(body.textBody) > LIMITS.textBody) {
      details.push({ field: 'textBody', message: `must be at most ${LIMITS.textBody} bytes` });
    }
    columns.text_body = body.textBody;
  }
  if (body.locale !== undefined) {
    if (body.locale === null) columns.locale = null;
    else {
      const locale = normaliseLocale(body.locale);
      if (!locale) details.push({ field: 'locale', message: `"${body.locale}" is not a BCP 47 language tag` });
      columns.locale = locale ?? null;
    }
  }
  if (body.localeGroupId !== undefined) columns.locale_group_id = body.localeGroupId;
  if (body.variables !== undefined) {
    if (body.variables === null) columns.variables = null;
    else {
      details.push(...checkDeclarations(body.variables));
      columns.variables = JSON.stringify(body.variables);
    }
  }
  return columns;
}

function newVersionRow(tenantId: string, templateId: string, columns: VersionColumns, now: string): NewVersionRow {
  return {
    id: newId(),
    tenant_id: tenantId,
    template_id: templateId,
    status: 'DRAFT',
    subject: columns.subject!,
    html_body: columns.html_body!,
    text_body: columns.text_body ?? null,
    locale: columns.locale ?? null,
    locale_group_id: columns.locale_group_id ?? null,
    variables: columns.variables ?? null,
    published_at: null,
    first_published_at: null,
    text_derived: 0,
    created_at: now,
    updated_at: now,
  };
}

/** What a new draft copies from the version it starts from; a text part derived at publish is derived again. */
function copiedColumns(source: VersionRow): VersionColumns {
  return {
    subject: source.subject,
    html_body: source.html_body,
    text_body: source.text_derived === 1 ? null : source.text_body,
    locale: source.locale,
    locale_group_id: source.locale_group_id,
    variables: source.variables === null || source.variables === undefined ? null : typeof source.variables === 'string' ? source.variables : JSON.stringify(source.variables),
  };
}

const frozen = (versionId: string) =>
  new AppError(
    409,
    'VERSION_FROZEN',
    `Version ${versionId} was published and can no longer be edited; start a new draft from it with POST /templates/{id}/versions {"fromVersionId": "${versionId}", ...changes}`,
  );

const syntaxError = (details: ErrorDetail[]) =>
  unprocessable(
    'TEMPLATE_SYNTAX',
    `Template syntax error in ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`,
    details,
  );

function templateError(error: unknown): unknown {
  if (error instanceof TemplateSyntaxError) return syntaxError(error.all.map(({ part, message }) => ({ field: part, message })));
  if (error instanceof TemplateRenderError) {
    return unprocessable('TEMPLATE_RENDER', `Template could not be rendered (${error.part}): ${error.message}`, [
      { field: error.part, message: error.message },
    ]);
  }
  return error;
}



export function toVersion(row: VersionRow): TemplateVersion {
  return {
    id: row.id,
    templateId: row.template_id,
    status: row.status,
    subject: row.subject,
    htmlBody: row.html_body,
    textBody: row.text_body,
    locale: row.locale,
    localeGroupId: row.locale_group_id,
    variables: parseVariables(row.variables),
    publishedAt: row.published_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const toSummary = (row: TemplateRow): TemplateSummary => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toTemplate = (row: TemplateRow, versions: VersionRow[]): Template => ({ ...toSummary(row), versions: versions.map(toVersion) });

