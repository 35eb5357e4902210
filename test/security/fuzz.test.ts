import fs from 'node:fs';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteInfo } from '../../src/routes.js';
import { useTestApp, type TestTenant } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { contactRows, hostileImport, importAndCheck } from '../helpers/hostile-imports.js';
import {
  bodyPlan,
  createRouteFixture,
  fillPath,
  loadRouteTable,
  paramValue,
  pathParams,
  routeLabel,
  rowCounts,
  settle,
  type RouteFixture,
} from '../helpers/routes.js';

/**
 * Fuzzing every route of the route table with fast-check: random and hostile
 * bodies, query strings, path ids and headers, sent with a valid key of the
 * tenant that owns the fixture's objects (so requests get past
 * authentication and reach validation and the handlers). Properties: never a
 * 5xx; every 4xx has the documented error shape; a 4xx wrote nothing.
 *
 * Seeded: FUZZ_SEED=<n> replays a run, FUZZ_RUNS=<n> changes the number of
 * random runs per route (examples — the hostile corpus — always run).
 * fast-check prints the seed and the counterexample of a failure.
 */
const ROUTES = await loadRouteTable();
const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 20);
const BASE_SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const MiB = 1024 * 1024;
/** FUZZ_STATS=<file>: write how often each route answered each status and code there (to see what the fuzzer reaches). */
const STATS = process.env.FUZZ_STATS ? new Map<string, number>() : undefined;
afterAll(() => {
  if (STATS) fs.writeFileSync(process.env.FUZZ_STATS!, [...STATS].sort().map(([key, n]) => `${key}: ${n}`).join('\n'));
});

/** A stable per-route seed, so one route's runs do not depend on another's. */
function seedFor(label: string): number {
  let hash = BASE_SEED | 0;
  for (const char of label) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash;
}

// ------------------------------------------------------------------ encoding

/** Percent-encodes the UTF-8 bytes of any string (lone surrogates become U+FFFD, as on the wire). */
const pct = (text: string) =>
  [...Buffer.from(text, 'utf8')]
    .map((byte) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');

/** An object with exactly these own keys, "__proto__" included (JSON.stringify writes it as data). */
const objectOf = (entries: [string, unknown][]) => {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  return object;
};

// -------------------------------------------------------------- arbitraries

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const anyChar = fc.oneof({ weight: 8, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: loneSurrogate });
/** Any UTF-16 text: every code point, lone surrogates and NUL included. */
const wildString = fc.string({ unit: anyChar, maxLength: 40 });

/** Keys that mean something to SQL, JSON paths, JavaScript or templates. */
const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  "a'); DROP TABLE x;--",
  "' OR '1'='1",
  '$.a',
  '$',
  'x.y',
  'a[0]',
  '"',
  '\\',
  '*',
  '%',
  '_',
  '',
  ' ',
  '\u0000',
  '\ud800',
  'toString',
  'hasOwnProperty',
  '{{ x }}',
  'k'.repeat(129),
];
const hostileKey = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), wildString);

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00',
  '\uFEFF',
  '\u202Eevil',
  '\u2028\u2029',
  '😀👩‍👩‍👧',
  '0',
  '5',
  '-1',
  '1e309',
  'NaN',
  'true',
  'null',
  '[]',
  '{}',
  "'); DROP TABLE contacts;--",
  '$.a',
  'x.y',
  '{{ 7 * 7 }}',
  '{% for i in (1..100000000) %}x{% endfor %}',
  '{% include "secrets" %}',
  '{{ "x" | bogus_filter }}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%00',
  '2024-02-30T25:61:00',
  'Europe/Nowhere',
  'a@b',
  `${'a'.repeat(64)}@${'b'.repeat(250)}.com`,
  'x'.repeat(5000),
];

/** A value to put where a plausible body has a field: hostile text, numbers as strings, wrong types. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  wildString,
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(0, -1, -0, 1.5, 2 ** 53 + 1, 1e308, -1e308, Number.MAX_SAFE_INTEGER),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.tuple(hostileKey, fc.jsonValue({ maxDepth: 2 })), { maxLength: 5 }).map(objectOf),
);

type Path = (string | number)[];

/** Every path to a value inside a JSON document (the root included). */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const paths: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((item, i) => paths.push(...pathsOf(item, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]));
  return paths;
}

type Mutation = { op: 'replace'; path: Path; value: unknown } | { op: 'delete'; path: Path } | { op: 'add'; path: Path; key: string; value: unknown };

