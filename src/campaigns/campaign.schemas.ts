import { Type, type Static } from '@sinclair/typebox';
import { PageQuery, pageOf } from '../shared/pagination.js';
import { Nullable, StringEnum } from '../shared/schema.js';
import { CAMPAIGN_STATUSES } from './lifecycle.js';

const RefId = Type.String({ minLength: 1, maxLength: 64 });
const AttributeValue = Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]);

export const AudienceFilter = Type.Object(
  {
    locale: Type.Optional(Type.String({ minLength: 1, maxLength: 35, description: 'BCP 47 tag, e.g. en or es-MX' })),
    optIn: Type.Optional(Type.Boolean()),
    projectId: Type.Optional(RefId),
    attributes: Type.Optional(
      Type.Record(Type.String(), AttributeValue, {
        maxProperties: 50,
        propertyNames: { minLength: 1, maxLength: 128 },
        description: 'Each key must equal the given value (string, number or boolean)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type AudienceFilter = Static<typeof AudienceFilter>;

const campaignFields = {
  // The 1–200 limit applies after trimming; the service checks it.
  name: Type.String({ maxLength: 1000 }),
  templateVersionId: Nullable(RefId),
  subject: Nullable(Type.String({ maxLength: 998 })),
  audienceFilter: Nullable(AudienceFilter),
  projectId: Nullable(RefId),
  timezone: Nullable(Type.String({ maxLength: 64, description: 'IANA time zone, e.g. Europe/Madrid' })),
};

export const CreateCampaignBody = Type.Object(
  {
    name: campaignFields.name,
    templateVersionId: Type.Optional(campaignFields.templateVersionId),
    subject: Type.Optional(campaignFields.subject),
    audienceFilter: Type.Optional(campaignFields.audienceFilter),
    projectId: Type.Optional(campaignFields.projectId),
    timezone: Type.Optional(campaignFields.timezone),
  },
  { additionalProperties: false },
);
export type CreateCampaignBody = Static<typeof CreateCampaignBody>;

export const UpdateCampaignBody = Type.Partial(CreateCampaignBody, { additionalProperties: false, minProperties: 1 });
export type UpdateCampaignBody = Static<typeof UpdateCampaignBody>;

export const ScheduleCampaignBody = Type.Object(
  {
    scheduledAt: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'ISO 8601. With Z or an offset: that instant. Without: wall-clock time in the timezone.',
    }),
    timezone: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type ScheduleCampaignBody = Static<typeof ScheduleCampaignBody>;

export const CampaignStatusSchema = StringEnum(CAMPAIGN_STATUSES);

export const ListCampaignsQuery = Type.Object({
  status: Type.Optional(CampaignStatusSchema),
  ...PageQuery,
});
export type ListCampaignsQuery = Static<typeof ListCampaignsQuery>;

export const Campaign = Type.Object({
  id: Type.String(),
  name: Type.String(),
  templateVersionId: Nullable(Type.String()),
  subject: Nullable(Type.String()),
  audienceFilter: Nullable(AudienceFilter),
  projectId: Nullable(Type.String()),
  timezone: Nullable(Type.String()),
  status: CampaignStatusSchema,
  scheduledAt: Nullable(Type.String({ format: 'date-time' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  cancelledAt: Nullable(Type.String({ format: 'date-time' })),
});
export type Campaign = Static<typeof Campaign>;

export const CampaignPage = pageOf(Campaign);
