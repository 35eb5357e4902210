import { createSmtpTransport, projectPasswordContext, type SmtpSettings } from '../delivery/smtp-transport.js';
import { conflict, notFound } from '../shared/errors.js';
import { isId, newId } from '../shared/ids.js';
import { toPage, type Page } from '../shared/pagination.js';
import { SecretBoxError, type SecretBox } from '../shared/secret-box.js';
import type { Clock } from '../shared/time.js';
import { projectInput, type ProjectInput } from './project.input.js';
import type { ProjectPatch, ProjectRepository, ProjectRow } from './project.repository.js';
import type { CreateProjectBody, ListProjectsQuery, Project, UpdateProjectBody, VerifyResult } from './project.schemas.js';

/** Opens a real SMTP session (connect, greet, authenticate, quit) and reports the outcome. */
export type SmtpVerifier = (settings: SmtpSettings) => Promise<VerifyResult>;

const VERIFY_TIMEOUT_MS = 10_000;

export const verifySmtp: SmtpVerifier = async (settings) => {
  const transport = createSmtpTransport(settings, {
    pool: false,
    connectionTimeoutMs: VERIFY_TIMEOUT_MS,
    greetingTimeoutMs: VERIFY_TIMEOUT_MS,
    socketTimeoutMs: VERIFY_TIMEOUT_MS,
  });
  try {
    await transport.verify();
    return { ok: true };
  } catch (error) {
    return { ok: false, error: describeSmtpError(error, settings.pass) };
  } finally {
    transport.close();
  }
};

/** The server's (or the network's) reason, never containing the password even if a server echoed it. */
function describeSmtpError(error: unknown, pass: string | null | undefined): string {
  let message = error instanceof Error && error.message ? error.message : String(error);
  if (pass) message = message.split(pass).join('[redacted]');
  return message.length > 1000 ? `${message.slice(0, 1000)}…` : message;
}

export class ProjectService {
  constructor(
    private readonly deps: {
      projects: ProjectRepository;
      secretBox: SecretBox;
      clock: Clock;
      verifySmtp?: SmtpVerifier;
    },
  ) {}

  async create(tenantId: string, body: CreateProjectBody): Promise<Project> {
    const input = projectInput(body);
    const id = newId();
    const now = this.deps.clock().toISOString();
    const row: ProjectRow = {
      id,
      tenant_id: tenantId,
      name: input.name!,
      smtp_host: input.smtp_host!,
      smtp_port: input.smtp_port!,
      smtp_secure: input.smtp_secure!,
      smtp_user: input.smtp_user ?? null,
      smtp_pass_encrypted: input.pass ? this.seal(id, input.pass) : null,
      from_email: input.from_email!,
      from_name: input.from_name ?? null,
      reply_to: input.reply_to ?? null,
      rate_limit_per_second: input.rate_limit_per_second ?? null,
      created_at: now,
      updated_at: now,
    };
    await this.deps.projects.insert(row);
    return toProject(row);
  }

  async list(tenantId: string, query: ListProjectsQuery): Promise<Page<Project>> {
    const page = { page: query.page, limit: query.limit };
    const { rows, total } = await this.deps.projects.list(tenantId, page);
    return toPage(rows.map(toProject), total, page);
  }

  async get(tenantId: string, id: string): Promise<Project> {
    return toProject(await this.load(tenantId, id));
  }

  /** Partial: omitted fields keep their value, null clears (`smtp.pass: null` removes the password). */
  async update(tenantId: string, id: string, body: UpdateProjectBody): Promise<Project> {
    const input = projectInput(body);
    if (!isId(id)) throw notFound('Project');
    const updated = await this.deps.projects.update(tenantId, id, {
      ...this.patchOf(id, input),
      updated_at: this.deps.clock().toISOString(),
    });
    if (!updated) throw notFound('Project');
    return this.get(tenantId, id);
  }

  /** Refused with 409 while a DRAFT, SCHEDULED or SENDING campaign sends through the project. */
  async delete(tenantId: string, id: string): Promise<void> {
    if (!isId(id)) throw notFound('Project');
    const outcome = await this.deps.projects.deleteUnlessInUse(tenantId, id);
    if (outcome === 'missing') throw notFound('Project');
    if (outcome === 'in-use') {
      throw conflict('Project is used by a campaign that is not sent or cancelled yet; cancel it or move it to another project first');
    }
  }

  async verify(tenantId: string, id: string): Promise<VerifyResult> {
    const row = await this.load(tenantId, id);
    let pass: string | null = null;
    if (row.smtp_pass_encrypted !== null) {
      try {
        pass = this.deps.secretBox.decrypt(row.smtp_pass_encrypted, projectPasswordContext(row.id));
      } catch (error) {
        if (!(error instanceof SecretBoxError)) throw error;
        return { ok: false, error: 'The stored password cannot be decrypted (was the server secret changed?); set smtp.pass again' };
      }
    }
    const settings: SmtpSettings = {
      host: row.smtp_host,
      port: row.smtp_port,
      secure: row.smtp_secure === 1,
      user: row.smtp_user,
      pass,
    };
    return (this.deps.verifySmtp ?? verifySmtp)(settings);
  }

  private patchOf(id: string, input: ProjectInput): ProjectPatch {
    const { pass, ...columns } = input;
    const patch: ProjectPatch = { ...columns };
    if (pass !== undefined) patch.smtp_pass_encrypted = pass === null ? null : this.seal(id, pass);
    return patch;
  }

  private seal(id: string, pass: string): string {
    return this.deps.secretBox.encrypt(pass, projectPasswordContext(id));
  }

  private async load(tenantId: string, id: string): Promise<ProjectRow> {
    const row = isId(id) ? await this.deps.projects.getById(tenantId, id) : undefined;
    if (!row) throw notFound('Project');
    return row;
  }
}

export function toProject(row: ProjectRow): Project {
  return {
    id: row.id,
    name: row.name,
    smtp: {
      host: row.smtp_host,
      port: row.smtp_port,
      secure: row.smtp_secure === 1,
      user: row.smtp_user,
      hasPassword: row.smtp_pass_encrypted !== null,
    },
    fromEmail: row.from_email,
    fromName: row.from_name,
    replyTo: row.reply_to,
    rateLimitPerSecond: row.rate_limit_per_second,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
