/**
 * Addresses are stored trimmed with the domain lower-cased. The local part is
 * kept as written: RFC 5321 lets a server treat it case-sensitively, so
 * `Ana@x.com` and `ana@x.com` are two contacts (and two suppressions).
 * Syntax: a dot-atom local part (no quoted strings) and an ASCII host name
 * with at least two labels (IDN domains in their xn-- form).
 */
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export const MAX_EMAIL_LENGTH = 254;

export function normaliseEmail(input: string): string | undefined {
  const email = input.trim();
  if (email.length === 0 || email.length > MAX_EMAIL_LENGTH) return undefined;
  const at = email.lastIndexOf('@');
  if (at <= 0 || at > 64) return undefined;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1).toLowerCase();
  if (!LOCAL_PART.test(local)) return undefined;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return undefined;
  const tld = labels[labels.length - 1]!;
  if (/^\d+$/.test(tld)) return undefined;
  return `${local}@${domain}`;
}