function mutate(document: unknown, mutation: Mutation): unknown {
  const copy = structuredClone(document);
  if (mutation.path.length === 0) {
    if (mutation.op === 'replace') return mutation.value;
    if (mutation.op === 'delete') return undefined;
  }
  const parentPath = mutation.op === 'add' ? mutation.path : mutation.path.slice(0, -1);
  let parent: any = copy;
  for (const key of parentPath) parent = parent?.[key];
  if (!parent || typeof parent !== 'object') return copy;
  if (mutation.op === 'add') {
    if (Array.isArray(parent)) parent.push(mutation.value);
    else Object.defineProperty(parent, mutation.key, { value: mutation.value, enumerable: true, writable: true, configurable: true });
    return copy;
  }
  const last = mutation.path[mutation.path.length - 1]!;
  if (mutation.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    parent[last] = mutation.value;
  }
  return copy;
}

/**
 * Paths whose change would send traffic off this machine: the SMTP host of a
 * project (verify connects to it, a random name is a DNS look-up). Kept.
 */
const KEEP = (path: Path) => path.join('.') === 'smtp.host' || path.join('.') === 'smtp.port';

function mutationOf(document: unknown): fc.Arbitrary<Mutation> {
  const paths = pathsOf(document).filter((path) => !KEEP(path));
  const path = fc.constantFrom(...paths);
  return fc.oneof(
    fc.record({ op: fc.constant('replace' as const), path, value: hostileValue }),
    fc.record({ op: fc.constant('delete' as const), path }),
    fc.record({ op: fc.constant('add' as const), path, key: hostileKey, value: hostileValue }),
  );
}

/** Large or pathological bodies, made on demand (named, so a counterexample prints a name, not a megabyte). */
const BIG_BODIES: Record<string, () => string> = {
  'string field of 1.1 MiB': () => JSON.stringify({ name: 'x'.repeat(1.1 * MiB), email: 'a@b.test' }),
  'string field just under 1 MiB': () => JSON.stringify({ name: 'é'.repeat(0.45 * MiB) }),
  'raw 2 MiB of bytes': () => 'A'.repeat(2 * MiB),
  'array nested 10,000 deep': () => `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
  'object nested 5,000 deep': () => `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
  'attributes nested 1,000 deep': () =>
    `{"email":"deep@fuzz.test","attributes":${'{"a":'.repeat(1_000)}1${'}'.repeat(1_000)},"contacts":[{"email":"deep@fuzz.test","attributes":${'{"a":'.repeat(1_000)}1${'}'.repeat(1_000)}}]}`,
  '100,000 keys': () => `{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`,
  '1,000 contacts with 50 attributes': () =>
    JSON.stringify({
      contacts: Array.from({ length: 1000 }, (_, i) => ({
        email: `bulk${i}@fuzz.test`,
        attributes: Object.fromEntries(Array.from({ length: 50 }, (_, k) => [`${HOSTILE_KEYS[k % HOSTILE_KEYS.length]}${k}`, 'v'.repeat(100)])),
      })),
    }),
};

const bigBodies: Record<string, string> = {};

/** Short hostile JSON texts, sent as they are. */
const RAW_BODIES = [
  '{',
  '{"a":1,}',
  "{'a':1}",
  'null',
  '""',
  '[]',
  '0',
  'true',
  '\uFEFF{}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"name":"a","name":{"__proto__":{"x":1}}}',
  '{"email":"a@b.test","attributes":{"__proto__":{"admin":true}}}',
  '{"a":"\\u0000"}',
  '{"\\u0000":1}',
  '{"a":"\\ud800"}',
  '{"\\udc00":"x"}',
  '{"a":1e400}',
  '{"a":-0}',
  '{"a":123456789012345678901234567890}',
  '{"name":"a","name":"b"}',
  '\u0000',
  'a=1&b=2',
];

type BodySpec =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'raw'; text: string }
  | { kind: 'big'; name: string }
  | { kind: 'injected'; key: '__proto__' | 'constructor'; where: 'top' | 'nested' };

interface FuzzRequest {
  /** Path parameter values, already percent-encoded (or deliberately broken). */
  params: Record<string, string>;
  query: string;
  body: BodySpec;
  contentType: string | undefined;
  extraHeaders: Record<string, string | string[]>;
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json;charset=latin1',
  'application/json; charset=utf-16',
  'application/json, text/plain',
  'application/vnd.api+json',
  'text/plain',
  'text/csv',
  'application/x-ndjson',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  '*/*',
  '',
  ';;;',
  'application/json; boundary="unterminated',
];

const HOSTILE_SEGMENTS = [
  '..',
  '.',
  '%2e%2e',
  '..%2F..%2Fetc%2Fpasswd',
  '%00',
  '%2F',
  '%ZZ',
  '%',
  '%E0%A4%A',
  '%C0%AE',
  '%ED%A0%80',
  '%20',
  "'%20OR%201=1--",
  'null',
  '0',
  '-1',
  '1.5',
  '1e3',
  '0x10',
  '9'.repeat(30),
  'a'.repeat(201),
  'a'.repeat(600),
  '__proto__',
  'constructor',
  '%F0%9F%98%80',
  '01a21603-0000-7000-8000-000000000000',
  'FFFFFFFF-FFFF-7FFF-BFFF-FFFFFFFFFFFF',
];

