import { createSmtpTransport, projectPasswordContext, type SmtpSettings } from '../net/smtp-transport.js';
import { isHostNotAllowed, OutboundPolicy } from '../net/outbound-policy.js';
import { AppError, conflict, notFound } from '../shared/errors.js';
import { isId, newId } from '../shared/ids.js';
import { toPage, type Page } from '../shared/pagination.js';
import { SecretBoxError, type SecretBox } from '../shared/secret-box.js';
import type { Clock } from '../shared/time.js';
import { projectInput, type ProjectInput } from './project.input.js';
import type { ProjectPatch, ProjectRepository, ProjectRow } from './project.repository.js';
import type { CreateProjectBody, ListProjectsQuery, Project, UpdateProjectBody, VerifyResult } from './project.schemas.js';

/** Opens a real SMTP session (connect, greet, authenticate, quit) and reports the outcome. */
export type SmtpVerifier = (settings: SmtpSettings, policy: OutboundPolicy) => Promise<VerifyResult>;

const VERIFY_TIMEOUT_MS = 10_000;

export const verifySmtp: SmtpVerifier = async (settings, policy) => {
  const transport = createSmtpTransport(settings, {
    pool: false,
    connectionTimeoutMs: VERIFY_TIMEOUT_MS,
    greetingTimeoutMs: VERIFY_TIMEOUT_MS,
    socketTimeoutMs: VERIFY_TIMEOUT_MS,
    policy,
  });
  try {
    await transport.verify();
    return { ok: true };
  } catch (error) {
    return { ok: false, error: describeVerifyFailure(error) };
  } finally {
    transport.close();
  }
};

const TLS_CODES = /^(ETLS|ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/**
 * What went wrong, as one short fixed phrase: never the server's text (a
 * banner, a greeting, an error line), so verify cannot be used to read what
 * answers on a port, and never the password.
 */
export function describeVerifyFailure(error: unknown): string {
  if (isHostNotAllowed(error)) return 'host not allowed';
  const e = (error ?? {}) as { code?: string; connectCode?: string; command?: string; message?: string };
  const code = e.connectCode ?? e.code ?? '';
  const command = (e.command ?? '').toUpperCase();
  const message = e.message ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EDNS' || code === 'EAI_NONAME') return 'host not found';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (code === 'EAUTH' || code === 'ENOAUTH' || command.startsWith('AUTH')) return 'authentication failed';
  if (command === 'STARTTLS' || /STARTTLS/.test(message)) return 'TLS required but not offered (STARTTLS)';
  if (TLS_CODES.test(code) || /certificate|SSL|TLS|handshake/i.test(message)) return 'TLS failed';
  if (code === 'EPROTOCOL' || command === 'EHLO' || command === 'HELO') return 'not an SMTP server';
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket close|connection closed/i.test(message)) return 'connection closed';
  return 'SMTP session failed';
}

/** DNS failures a create or PATCH tolerates: the name may not exist yet; every connection checks again. */
const DNS_FAILURES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL']);

export class ProjectService {
  constructor(
    private readonly deps: {
      projects: ProjectRepository;
      secretBox: SecretBox;
      clock: Clock;
      verifySmtp?: SmtpVerifier;
      /** Where a project's server may be; default: public addresses only. */
      outbound?: OutboundPolicy;
    },
  ) {
    this.policy = deps.outbound ?? new OutboundPolicy();
  }

  private readonly policy: OutboundPolicy;

  async create(tenantId: string, body: CreateProjectBody): Promise<Project> {
    const input = projectInput(body);
    await this.checkHost(input.smtp_host!);
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
      max_connections: input.max_connections ?? null,
      created_at: now,
      updated_at: now,
      last_verify_at: null,
      last_verify_ok: null,
      first_delivered_at: null,
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
    if (input.pass === undefined && (input.smtp_host !== undefined || input.smtp_port !== undefined || input.smtp_secure !== undefined)) {
      // The stored password goes only to the server it was given for: moving it needs the password again.
      const row = await this.load(tenantId, id);
      const moves =
        (input.smtp_host !== undefined && input.smtp_host !== row.smtp_host) ||
        (input.smtp_port !== undefined && input.smtp_port !== row.smtp_port) ||
        (input.smtp_secure !== undefined && input.smtp_secure !== row.smtp_secure);
      if (moves && row.smtp_pass_encrypted !== null) {
        throw new AppError(400, 'PASSWORD_REQUIRED', 'Changing the SMTP host, port or security mode needs the password again', [
          { field: 'smtp.pass', message: 'required when smtp.host, smtp.port or smtp.secure changes (or null to remove the password)' },
        ]);
      }
    }
    if (input.smtp_host !== undefined) await this.checkHost(input.smtp_host);
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
    const result = await (this.deps.verifySmtp ?? verifySmtp)(settings, this.policy);
    await this.deps.projects.recordVerify(tenantId, id, result.ok, this.deps.clock().toISOString());
    return result;
  }

  /** 422 HOST_NOT_ALLOWED for a host the outbound policy refuses; a name that does not resolve now is accepted. */
  private async checkHost(host: string): Promise<void> {
    try {
      await this.policy.checkHost(host, { purpose: 'smtp' });
    } catch (error) {
      if (isHostNotAllowed(error)) {
        throw new AppError(422, 'HOST_NOT_ALLOWED', 'The SMTP host is not allowed', [{ field: 'smtp.host', message: error.message }]);
      }
      if (!DNS_FAILURES.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
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
    maxConnections: row.max_connections,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
