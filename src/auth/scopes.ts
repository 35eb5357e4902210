export const SCOPES = [
  'campaigns:read',
  'campaigns:write',
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