/** Pieces of Liquid and HTML, well- and ill-formed, for template sources. */
const LIQUID_FRAGMENTS = [
  '{{ first_name }}',
  '{{ first_name | upcase }}',
  '{{ unsubscribeUrl }}',
  '{{ first_name | bogus_filter }}',
  '{{ "a" | append: first_name | truncate: -5 }}',
  '{{ first_name | slice: -1000000000, 2000000000 }}',
  '{{ 1e308 | times: 1e308 }}',
  '{{ first_name | date: "%Y-%m-%d %Q" }}',
  '{{ first_name | split: "" | join: "," }}',
  '{{ x.y.z[0]["a"] }}',
  '{{ constructor.constructor }}',
  '{{ __proto__ }}',
  '{% if first_name %}',
  '{% elsif x %}',
  '{% else %}',
  '{% endif %}',
  '{% for i in (1..5) %}',
  '{% for i in (1..100000000) %}{% for j in (1..100000000) %}x{% endfor %}{% endfor %}',
  '{% endfor %}',
  '{% assign y = first_name | default: "x" %}',
  '{% capture c %}{{ y }}{% endcapture %}{{ c }}',
  '{% case first_name %}{% when "a" %}A{% else %}B{% endcase %}',
  '{% cycle "a", "b" %}',
  '{% tablerow i in (1..3) %}{{ i }}{% endtablerow %}',
  '{% liquid assign a = 1\necho a %}',
  '{% increment counter %}',
  '{% raw %}{{ raw }}{% endraw %}',
  '{% comment %}x{% endcomment %}',
  '{% include "secrets" %}',
  '{% render "file" %}',
  '{% layout "base" %}',
  '{%',
  '%}',
  '{{',
  '}}',
  '{% endraw %}',
  '<style>p { color: red } @media (max-width: 600px) { p { color: blue } }</style>',
  '<style>@import url("http://127.0.0.1:1/x.css");</style>',
  '<link rel="stylesheet" href="http://127.0.0.1:1/x.css">',
  '<p style="color: {{ first_name }}">',
  '<table><tr>{% for i in (1..2) %}<td>{{ i }}</td>{% endfor %}</tr></table>',
  '<script>alert(1)</script>',
  '<!--',
  '<![CDATA[',
  '<p>',
  '</p>',
  '&amp;&#0;&#xD800;',
];

/** For wildcard tails (static files): ways out of the served folder. */
const TRAVERSALS = [
  '../../../../../../etc/passwd',
  '..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e/%2e%2e/%2e%2e/%2e%2e/package.json',
  '..%252f..%252f..%252fpackage.json',
  '....//....//....//etc/passwd',
  '..\\..\\..\\package.json',
  '/etc/passwd',
  '%2Fetc%2Fpasswd',
  'index.html%00.js',
  '../../../../package.json',
  '../../../../.env',
  '../../../../data/mailingcore.db',
];

/** What a response must never contain: files of the machine or of the project outside what is served. */
const FORBIDDEN_CONTENT = [/root:[^:\n]*:0:0:/, /"devDependencies"\s*:/, /SQLite format 3/];

const HOSTILE_QUERIES = [
  'limit=0',
  'limit=-1',
  'limit=abc',
  'limit=1e3',
  'limit=5&limit=6',
  'limit=100000',
  'page=0',
  'page=99999999999999999999',
  'page=1.5',
  'page=1000000',
  'status=BOGUS',
  'status[]=DRAFT',
  'status=DRAFT&status=SENT',
  'cursor=',
  'cursor=%00',
  `cursor=${'A'.repeat(1500)}`,
  'cursor=eyJ4IjoxfQ',
  'cursor=bm90LWpzb24',
  'cursor=WyJhIiwiYiJd',
  'updatedSince=yesterday',
  'updatedSince=2024-13-45T99:99:99Z',
  'optIn=maybe',
  'optIn=',
  '__proto__[polluted]=1',
  'constructor[prototype][polluted]=1',
  `lang=${'x'.repeat(50)}`,
  '%ZZ=1',
  'a=%ZZ',
  '&&&',
  '=',
  "projectId=x'%20OR%20'1'='1",
  `locale=${'e'.repeat(40)}`,
  'locale=%00',
  'locale=es-MX&optIn=true&limit=500',
];

