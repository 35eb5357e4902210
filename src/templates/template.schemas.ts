import { Type, type Static } from '@sinclair/typebox';
import { PageQuery, pageOf } from '../shared/pagination.js';
import { Nullable, StringEnum } from '../shared/schema.js';
import { MAX_DECLARATIONS, VARIABLE_TYPES } from './variables.js';

export const VERSION_STATUSES = ['DRAFT', 'PUBLISHED'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

export const LIMITS = {
  name: 200,
  subject: 998,
  htmlBody: 512 * 1024,
  textBody: 256 * 1024,
} as const;

const Locale = Type.String({ minLength: 1, maxLength: 35, description: 'BCP 47 tag, stored normalised (es-mx → es-MX)' });
const RefId = Type.String({ minLength: 1, maxLength: 64 });

export const VariableDeclarationSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    type: StringEnum(VARIABLE_TYPES),
    fallback: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Number(), Type.Boolean()])),
  },
  { additionalProperties: false },
);

const versionFields = {
  subject: Type.String({ minLength: 1, maxLength: LIMITS.subject }),
  htmlBody: Type.String({ minLength: 1, maxLength: LIMITS.htmlBody }),
  textBody: Nullable(Type.String({ maxLength: LIMITS.textBody })),
  locale: Nullable(Locale),
  localeGroupId: Nullable(RefId),
  variables: Nullable(Type.Array(VariableDeclarationSchema, { maxItems: MAX_DECLARATIONS })),
};

export const CreateTemplateBody = Type.Object(
  {
    // The 1–200 limit applies after trimming; the service checks it.
    name: Type.String({ maxLength: 1000 }),
    subject: versionFields.subject,
    htmlBody: versionFields.htmlBody,
    textBody: Type.Optional(versionFields.textBody),
    locale: Type.Optional(versionFields.locale),
    variables: Type.Optional(versionFields.variables),
  },
  { additionalProperties: false },
);
export type CreateTemplateBody = Static<typeof CreateTemplateBody>;

const editableVersionFields = {
  subject: versionFields.subject,
  htmlBody: versionFields.htmlBody,
  textBody: Type.Optional(versionFields.textBody),
  locale: Type.Optional(versionFields.locale),
  localeGroupId: Type.Optional(versionFields.localeGroupId),
  variables: Type.Optional(versionFields.variables),
};

/** `subject` and `htmlBody` are required unless `fromVersionId` names a version to copy them from. */
export const CreateVersionBody = Type.Object(
  {
    ...editableVersionFields,
    subject: Type.Optional(versionFields.subject),
    htmlBody: Type.Optional(versionFields.htmlBody),
    fromVersionId: Type.Optional(
      Type.String({
        maxLength: 200,
        description:
          'Start the draft from this version of the same template (subject, HTML, text, locale, localeGroupId and variables copied; the other fields given override them). The way to change a published version, which is frozen.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateVersionBody = Static<typeof CreateVersionBody>;

export const UpdateVersionBody = Type.Partial(Type.Object(editableVersionFields), { additionalProperties: false, minProperties: 1 });
export type UpdateVersionBody = Static<typeof UpdateVersionBody>;

export const PreviewBody = Type.Object(
  {
    contactId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    data: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), { maxProperties: 500 })),
  },
  { additionalProperties: false },
);
export type PreviewBody = Static<typeof PreviewBody>;

export const VersionParams = Type.Object({
  id: Type.String({ maxLength: 200 }),
  versionId: Type.String({ maxLength: 200 }),
});

export const ListQuery = Type.Object(PageQuery);
export type ListQuery = Static<typeof ListQuery>;

export const TemplateVersion = Type.Object({
  id: Type.String(),
  templateId: Type.String(),
  status: StringEnum(VERSION_STATUSES),
  subject: Type.String(),
  htmlBody: Type.String(),
  textBody: Nullable(Type.String()),
  locale: Nullable(Type.String()),
  localeGroupId: Nullable(Type.String()),
  variables: Nullable(Type.Array(VariableDeclarationSchema)),
  publishedAt: Nullable(Type.String({ format: 'date-time' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type TemplateVersion = Static<typeof TemplateVersion>;

const templateFields = {
  id: Type.String(),
  name: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
};

export const TemplateSummary = Type.Object(templateFields);
export type TemplateSummary = Static<typeof TemplateSummary>;

export const Template = Type.Object({ ...templateFields, versions: Type.Array(TemplateVersion) });
export type Template = Static<typeof Template>;

export const TemplatePage = pageOf(TemplateSummary);
export const VersionPage = pageOf(TemplateVersion);

export const PublishResult = Type.Object({
  id: Type.String(),
  status: StringEnum(VERSION_STATUSES),
  publishedAt: Nullable(Type.String({ format: 'date-time' })),
});
export type PublishResult = Static<typeof PublishResult>;

export const Preview = Type.Object({ subject: Type.String(), html: Type.String(), text: Type.String() });
export type Preview = Static<typeof Preview>;
