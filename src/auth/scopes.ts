/**
 * What an API key, or a signed-in member through their role (auth/roles.ts),
 * may do; each route names one in its `config`. `campaigns:write` prepares
 * (drafts, edits, test sends), `campaigns:send` makes email go out or stop
 * (send, schedule, cancel, retry-failed, pause, resume). Keys that held
 * `campaigns:write` before `campaigns:send` existed were given it by
 * migration 0022, so they kept every right they had.
 */
export const SCOPES = [
  'campaigns:read',
  'campaigns:write',
  'campaigns:send',
  'contacts:read',
  'contacts:write',
  'templates:read',
  'templates:write',
  'suppressions:read',
  'suppressions:write',
  'projects:read',
  'projects:write',
  'events:read',
  'webhooks:manage',
  'domains:read',
  'domains:write',
  'email:send',
  'email:read',
  'keys:manage',
  'members:manage',
] as const;

export type Scope = (typeof SCOPES)[number];

export const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value);

/** Parses "a,b,c"; throws naming the first unknown scope. An empty list is refused. */
export function parseScopes(list: string): Scope[] {
  const names = [...new Set(list.split(',').map((s) => s.trim()).filter(Boolean))];
  if (names.length === 0) throw new Error(`no scopes given; known scopes: ${SCOPES.join(', ')}`);
  const unknown = names.find((s) => !isScope(s));
  if (unknown) throw new Error(`unknown scope "${unknown}"; known scopes: ${SCOPES.join(', ')}`);
  return names as Scope[];
}