function requestArbitrary(route: RouteInfo, fixture: RouteFixture): fc.Arbitrary<FuzzRequest> {
  const names = pathParams(route);
  const valid = Object.fromEntries(names.map((name) => [name, paramValue(route, name, fixture)]));
  const segment = (name: string) =>
    name === '*'
      ? fc.oneof(fc.constant(''), fc.constantFrom(...TRAVERSALS), fc.constantFrom(...HOSTILE_SEGMENTS), wildString.map(pct))
      : fc.oneof(
      { weight: 6, arbitrary: fc.constant(encodeURIComponent(valid[name]!)) },
      { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) },
      { weight: 1, arbitrary: wildString.map(pct) },
      { weight: 1, arbitrary: fc.uuid().map(String) },
      { weight: 1, arbitrary: fc.constantFrom(encodeURIComponent(valid[name]!.toUpperCase()), `${encodeURIComponent(valid[name]!)}%00`, `${encodeURIComponent(valid[name]!)}%20`) },
    );
  const params = fc.record(Object.fromEntries(names.map((name) => [name, segment(name)])) as Record<string, fc.Arbitrary<string>>);

  const queryKey = fc.oneof(fc.constantFrom('page', 'limit', 'status', 'cursor', 'locale', 'optIn', 'updatedSince', 'projectId', 'lang'), hostileKey);
  const query = fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_QUERIES) },
    {
      weight: 2,
      arbitrary: fc
        .array(fc.tuple(queryKey, fc.oneof(fc.constantFrom(...HOSTILE_STRINGS.filter((s) => s.length < 100)), wildString)), { maxLength: 5 })
        .map((pairs) => pairs.map(([key, value]) => `${pct(key)}=${pct(value)}`).join('&')),
    },
  );

  const plan = bodyPlan(route, fixture);
  const plausible = plan && 'body' in plan ? plan.body : undefined;
  const bodies: fc.WeightedArbitrary<BodySpec>[] = [
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => ({ kind: 'json' as const, value })) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_BODIES).map((text) => ({ kind: 'raw' as const, text })) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('injected' as const),
        key: fc.constantFrom('__proto__' as const, 'constructor' as const),
        where: fc.constantFrom('top' as const, 'nested' as const),
      }),
    },
  ];
  if (plausible !== undefined) {
    // Mostly near-valid bodies, so that requests get past validation into the handlers.
    bodies.push(
      { weight: 2, arbitrary: fc.constant({ kind: 'json' as const, value: plausible }) },
      { weight: 5, arbitrary: mutationOf(plausible).map((m) => ({ kind: 'json' as const, value: mutate(plausible, m) })) },
      {
        weight: 2,
        arbitrary: fc
          .array(mutationOf(plausible), { minLength: 2, maxLength: 4 })
          .map((ms) => ({ kind: 'json' as const, value: ms.reduce(mutate, plausible) })),
      },
    );
  } else if (plan && 'payload' in plan) {
    // A streamed import: random lines of CSV / NDJSON.
    bodies.push({
      weight: 5,
      arbitrary: fc
        .tuple(
          fc.array(fc.oneof(fc.constant(plan.payload.trim()), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), wildString), { maxLength: 20 }),
          fc.constantFrom('\n', '\r\n', '\r'),
        )
        .map(([lines, separator]) => ({ kind: 'raw' as const, text: lines.join(separator) })),
    });
  }
  const defaultType = plan && 'contentType' in plan ? plan.contentType : 'application/json';
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constant(defaultType) },
    { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }) },
  );
  const tenantId = fixture.tenant.tenantId;
  const extraHeaders = fc.oneof(
    { weight: 6, arbitrary: fc.constant({}) },
    {
      weight: 3,
      arbitrary: fc.constantFrom<Record<string, string | string[]>>(
        { 'x-tenant-id': [tenantId, tenantId] },
        { 'x-tenant-id': `  ${tenantId}  ` },
        { 'x-tenant-id': tenantId.toUpperCase() },
        { authorization: [`Bearer ${fixture.tenant.apiKey}`, 'Bearer mc_live_x'] },
        { authorization: `bearer   ${fixture.tenant.apiKey}  ` },
        { 'content-type': ['application/json', 'text/csv'] },
        { 'content-encoding': 'gzip' },
        { 'content-encoding': 'br, identity' },
        { 'idempotency-key': 'fuzz-key' },
        { 'idempotency-key': 'é' },
        { accept: 'text/html' },
        { 'x-forwarded-for': "127.0.0.1'; DROP TABLE x;--" },
      ),
    },
  );
  // Fastify reads no body on GET: only the path, the query and the headers matter there.
  const body = route.method === 'GET' ? fc.constant<BodySpec>({ kind: 'none' }) : fc.oneof(...bodies);
  return fc.record({ params, query, body, contentType, extraHeaders });
}

