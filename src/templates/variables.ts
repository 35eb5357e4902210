import type { ErrorDetail } from '../shared/errors.js';
import { parseJsonColumn } from '../shared/json.js';

export const VARIABLE_TYPES = ['string', 'number', 'boolean', 'url', 'email', 'image', 'color'] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

export interface VariableDeclaration {
  name: string;
  type: VariableType;
  fallback?: string | number | boolean;
}

export const MAX_DECLARATIONS = 100;

/** Names the renderer sets itself; a declaration may not shadow them. */
export const SYSTEM_VARIABLES = ['email', 'locale', 'unsubscribeUrl', 'contact'] as const;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * Whether a value fits its declared type. URL-like types accept only http(s),
 * so a contact attribute can never put `javascript:` into an href.
 */
export function conforms(type: VariableType, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'url':
    case 'image':
      return typeof value === 'string' && isHttpUrl(value);
    case 'email':
      return typeof value === 'string' && value.length <= 320 && EMAIL.test(value);
    case 'color':
      return typeof value === 'string' && COLOR.test(value);
  }
}

/** Checks what the JSON schema cannot: name syntax, uniqueness, reserved names, fallback type. */
export function checkDeclarations(declarations: VariableDeclaration[], field = 'variables'): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const seen = new Set<string>();
  declarations.forEach((declaration, index) => {
    const at = `${field}.${index}`;
    if (!NAME.test(declaration.name)) {
      details.push({ field: `${at}.name`, message: 'must start with a letter or _ and hold only letters, digits and _' });
    } else if ((SYSTEM_VARIABLES as readonly string[]).includes(declaration.name)) {
      details.push({ field: `${at}.name`, message: `"${declaration.name}" is a system variable` });
    } else if (seen.has(declaration.name)) {
      details.push({ field: `${at}.name`, message: `"${declaration.name}" is declared twice` });
    }
    seen.add(declaration.name);
    if (declaration.fallback !== undefined && !conforms(declaration.type, declaration.fallback)) {
      details.push({ field: `${at}.fallback`, message: `is not a valid ${declaration.type}` });
    }
  });
  return details;
}

const isMissing = (value: unknown) => value === undefined || value === null || value === '';

/**
 * Declared variables whose value is missing, or does not fit the declared
 * type, take the fallback (or are removed, rendering empty). Undeclared
 * values pass through untouched.
 */
export function applyDeclarations(
  values: Record<string, unknown>,
  declarations: readonly VariableDeclaration[] | null,
): Record<string, unknown> {
  if (!declarations || declarations.length === 0) return values;
  // A null-prototype copy: a variable named "__proto__" stays plain data.
  const out: Record<string, unknown> = Object.assign(Object.create(null), values);
  for (const { name, type, fallback } of declarations) {
    const value = out[name];
    if (!isMissing(value) && conforms(type, value)) continue;
    if (fallback !== undefined) out[name] = fallback;
    else delete out[name];
  }
  return out;
}

/** The stored declarations (template_versions.variables, JSON) back as an array; null when none. */
export function parseVariables(value: unknown): VariableDeclaration[] | null {
  return parseJsonColumn<VariableDeclaration[]>(value);
}
