import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestTenant } from '../helpers/app.js';

const ROWS = 20_000;
const LOCALES = ['en', 'es-mx', 'FR', ''];

/** Line n (1-based, header = line 1) holds contact n - 2. Every 1000th contact is broken one way or another. */
function generatedCsv(): { csv: string; badLines: number[] } {
  const lines = ['email,externalId,locale,optIn,plan,city'];
  const badLines: number[] = [];
  for (let i = 0; i < ROWS; i++) {
    const line = i + 2;
    if (i % 1000 === 999) {
      badLines.push(line);
      const kind = (i / 1000) % 4;
      if (kind < 1) lines.push(`not-an-address-${i},x${i},en,true,free,Madrid`);
      else if (kind < 2) lines.push(`u${i}@example.com,x${i},en,perhaps,free,Madrid`);
      else if (kind < 3) lines.push(`u${i}@example.com,x${i},not_a_locale,true,free,Madrid`);
      else lines.push(`u${i}@example.com,x${i},en`);
      continue;
    }
    lines.push(`u${i}@Example.com,x${i},${LOCALES[i % 4]},${i % 3 === 0 ? 'yes' : 'no'},${i % 2 ? 'pro' : 'free'},"Madrid, ES"`);
  }
  return { csv: `${lines.join('\n')}\n`, badLines };
}