/** The corpus every route gets, whatever the random runs draw. */
function examplesFor(route: RouteInfo, fixture: RouteFixture): FuzzRequest[] {
  const plan = bodyPlan(route, fixture);
  const params = Object.fromEntries(pathParams(route).map((name) => [name, encodeURIComponent(paramValue(route, name, fixture))]));
  const base: FuzzRequest = { params, query: '', body: { kind: 'none' }, contentType: plan && 'contentType' in plan ? plan.contentType : 'application/json', extraHeaders: {} };
  const examples: FuzzRequest[] =
    route.method === 'GET'
      ? HOSTILE_QUERIES.map((query) => ({ ...base, query }))
      : [
          ...Object.keys(BIG_BODIES).map((name) => ({ ...base, body: { kind: 'big' as const, name } })),
          ...RAW_BODIES.map((text) => ({ ...base, body: { kind: 'raw' as const, text } })),
          ...(['top', 'nested'] as const).flatMap((where) =>
            (['__proto__', 'constructor'] as const).map((key) => ({ ...base, body: { kind: 'injected' as const, key, where } })),
          ),
        ];
  for (const name of pathParams(route)) {
    for (const segment of name === '*' ? TRAVERSALS : ['..', '%00', '%ZZ', 'a'.repeat(201), 'a'.repeat(600), "'%20OR%201=1--"]) {
      examples.push({ ...base, params: { ...params, [name]: segment } });
    }
  }
  return examples;
}

function materialise(spec: BodySpec, route: RouteInfo, fixture: RouteFixture): string | undefined {
  switch (spec.kind) {
    case 'none':
      return undefined;
    case 'json':
      return spec.value === undefined ? undefined : JSON.stringify(spec.value);
    case 'raw':
      return spec.text;
    case 'big':
      return (bigBodies[spec.name] ??= BIG_BODIES[spec.name]!());
    case 'injected': {
      const plan = bodyPlan(route, fixture);
      const text = plan && 'body' in plan ? JSON.stringify(plan.body) : '{"email":"a@b.test","attributes":{"a":1}}';
      const injected = spec.key === '__proto__' ? '"__proto__":{"polluted":true}' : '"constructor":{"prototype":{"polluted":true}}';
      // top: first key of the document; nested: first key of the innermost object that opens.
      const at = spec.where === 'top' ? text.indexOf('{') : text.lastIndexOf('{');
      return `${text.slice(0, at + 1)}${injected}${text[at + 1] === '}' ? '' : ','}${text.slice(at + 1)}`;
    }
  }
}

/**
 * Template content that goes for the process's time and memory rather than
 * its parser (issue 12): loops with large or nested ranges, strings doubled
 * with append/prepend and then split, sorted or printed, big captures, CSS
 * with many rules over many elements, deeply nested HTML. Each must end as
 * a clean 4xx (render thread limits), never a 5xx or a crash.
 */
const liquidSafe = fc.string({ unit: fc.constantFrom('a', 'b', 'x', 'é', '✓', ' ', '<', '>', '&'), minLength: 1, maxLength: 24 });
const resourceHostile: fc.Arbitrary<string> = fc.oneof(
  fc
    .record({
      outer: fc.integer({ min: 1, max: 5_000_000 }),
      inner: fc.integer({ min: 1, max: 5_000 }),
      body: fc.constantFrom('{{ i }}', 'xxxxxxxxxx', '{% assign x = i | plus: j %}', '{{ i | append: "yy" | upcase }}', '{% capture c %}{{ c }}{{ i }}{% endcapture %}'),
    })
    .map(({ outer, inner, body }) => `{% for i in (1..${outer}) %}{% for j in (1..${inner}) %}${body}{% endfor %}{% endfor %}`),
  fc
    .record({
      seed: liquidSafe,
      times: fc.integer({ min: 1, max: 40 }),
      grow: fc.constantFrom('append: s', 'prepend: s', 'append: s | append: s'),
      tail: fc.constantFrom('{{ s }}', '{{ s | size }}', '{% assign a = s | split: "" | sort %}{{ a | size }}', '{{ s | split: "" | reverse | join: "," | size }}', '{{ s | replace: "x", s | size }}'),
    })
    .map(({ seed, times, grow, tail }) => `{% assign s = "${seed}" %}{% for i in (1..${times}) %}{% assign s = s | ${grow} %}{% endfor %}${tail}`),
  fc
    .record({ rules: fc.integer({ min: 1, max: 3000 }), elements: fc.integer({ min: 1, max: 4000 }), selector: fc.constantFrom('div p span.c1', '* *', 'p:nth-child(2n+1) span', 'div > p ~ p span') })
    .map(
      ({ rules, elements, selector }) =>
        `<style>${Array.from({ length: rules }, (_, i) => `${selector}, .k${i} { margin: ${i}px }`).join('\n')}</style>${'<div><p><span class="c1">x</span></p></div>'.repeat(elements)}`,
    ),
  fc.integer({ min: 1, max: 20_000 }).map((depth) => `${'<div>'.repeat(depth)}{{ first_name }}${'</div>'.repeat(depth)}`),
  fc.integer({ min: 1, max: 3_000_000 }).map((n) => `{% capture big %}{% for i in (1..${n}) %}xxxxxxxxxx{{ i }}{% endfor %}{% endcapture %}{{ big | size }}`),
);

