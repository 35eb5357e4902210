import Ajv, { type ErrorObject, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { ErrorDetail } from '../shared/errors.js';

/**
 * Bodies are validated strictly: no type coercion ("5" is not 5) and unknown
 * fields rejected rather than silently dropped. Query strings and path
 * parameters arrive as text, so they are coerced.
 *
 * Numbers must be finite. Bodies: `strictNumbers` here, but JSON bodies are
 * already refused a non-finite number when parsed (app.ts), since a schema's
 * `type: number` is not the only place one can sit (attribute values are any
 * JSON). Text: a query's `1e400` coerces to Infinity, checked after
 * coercion below — Ajv 8 with both `strictNumbers` and `coerceTypes` accepts
 * Infinity past a `maximum`, so the text validator does not use the option.
 */
function makeAjv(options: Options): Ajv.default {
  const ajv = new Ajv.default({ allErrors: true, strict: false, useDefaults: true, removeAdditional: false, ...options });
  addFormats.default(ajv);
  return ajv;
}

const bodyAjv = makeAjv({ coerceTypes: false, strictNumbers: true });
const textAjv = makeAjv({ coerceTypes: 'array' });

/** A body schema compiled as routes' bodies are (a batch judges each item with its single route's schema). */
export const compileBodySchema = (schema: object) => bodyAjv.compile(schema);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  if (httpPart === 'body') return bodyAjv.compile(schema as object);
  const validate = textAjv.compile(schema as object);
  // NUL in a path or query value is refused as in bodies (app.ts): PostgreSQL
  // cannot even compare text containing it, so it must not reach a query.
  const validateText = Object.assign(
    (data: unknown, context?: object) => {
      const fields = fieldsWithNul(data);
      if (fields.length > 0) {
        validateText.errors = fields.map((field) => ({
          instancePath: `/${field}`,
          schemaPath: '',
          keyword: 'nul',
          params: {},
          message: 'must not contain NUL characters',
        }));
        return false;
      }
      const valid = validate(data, context as never);
      validateText.errors = validate.errors ?? null;
      const infinite = valid ? fieldsWithInfinity(data) : [];
      if (infinite.length > 0) {
        validateText.errors = infinite.map((field) => ({
          instancePath: `/${field}`,
          schemaPath: '',
          keyword: 'finite',
          params: {},
          message: 'must be a finite number',
        }));
        return false;
      }
      return valid;
    },
    { schemaEnv: validate.schemaEnv, errors: null as ErrorObject[] | null },
  );
  return validateText;
};

/** Top-level fields (path parameters, query keys) holding a NUL character, in a key or a value. */
function fieldsWithNul(data: unknown): string[] {
  if (!data || typeof data !== 'object') return [];
  return Object.entries(data)
    .filter(([key, value]) => key.includes('\u0000') || [value].flat().some((v) => typeof v === 'string' && v.includes('\u0000')))
    .map(([key]) => key.replace(/\u0000/g, '\\0'));
}

/** Top-level fields that coercion turned into a non-finite number (`?limit=1e400`). */
function fieldsWithInfinity(data: unknown): string[] {
  if (!data || typeof data !== 'object') return [];
  return Object.entries(data)
    .filter(([, value]) => [value].flat().some((v) => typeof v === 'number' && !Number.isFinite(v)))
    .map(([key]) => key);
}

/** Ajv's errors → one entry per bad field, named as the client wrote it (`audienceFilter.locale`). */
export function validationDetails(errors: ErrorObject[], context: string | undefined): ErrorDetail[] {
  const byField = new Map<string, string>();
  for (const error of errors) {
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf') continue;
    let field = error.instancePath.slice(1).replace(/\//g, '.');
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'required') {
      field = join(field, String(error.params.missingProperty));
      message = 'is required';
    } else if (error.keyword === 'additionalProperties') {
      field = join(field, String(error.params.additionalProperty));
      message = 'is not an allowed field';
    } else if (error.keyword === 'enum') {
      message = `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
    } else if (error.keyword === 'propertyNames') {
      continue; // the nested error names the offending key
    }
    const name = field || (context === 'body' ? '(body)' : `(${context ?? 'request'})`);
    if (!byField.has(name)) byField.set(name, message);
  }
  return [...byField].map(([field, message]) => ({ field, message }));
}

const join = (parent: string, child: string) => (parent ? `${parent}.${child}` : child);