describe.each(DIALECTS)('POST /contacts/import (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  const importBody = (tenant: TestTenant, contentType: string, payload: string) =>
    ctx.request('POST', '/contacts/import', { tenant, headers: { 'content-type': contentType }, payload });

  it('imports a 20,000-row CSV, reporting bad rows by line, and re-imports as updates', async () => {
    const tenant = await ctx.newTenant();
    const { csv, badLines } = generatedCsv();
    const res = await importBody(tenant, 'text/csv; charset=utf-8', csv);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ processed: ROWS, created: ROWS - badLines.length, updated: 0, failed: badLines.length });
    expect(body.errors.map((e: { line: number }) => e.line)).toEqual(badLines);
    expect(body.errors[0].message).toMatch(/email/);
    expect(body.errors[1].message).toMatch(/optIn/);
    expect(body.errors[2].message).toMatch(/locale/);
    expect(body.errors[3].message).toMatch(/expected 6 fields, found 3/);

    const first = (await ctx.request('GET', '/contacts/x0', { tenant })).json();
    expect(first).toMatchObject({
      email: 'u0@example.com',
      locale: 'en',
      optIn: true,
      attributes: { plan: 'free', city: 'Madrid, ES' },
    });
    const second = (await ctx.request('GET', '/contacts/x1', { tenant })).json();
    expect(second).toMatchObject({ locale: 'es-MX', optIn: false, attributes: { plan: 'pro' } });
    const noLocale = (await ctx.request('GET', '/contacts/x3', { tenant })).json();
    expect(noLocale.locale).toBeNull();
    expect((await ctx.request('GET', '/contacts?limit=1', { tenant })).json().meta.total).toBe(ROWS - badLines.length);

    const again = (await importBody(tenant, 'text/csv', csv)).json();
    expect(again).toMatchObject({ processed: ROWS, created: 0, updated: ROWS - badLines.length, failed: badLines.length });
    expect((await ctx.request('GET', '/contacts/x0', { tenant })).json().id).toBe(first.id);
  });

  it('imports NDJSON with the same rules, numbering lines including blank ones', async () => {
    const tenant = await ctx.newTenant();
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      lines.push(JSON.stringify({ email: `n${i}@example.com`, externalId: `n-${i}`, attributes: { score: i, vip: i % 2 === 0 } }));
    }
    lines[10] = '{"email": "broken"';
    lines[20] = '[1,2]';
    lines[30] = JSON.stringify({ email: 'n30@example.com', optIn: 'yes' });
    lines[40] = '';
    lines[50] = JSON.stringify({ email: 'n50@example.com', externalId: 'n-49' }); // n-49 (n49@) changes address
    const res = await importBody(tenant, 'application/x-ndjson', `${lines.join('\r\n')}\r\n\r\n`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.errors.map((e: { line: number }) => e.line)).toEqual([11, 21, 31]);
    expect(body.errors[0].message).toMatch(/JSON/);
    expect(body.errors[1].message).toMatch(/object/);
    expect(body.errors[2].message).toMatch(/optIn/);
    expect(body).toMatchObject({ processed: 2999, created: 2995, updated: 1, failed: 3 });
    // line 51 moved n-49 to n50@ …
    expect((await ctx.request('GET', '/contacts/n-49', { tenant })).json().email).toBe('n50@example.com');
    expect((await ctx.request('GET', '/contacts/n-7', { tenant })).json().attributes).toEqual({ score: 7, vip: false });
  });

  it('treats known columns loosely, other columns as string attributes, empty cells as not given', async () => {
    const tenant = await ctx.newTenant();
    await ctx.request('PUT', '/contacts', { tenant, body: { email: 'keep@example.com', locale: 'de', optIn: true, source: 'api' } });
    const csv = [
      '\uFEFFEmail,external_id,Opt-In,consent_version,Source,project_id,__proto__,x.y',
      'keep@example.com,,,,,,,',
      'multi@example.com,m-1,1,v1,csv,p1,polluted,"line one',
      'line two"',
      'third@example.com,m-3,0,,,,,',
    ].join('\n');
    const res = await importBody(tenant, 'text/csv', csv);
    expect(res.json()).toMatchObject({ processed: 3, created: 2, updated: 1, failed: 0, errors: [] });
    expect((await ctx.request('GET', '/contacts?locale=de', { tenant })).json().data[0]).toMatchObject({
      email: 'keep@example.com',
      optIn: true,
      source: 'api',
    });
    const multi = (await ctx.request('GET', '/contacts/m-1', { tenant })).json();
    expect(multi).toMatchObject({ optIn: true, consentVersion: 'v1', source: 'csv', projectId: 'p1' });
    expect(multi.attributes).toEqual(JSON.parse('{"__proto__":"polluted","x.y":"line one\\nline two"}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await ctx.request('GET', '/contacts/m-3', { tenant })).json().attributes).toEqual({});

    const badQuote = await importBody(tenant, 'text/csv', 'email\nok@example.com\n"unclosed@example.com\n');
    expect(badQuote.statusCode).toBe(200);
    expect(badQuote.json().errors).toEqual([{ line: 3, message: expect.stringMatching(/CSV parsing stopped/) }]);
  });

  it('refuses a body it cannot use with 4xx and writes nothing', async () => {
    const tenant = await ctx.newTenant();
    const before = await ctx.count('contacts');
    const cases: [string, string, number][] = [
      ['text/csv', '', 400],
      ['text/csv', 'name,city\nAna,Madrid\n', 400],
      ['text/csv', 'email,email\na@example.com,b@example.com\n', 400],
      ['text/csv', `email,${Array.from({ length: 51 }, (_, i) => `a${i}`).join(',')}\nz@example.com\n`, 400],
      ['text/csv', '"email\n', 400],
      ['application/x-ndjson', '\n\n', 400],
      ['application/json', '{"email":"a@example.com"}', 415],
      ['text/plain', 'email\na@example.com\n', 415],
    ];
    for (const [type, payload, status] of cases) {
      const res = await importBody(tenant, type, payload);
      expect(res.statusCode, `${type} ${JSON.stringify(payload)}`).toBe(status);
      errorBody(res);
    }
    expect(await ctx.count('contacts')).toBe(before);
  });

  it('lists the first 100 problems and counts them all', async () => {
    const tenant = await ctx.newTenant();
    const rows = Array.from({ length: 150 }, (_, i) => `bad-${i}`);
    const res = await importBody(tenant, 'text/csv', `email\n${rows.join('\n')}\nok@example.com\n`);
    const body = res.json();
    expect(body).toMatchObject({ processed: 151, created: 1, failed: 150 });
    expect(body.errors).toHaveLength(100);
    expect(body.errors[99].line).toBe(101);
  });

  it('keeps tenants apart: an import only ever touches its own tenant', async () => {
    const a = await ctx.newTenant('A');
    const b = await ctx.newTenant('B');
    const original = (await ctx.request('PUT', '/contacts', { tenant: a, body: { email: 'same@example.com', externalId: 'S', locale: 'en' } })).json();
    const res = await importBody(b, 'text/csv', 'email,externalId,locale\nsame@example.com,S,fr\n');
    expect(res.json()).toMatchObject({ created: 1, updated: 0 });
    expect((await ctx.request('GET', '/contacts/S', { tenant: a })).json()).toEqual(original);
  });
});
