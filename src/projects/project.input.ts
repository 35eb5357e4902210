import net from 'node:net';
import { canonicalIp } from '../net/outbound-policy.js';
import { validationError, type ErrorDetail } from '../shared/errors.js';
import type { CreateProjectBody, UpdateProjectBody } from './project.schemas.js';

/** Column values from a validated body; `pass` stays plaintext here, the service seals it. */
export interface ProjectInput {
  name?: string;
  smtp_host?: string;
  smtp_port?: number;
  smtp_secure?: number;
  smtp_user?: string | null;
  pass?: string | null;
  from_email?: string;
  from_name?: string | null;
  reply_to?: string | null;
  rate_limit_per_second?: number | null;
  max_connections?: number | null;
}

// RFC 1123 labels: letters, digits, inner hyphens, 1–63 characters each.
const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
// Header values must not break out of their header line (CR/LF injection) or carry other controls.
const CONTROL = /[\u0000-\u001f\u007f]/;

export function isHostName(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  if (net.isIP(host) !== 0) return true;
  const labels = host.split('.');
  // A last label of digits only would be a malformed IPv4 address, not a name.
  return labels.every((label) => HOST_LABEL.test(label)) && !/^\d+$/.test(labels[labels.length - 1]!);
}

/**
 * Checks the JSON schema cannot express: trimmed name length, a real host
 * name or IP address, no control characters in what becomes a mail header.
 * Every problem is reported at once.
 */
export function projectInput(body: CreateProjectBody | UpdateProjectBody): ProjectInput {
  const details: ErrorDetail[] = [];
  const input: ProjectInput = {};

  if (body.name !== undefined) {
    const name = body.name.trim();
    const length = [...name].length;
    if (length === 0 || length > 200) details.push({ field: 'name', message: 'must be 1 to 200 characters after trimming' });
    else if (CONTROL.test(name)) details.push({ field: 'name', message: 'must not contain control characters' });
    input.name = name;
  }
  const smtp = body.smtp;
  if (smtp?.host !== undefined) {
    const host = smtp.host.toLowerCase();
    // An IP address in any notation the resolver accepts (`[::1]`, `0x7f000001`, `127.1`) is stored canonical.
    const ip = canonicalIp(host);
    if (ip === undefined && !isHostName(host)) details.push({ field: 'smtp.host', message: 'must be a host name or an IP address' });
    input.smtp_host = ip ?? host;
  }
  if (smtp?.port !== undefined) input.smtp_port = smtp.port;
  if (smtp?.secure !== undefined) input.smtp_secure = smtp.secure ? 1 : 0;
  if (smtp?.user !== undefined) input.smtp_user = smtp.user;
  if (smtp?.pass !== undefined) input.pass = smtp.pass;
  if (body.fromEmail !== undefined) input.from_email = body.fromEmail;
  if (body.fromName !== undefined) {
    if (body.fromName !== null && CONTROL.test(body.fromName)) {
      details.push({ field: 'fromName', message: 'must not contain line breaks or other control characters' });
    }
    input.from_name = body.fromName;
  }
  if (body.replyTo !== undefined) input.reply_to = body.replyTo;
  if (body.rateLimitPerSecond !== undefined) input.rate_limit_per_second = body.rateLimitPerSecond;
  if (body.maxConnections !== undefined) input.max_connections = body.maxConnections;

  if (details.length > 0) throw validationError('Invalid project', details);
  return input;
}
