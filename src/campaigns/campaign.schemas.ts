import { Type, type Static } from '@sinclair/typebox';
import { PageQuery, pageOf } from '../shared/pagination.js';
import { Nullable, StringEnum } from '../shared/schema.js';
import { CAMPAIGN_STATUSES, MESSAGE_STATUSES, SKIP_REASONS } from '../db/enums.js';
import { AudienceFilter } from '../audience/audience-filter.js';

export { AudienceFilter };

const RefId = Type.String({ minLength: 1, maxLength: 64 });

const campaignFields = {
  // The 1–200 limit applies after trimming; the service checks it.
  name: Type.String({ maxLength: 1000 }),
  templateVersionId: Nullable(RefId),
  subject: Nullable(Type.String({ maxLength: 998 })),
  audienceFilter: Nullable(AudienceFilter),
  projectId: Nullable(RefId),
  timezone: Nullable(Type.String({ maxLength: 64, description: 'IANA time zone, e.g. Europe/Madrid' })),
  tracking: Type.Object(
    {
      opens: Type.Optional(Type.Boolean({ description: 'Add an open pixel to the HTML (default false)' })),
      clicks: Type.Optional(Type.Boolean({ description: 'Rewrite http(s) links to count clicks (default false)' })),
    },
    { additionalProperties: false, description: 'Open and click tracking (docs/TRACKING.md); a switch left out keeps its value' },
  ),
};

export const CreateCampaignBody = Type.Object(
  {
    name: campaignFields.name,
    templateVersionId: Type.Optional(campaignFields.templateVersionId),
    subject: Type.Optional(campaignFields.subject),
    audienceFilter: Type.Optional(campaignFields.audienceFilter),
    projectId: Type.Optional(campaignFields.projectId),
    timezone: Type.Optional(campaignFields.timezone),
    tracking: Type.Optional(campaignFields.tracking),
  },
  {
    additionalProperties: false,
    examples: [
      {
        name: 'June product update',
        templateVersionId: '0197a1c2-6b1e-7c3d-9a4f-2b8e5d7c9a10',
        subject: "What's new in June",
        audienceFilter: { locale: 'en', optIn: true, projectId: '0197a1c2-5d0a-7e21-8b3c-4f6a9d2e1b07', attributes: { plan: 'pro' } },
        timezone: 'Europe/Madrid',
        tracking: { opens: true, clicks: true },
      },
    ],
  },
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
  tracking: Type.Object({ opens: Type.Boolean(), clicks: Type.Boolean() }),
  status: CampaignStatusSchema,
  pausedReason: Nullable(
    Type.String({ description: 'Why a PAUSED campaign was paused: `manual`, or the circuit breaker\'s rule and counts; null otherwise' }),
  ),
  scheduledAt: Nullable(Type.String({ format: 'date-time' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  cancelledAt: Nullable(Type.String({ format: 'date-time' })),
  startedAt: Nullable(Type.String({ format: 'date-time' })),
  completedAt: Nullable(Type.String({ format: 'date-time' })),
  counters: Type.Object({
    total: Type.Integer({ description: 'Contacts the audience matched when the campaign started' }),
    queued: Type.Integer({ description: 'Messages waiting or in flight' }),
    sent: Type.Integer(),
    failed: Type.Integer(),
    cancelled: Type.Integer(),
    skipped: Type.Object({
      quota: Type.Integer({ description: 'Not queued: over the monthly quota ceiling' }),
      suppressed: Type.Integer({ description: 'Not sent: the address was suppressed between fan-out and delivery' }),
      optedOut: Type.Integer({ description: 'Not sent: the contact opted out between fan-out and delivery' }),
      erased: Type.Integer({ description: 'Not sent: the contact was erased between fan-out and delivery' }),
    }),
  }),
  warnings: Type.Optional(
    Type.Array(
      Type.Object({
        code: StringEnum(['LOCALE_NOT_COVERED'] as const),
        locale: Type.String(),
        count: Type.Integer({ description: 'Contacts of the audience with this locale' }),
        message: Type.String(),
      }),
      { description: 'Only on the answer to send: locales of the audience with no variant of their own (they get the fallback or base version)' },
    ),
  ),
});
export type Campaign = Static<typeof Campaign>;

export const CampaignPage = pageOf(Campaign);

export const TestSendBody = Type.Object(
  {
    emails: Type.Array(Type.String({ format: 'email', maxLength: 254 }), { minItems: 1, maxItems: 5 }),
    locale: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 35,
        description: "BCP 47 tag: every copy uses this locale's variant (as a contact of that locale would get it) instead of each address's own",
      }),
    ),
  },
  { additionalProperties: false },
);
export type TestSendBody = Static<typeof TestSendBody>;

export const TestSendResponse = Type.Object({
  results: Type.Array(
    Type.Object({
      email: Type.String(),
      status: StringEnum(['sent', 'failed'] as const),
      messageId: Type.Optional(Type.String()),
      error: Type.Optional(Type.String()),
    }),
  ),
});

export const ListMessagesQuery = Type.Object({
  status: Type.Optional(StringEnum(MESSAGE_STATUSES)),
  page: PageQuery.page,
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Items per page (1–500)' }),
});
export type ListMessagesQuery = Static<typeof ListMessagesQuery>;

export const Message = Type.Object({
  id: Type.Integer(),
  contactId: Nullable(Type.String()),
  email: Nullable(Type.String()),
  locale: Nullable(Type.String()),
  templateVersionId: Type.String(),
  status: StringEnum(MESSAGE_STATUSES),
  attempts: Type.Integer(),
  lastError: Nullable(Type.String()),
  skipReason: Nullable(StringEnum(SKIP_REASONS)),
  providerMessageId: Nullable(Type.String()),
  sentAt: Nullable(Type.String({ format: 'date-time' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export const MessagePage = pageOf(Message);

export const MessageParams = Type.Object({ id: Type.String({ maxLength: 200 }), messageId: Type.String({ maxLength: 40 }) });

export const RetryFailedResponse = Type.Object({ requeued: Type.Integer(), campaign: Campaign });

export const LocaleCoverageResponse = Type.Array(
  Type.Object({
    locale: Nullable(Type.String({ description: 'Contact locale; null for contacts without one' })),
    count: Type.Integer({ description: 'Contacts of that locale the campaign would reach now' }),
    hasTemplate: Type.Boolean({ description: 'A published variant exists for the locale or its language' }),
  }),
);

export const ForceQuery = Type.Object(
  {
    force: Type.Optional(Type.Boolean({ description: 'Send even though the pre-send check fails (never past the quota)' })),
  },
  { additionalProperties: false },
);
export type ForceQuery = Static<typeof ForceQuery>;

export const PreflightResponse = Type.Object({
  checks: Type.Array(
    Type.Object({
      id: StringEnum(['from_domain', 'unsubscribe_link', 'one_click_unsubscribe', 'locale_coverage', 'sender_project', 'test_send'] as const),
      status: StringEnum(['ok', 'warn', 'fail'] as const),
      message: Type.String(),
    }),
  ),
  ok: Type.Boolean({ description: 'No check failed: send and schedule go ahead (warnings do not stop them)' }),
});
