import { unprocessable, validationError, type ErrorDetail } from '../shared/errors.js';
import { parsePart, TemplateSyntaxError } from '../templates/liquid.js';
import { normaliseAudienceFilter } from '../audience/audience-filter.js';
import { normaliseTimeZone } from '../shared/timezone.js';
import type { CreateCampaignBody, UpdateCampaignBody } from './campaign.schemas.js';
import type { CampaignPatch } from './campaign.repository.js';

/**
 * Pure checks the JSON schema cannot express (trimmed name length, real IANA
 * zone, well-formed BCP 47 locale), turning a validated body into column
 * values. Every problem is reported at once, as a 400 with one detail per field.
 */
export function campaignColumns(body: CreateCampaignBody | UpdateCampaignBody): CampaignPatch {
  const details: ErrorDetail[] = [];
  const columns: CampaignPatch = {};

  if (body.name !== undefined) {
    const name = body.name.trim();
    const length = [...name].length;
    if (length === 0 || length > 200) details.push({ field: 'name', message: 'must be 1 to 200 characters after trimming' });
    columns.name = name;
  }
  if (body.templateVersionId !== undefined) columns.template_version_id = body.templateVersionId;
  if (body.subject !== undefined) columns.subject = body.subject;
  if (body.projectId !== undefined) columns.project_id = body.projectId;
  if (body.tracking?.opens !== undefined) columns.track_opens = body.tracking.opens ? 1 : 0;
  if (body.tracking?.clicks !== undefined) columns.track_clicks = body.tracking.clicks ? 1 : 0;
  if (body.timezone !== undefined) {
    if (body.timezone === null) columns.timezone = null;
    else {
      const zone = normaliseTimeZone(body.timezone);
      if (!zone) details.push({ field: 'timezone', message: `"${body.timezone}" is not an IANA time zone` });
      columns.timezone = zone ?? null;
    }
  }
  if (body.audienceFilter !== undefined) {
    if (body.audienceFilter === null) columns.audience_filter = null;
    else {
      const filter = normaliseAudienceFilter(body.audienceFilter, details);
      columns.audience_filter = JSON.stringify(filter);
    }
  }
  if (details.length > 0) throw validationError('Invalid campaign', details);
  // A subject override is Liquid like a template's subject: the same strict parse as publishing, so a broken
  // one is refused here rather than failing every message of the send after the quota was used.
  if (typeof body.subject === 'string') {
    try {
      parsePart('subject', body.subject);
    } catch (error) {
      if (!(error instanceof TemplateSyntaxError)) throw error;
      throw unprocessable('TEMPLATE_SYNTAX', `Template syntax error in subject: ${error.message}`, [{ field: 'subject', message: error.message }]);
    }
  }
  return columns;
}