const preview = (text: string | undefined, max = 300) =>
  text === undefined ? '(none)' : text.length > max ? `${JSON.stringify(text.slice(0, max))}… (${text.length} chars)` : JSON.stringify(text);

/** The documented error shape of a 4xx. */
function errorShape(res: LightMyRequestResponse) {
  const body = res.json() as Record<string, unknown>;
  expect(body, res.body.slice(0, 500)).toMatchObject({ statusCode: res.statusCode, code: expect.any(String), message: expect.any(String), path: expect.any(String), timestamp: expect.any(String) });
  if (body.details !== undefined) expect(Array.isArray(body.details)).toBe(true);
}

describe.each(DIALECTS)('fuzzing every route (%s)', (dialect) => {
  // A short render budget: hostile templates are the point here, and each may use all of it.
  const ctx = useTestApp(dialect, { render: { timeoutMs: 500 } });
  let fixture: RouteFixture;
  let counts: Record<string, number>;

  beforeAll(async () => {
    fixture = await createRouteFixture(ctx, await ctx.newTenant('Fuzzed'));
    counts = await rowCounts(ctx);
  });

  async function check(route: RouteInfo, request: FuzzRequest): Promise<void> {
    const url = fillPath(route, request.params, false) + (request.query ? `?${request.query}` : '');
    const payload = materialise(request.body, route, fixture);
    const headers: Record<string, string | string[]> = {
      ...fixture.tenant.headers,
      ...(request.contentType !== undefined && payload !== undefined ? { 'content-type': request.contentType } : {}),
      ...request.extraHeaders,
    };
    const describeRequest = () =>
      `${route.method} ${preview(url, 200)}\nheaders: ${JSON.stringify({ ...headers, authorization: '…' })}\nbody: ${preview(payload)}`;

    let res: LightMyRequestResponse;
    try {
      res = await ctx.app.inject({ method: route.method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) });
    } catch (error) {
      throw new Error(`inject threw ${(error as Error).message}\n${describeRequest()}`);
    }
    const fail = (why: string) => new Error(`${why}\n${describeRequest()}\n→ ${res.statusCode} ${preview(res.body, 600)}`);

    if (STATS) {
      const key = `${route.method} ${route.url} ${res.statusCode} ${res.body.match(/"code":"(\w+)"/)?.[1] ?? ''}`;
      STATS.set(key, (STATS.get(key) ?? 0) + 1);
    }
    if (res.statusCode >= 500) throw fail('5xx');
    for (const pattern of FORBIDDEN_CONTENT) if (pattern.test(res.body)) throw fail(`the answer contains ${pattern}`);
    if (res.statusCode >= 400) {
      const html = String(res.headers['content-type'] ?? '').startsWith('text/html');
      // The public unsubscribe pages and tracked links answer a bad or unknown token with an HTML page for people, by design.
      if (!(route.public && (route.url.startsWith('/u/') || route.url.startsWith('/track/')) && html)) {
        let body: Record<string, unknown>;
        try {
          body = res.json();
        } catch {
          throw fail('4xx body is not JSON');
        }
        if (body.statusCode !== res.statusCode) throw fail('error statusCode differs from the HTTP status');
        for (const field of ['code', 'message', 'path', 'timestamp']) {
          if (typeof body[field] !== 'string') throw fail(`error body lacks ${field}`);
        }
        if (Number.isNaN(Date.parse(body.timestamp as string))) throw fail('error timestamp is not a date');
        if (body.details !== undefined && !Array.isArray(body.details)) throw fail('error details is not a list');
      }
      const after = await rowCounts(ctx);
      try {
        expect(after).toEqual(counts);
      } catch {
        throw fail(`a ${res.statusCode} wrote: ${JSON.stringify(counts)} → ${JSON.stringify(after)}`);
      }
    } else {
      await settle(ctx); // a 202 send fans out in the background
      counts = await rowCounts(ctx);
    }
    if (Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted') || ({} as Record<string, unknown>).polluted !== undefined) {
      throw fail('Object.prototype was polluted');
    }
  }

  /** A JSON request as the tenant, with exactly this text as the body. */
  const putJson = (tenant: TestTenant, method: 'PUT' | 'POST', url: string, body: unknown) =>
    ctx.request(method, url, { tenant, payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it('attribute keys with SQL, JSON-path and JavaScript metacharacters are plain keys in audience filters', async () => {
    const attributeValue = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.boolean(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ unit: anyChar, minLength: 1, maxLength: 30 })), attributeValue, async (key, value) => {
        const tenant = await ctx.newTenant('Attributes');
        const contact = (email: string, attributeValue: unknown) =>
          putJson(tenant, 'PUT', '/contacts', { email, optIn: true, attributes: objectOf([[key, attributeValue]]) });
        const matching = await contact('match@attributes.test', value);
        if (matching.statusCode !== 200) {
          // Refused keys (NUL, lone surrogates, __proto__/constructor, over 128 characters) are refused cleanly, and not stored.
          expect(matching.statusCode, matching.body).toBe(400);
          expect(await ctx.count('contacts')).toBe(counts.contacts);
          return;
        }
        // Decoys: another value, and the same value as another JSON type ("1" ≠ 1, "true" ≠ true).
        const otherType = typeof value === 'string' ? (Number.isFinite(Number(value)) && value.trim() !== '' ? Number(value) : value === 'true') : String(value);
        for (const [i, decoy] of [typeof value === 'string' ? `${value}x` : typeof value === 'number' ? (value + 1 === value ? value / 2 : value + 1) : !value, otherType].entries()) {
          expect((await contact(`decoy${i}@attributes.test`, decoy)).statusCode).toBe(200);
        }
        const campaign = await putJson(tenant, 'POST', '/campaigns', { name: 'Attributes', audienceFilter: { attributes: objectOf([[key, value]]) } });
        expect(campaign.statusCode, campaign.body).toBe(201);
        const coverage = await ctx.request('GET', `/campaigns/${campaign.json().id}/locale-coverage`, { tenant });
        expect(coverage.statusCode, coverage.body).toBe(200);
        const reached = (coverage.json() as { count: number }[]).reduce((sum, row) => sum + row.count, 0);
        expect(reached, `filter {${JSON.stringify(key)}: ${JSON.stringify(value)}} → ${coverage.body}`).toBe(1);
        counts = await rowCounts(ctx);
      }),
      { numRuns: 2 * NUM_RUNS, seed: seedFor('attribute keys'), examples: HOSTILE_KEYS.map((key): [string, string | number | boolean] => [key, 'v']), endOnFailure: true },
    );
  }, 120_000);

  it('contact attributes round-trip exactly (unicode, numbers, nesting), or are refused with 400', async () => {
    const tenant = await ctx.newTenant('Round trip');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(hostileKey, fc.oneof(hostileValue, fc.jsonValue({ maxDepth: 5 }))), { maxLength: 6 }).map(objectOf), async (attributes) => {
        const before = await rowCounts(ctx);
        const res = await putJson(tenant, 'PUT', '/contacts', { email: `round${n++}@trip.test`, attributes });
        if (res.statusCode !== 200) {
          expect(res.statusCode, res.body).toBe(400);
          expect(await rowCounts(ctx)).toEqual(before);
          return;
        }
        const sent = JSON.parse(JSON.stringify(attributes));
        expect(res.json().attributes).toEqual(sent);
        const read = await ctx.request('GET', `/contacts/${res.json().id}`, { tenant });
        expect(read.json().attributes).toEqual(sent);
        counts = await rowCounts(ctx);
      }),
      { numRuns: 2 * NUM_RUNS, seed: seedFor('round trip'), endOnFailure: true },
    );
  }, 120_000);

  it('hostile CSV and NDJSON imports: never a 5xx, 4xx in the error shape, the summary matches the database, other tenants untouched', async () => {
    const tenant = await ctx.newTenant('Hostile imports');
    const bystander = await ctx.newTenant('Bystander');
    const addresses = ['imp1@fuzz-import.test', 'imp2@fuzz-import.test', 'Bystander@fuzz-import.test'];
    for (const [i, email] of addresses.entries()) {
      expect((await putJson(bystander, 'PUT', '/contacts', { email, externalId: `imp-${i + 1}`, attributes: { owner: 'bystander' } })).statusCode).toBe(200);
    }
    const bystanderBefore = await contactRows(ctx, bystander.tenantId);
    await fc.assert(
      fc.asyncProperty(hostileImport({ addresses, externalIds: ['imp-1', 'imp-2', 'imp-3'] }), async (input) => {
        ctx.clock.advance(1000); // rows this import touches are those with updated_at = now
        await importAndCheck(ctx, tenant, input);
        counts = await rowCounts(ctx);
      }),
      { numRuns: 4 * NUM_RUNS, seed: seedFor('hostile imports'), endOnFailure: true },
    );
    expect(await contactRows(ctx, bystander.tenantId)).toBe(bystanderBefore);
  }, 120_000);

  it('hostile Liquid and HTML survive the template life cycle: draft, preview, publish, preview, test send', async () => {
    const tenant = await ctx.newTenant('Liquid');
    const template = await putJson(tenant, 'POST', '/templates', { name: 'Liquid', subject: 'S', htmlBody: '<p>x</p>' });
    const templateId = template.json().id as string;
    const versions = `/templates/${templateId}/versions`;
    const source = fc
      .array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...LIQUID_FRAGMENTS) }, { weight: 1, arbitrary: wildString }), { minLength: 1, maxLength: 12 })
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(source, source, fc.option(source, { nil: undefined }), fc.jsonValue({ maxDepth: 3 }), async (subject, htmlBody, textBody, data) => {
        const expectShape = (res: LightMyRequestResponse, what: string) => {
          expect(res.statusCode, `${what} → ${res.body.slice(0, 500)}`).toBeLessThan(500);
          if (res.statusCode >= 400) expect(res.json()).toMatchObject({ statusCode: res.statusCode, code: expect.any(String), message: expect.any(String) });
          return res;
        };
        const created = expectShape(await putJson(tenant, 'POST', versions, { subject, htmlBody, ...(textBody === undefined ? {} : { textBody }) }), 'create');
        if (created.statusCode !== 201) return;
        const version = `${versions}/${created.json().id}`;
        expectShape(await putJson(tenant, 'POST', `${version}/preview`, { data: { first_name: data } }), 'draft preview');
        const published = expectShape(await ctx.request('POST', `${version}/publish`, { tenant }), 'publish');
        if (published.statusCode !== 200) return;
        // A published template may still fail to render (a render limit, a filter on bad data): 422, not a crash.
        expect([200, 422]).toContain(expectShape(await putJson(tenant, 'POST', `${version}/preview`, { data: { first_name: data } }), 'preview').statusCode);
        const campaign = await putJson(tenant, 'POST', '/campaigns', { name: 'Liquid', templateVersionId: created.json().id });
        expect(campaign.statusCode, campaign.body).toBe(201);
        const sent = expectShape(await putJson(tenant, 'POST', `/campaigns/${campaign.json().id}/test`, { emails: ['liquid@fuzz.test'] }), 'test send');
        expect(sent.statusCode, sent.body).toBe(200);
        counts = await rowCounts(ctx);
      }),
      { numRuns: 2 * NUM_RUNS, seed: seedFor('liquid'), endOnFailure: true },
    );
  }, 120_000);

  it('resource-hostile Liquid and HTML (loops, doubling, big CSS, deep nesting) end in a clean 4xx, never a 5xx, through preview and publish', async () => {
    const tenant = await ctx.newTenant('Hostile Liquid');
    const template = await putJson(tenant, 'POST', '/templates', { name: 'Hostile', subject: 'S', htmlBody: '<p>x</p>' });
    const versions = `/templates/${template.json().id as string}/versions`;
    const part = fc.array(fc.oneof({ weight: 3, arbitrary: resourceHostile }, { weight: 1, arbitrary: fc.constantFrom(...LIQUID_FRAGMENTS) }), { minLength: 1, maxLength: 3 }).map((parts) => parts.join(''));
    const where = fc.constantFrom('htmlBody', 'textBody', 'subject') as fc.Arbitrary<'htmlBody' | 'textBody' | 'subject'>;
    await fc.assert(
      fc.asyncProperty(part, where, async (hostile, field) => {
        const expectShape = (res: LightMyRequestResponse, what: string) => {
          expect(res.statusCode, `${what} → ${res.body.slice(0, 500)}`).toBeLessThan(500);
          if (res.statusCode >= 400) errorShape(res);
          return res;
        };
        const body = { subject: 'Hello', htmlBody: '<p>Hi {{ first_name }}</p>', [field]: hostile };
        const created = expectShape(await putJson(tenant, 'POST', versions, body), 'create');
        if (created.statusCode !== 201) return;
        const version = `${versions}/${created.json().id}`;
        expect([200, 422]).toContain(expectShape(await putJson(tenant, 'POST', `${version}/preview`, { data: { first_name: 'Ana' } }), 'draft preview').statusCode);
        const published = expectShape(await ctx.request('POST', `${version}/publish`, { tenant }), 'publish');
        if (published.statusCode === 200) {
          expect([200, 422]).toContain(expectShape(await putJson(tenant, 'POST', `${version}/preview`, {}), 'preview').statusCode);
        }
        expect((await ctx.request('GET', '/healthz')).statusCode).toBe(200);
        counts = await rowCounts(ctx);
      }),
      { numRuns: NUM_RUNS, seed: seedFor('resource-hostile liquid'), endOnFailure: true },
    );
  }, 180_000);

  it.each(ROUTES.map((route) => [routeLabel(route), route] as const))('%s', async (label, route) => {
    const examples = examplesFor(route, fixture).map((request): [FuzzRequest] => [request]);
    await fc.assert(
      fc.asyncProperty(requestArbitrary(route, fixture), (request) => check(route, request)),
      {
        numRuns: examples.length + NUM_RUNS, // examples count as runs
        seed: seedFor(label),
        examples,
        // The app's state moves on between runs, so shrinking would chase a moving target: report the first failure as drawn.
        endOnFailure: true,
      },
    );
  }, 120_000);
});
