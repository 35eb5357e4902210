import { Type, type Static } from '@sinclair/typebox';
import { PageQuery, pageOf } from '../shared/pagination.js';
import { Nullable } from '../shared/schema.js';

/**
 * The password is write-only: it appears in request bodies and in no
 * response schema, so even a bug that put it on a response object would
 * have it stripped by the serializer.
 */
const smtpFields = {
  host: Type.String({ minLength: 1, maxLength: 253, description: 'Host name or IP address of the SMTP server' }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  secure: Type.Boolean({
    description: 'true: implicit TLS (usually port 465); false: STARTTLS (required when a user is set), usually port 587',
  }),
  user: Nullable(Type.String({ minLength: 1, maxLength: 256 })),
  pass: Nullable(Type.String({ minLength: 1, maxLength: 1024, description: 'Write-only; stored encrypted' })),
};

const EmailAddress = Type.String({ format: 'email', maxLength: 254 });

const projectFields = {
  // The 1–200 limit applies after trimming; the service checks it.
  name: Type.String({ maxLength: 1000 }),
  fromEmail: EmailAddress,
  fromName: Nullable(Type.String({ maxLength: 200 })),
  replyTo: Nullable(EmailAddress),
  rateLimitPerSecond: Nullable(
    Type.Integer({ minimum: 1, maximum: 10000, description: 'Messages per second, across every worker process together; null: no limit' }),
  ),
  maxConnections: Nullable(
    Type.Integer({
      minimum: 1,
      maximum: 50,
      description: "SMTP connections each worker process opens to this server for campaigns; null: the server's default (SMTP_MAX_CONNECTIONS, 5)",
    }),
  ),
};

export const CreateProjectBody = Type.Object(
  {
    name: projectFields.name,
    smtp: Type.Object(
      {
        host: smtpFields.host,
        port: smtpFields.port,
        secure: smtpFields.secure,
        user: Type.Optional(smtpFields.user),
        pass: Type.Optional(smtpFields.pass),
      },
      { additionalProperties: false },
    ),
    fromEmail: projectFields.fromEmail,
    fromName: Type.Optional(projectFields.fromName),
    replyTo: Type.Optional(projectFields.replyTo),
    rateLimitPerSecond: Type.Optional(projectFields.rateLimitPerSecond),
    maxConnections: Type.Optional(projectFields.maxConnections),
  },
  { additionalProperties: false },
);
export type CreateProjectBody = Static<typeof CreateProjectBody>;

export const UpdateProjectBody = Type.Object(
  {
    name: Type.Optional(projectFields.name),
    smtp: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(smtpFields.host),
          port: Type.Optional(smtpFields.port),
          secure: Type.Optional(smtpFields.secure),
          user: Type.Optional(smtpFields.user),
          pass: Type.Optional(smtpFields.pass),
        },
        { additionalProperties: false },
      ),
    ),
    fromEmail: Type.Optional(projectFields.fromEmail),
    fromName: Type.Optional(projectFields.fromName),
    replyTo: Type.Optional(projectFields.replyTo),
    rateLimitPerSecond: Type.Optional(projectFields.rateLimitPerSecond),
    maxConnections: Type.Optional(projectFields.maxConnections),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateProjectBody = Static<typeof UpdateProjectBody>;

export const ListProjectsQuery = Type.Object({ ...PageQuery });
export type ListProjectsQuery = Static<typeof ListProjectsQuery>;

export const Project = Type.Object({
  id: Type.String(),
  name: Type.String(),
  smtp: Type.Object({
    host: Type.String(),
    port: Type.Integer(),
    secure: Type.Boolean(),
    user: Nullable(Type.String()),
    hasPassword: Type.Boolean(),
  }),
  fromEmail: Type.String(),
  fromName: Nullable(Type.String()),
  replyTo: Nullable(Type.String()),
  rateLimitPerSecond: Nullable(Type.Integer()),
  maxConnections: Nullable(Type.Integer()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type Project = Static<typeof Project>;

export const ProjectPage = pageOf(Project);

export const VerifyResult = Type.Object({
  ok: Type.Boolean(),
  error: Type.Optional(Type.String({ description: 'What failed, as a short fixed phrase (never the server\'s text), when ok is false' })),
});
export type VerifyResult = Static<typeof VerifyResult>;
