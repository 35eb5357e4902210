import { sql } from 'kysely';
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp, type TestTenant } from '../helpers/app.js';

/**
 * Issue 12, item 6: numbers and strings the database cannot hold. Every
 * entry point refuses them the same way on both engines — JSON bodies with a
 * 400 naming the field, imports by reporting and skipping the row while the
 * rest of the import goes on.
 */
describe.each(DIALECTS)('strict input (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  const send = (tenant: TestTenant, method: 'POST' | 'PUT' | 'PATCH' | 'GET', url: string, payload?: string | Buffer, type = 'application/json') =>
    ctx.app.inject({ method, url, headers: { ...tenant.headers, ...(payload === undefined ? {} : { 'content-type': type }) }, ...(payload === undefined ? {} : { payload }) });

  const importBody = (tenant: TestTenant, type: 'text/csv' | 'application/x-ndjson', payload: string | Buffer) =>
    send(tenant, 'POST', '/contacts/import', payload, type);

  const contactCount = async (tenant: TestTenant) =>
    Number(
      (await ctx.container.database.db
        .selectFrom('contacts')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('tenant_id', '=', tenant.tenantId)
        .executeTakeFirstOrThrow()).n,
    );

  const expectRefused = (res: LightMyRequestResponse, field: string, message: RegExp) => {
    expect(res.statusCode, res.body).toBe(400);
    const body = errorBody(res);
    expect(body.code).toBe('VALIDATION_ERROR');
    expect(body.details, res.body).toContainEqual({ field, message: expect.stringMatching(message) });
  };

  it('refuses 1e400 and other non-finite numbers wherever a number is accepted, storing nothing', async () => {
    const tenant = await ctx.newTenant();
    const campaign = (await send(tenant, 'POST', '/campaigns', JSON.stringify({ name: 'Fine', audienceFilter: { attributes: { x: 1 } } }))).json();
    const contact = (await send(tenant, 'PUT', '/contacts', JSON.stringify({ email: 'fine@numbers.test', attributes: { x: 1 } }))).json();
    const before = { campaigns: await ctx.count('campaigns'), contacts: await ctx.count('contacts') };
    const cases: [method: 'POST' | 'PUT' | 'PATCH', url: string, payload: string, field: string][] = [
      ['POST', '/campaigns', '{"name":"Big","audienceFilter":{"attributes":{"x":1e400}}}', 'audienceFilter.attributes.x'],
      ['POST', '/campaigns', '{"name":"Big","audienceFilter":{"attributes":{"x":-1e400}}}', 'audienceFilter.attributes.x'],
      ['PATCH', `/campaigns/${campaign.id}`, '{"audienceFilter":{"attributes":{"x":1E+999}}}', 'audienceFilter.attributes.x'],
      ['PUT', '/contacts', '{"email":"big@numbers.test","attributes":{"x":1e400}}', 'attributes.x'],
      ['PUT', '/contacts', '{"email":"big@numbers.test","attributes":{"x":{"y":[1,-1e400]}}}', 'attributes.x.y.1'],
      ['PATCH', `/contacts/${contact.id}`, '{"attributes":{"x":1e400}}', 'attributes.x'],
      ['POST', '/contacts/bulk', '{"contacts":[{"email":"ok@numbers.test"},{"email":"big@numbers.test","attributes":{"n":1e400}}]}', 'contacts.1.attributes.n'],
      ['POST', '/projects', '{"name":"P","fromEmail":"a@numbers.test","smtp":{"host":"smtp.numbers.test","port":1e400,"secure":false}}', 'smtp.port'],
    ];
    for (const [method, url, payload, field] of cases) {
      expectRefused(await send(tenant, method, url, payload), field, /finite/);
    }
    expect({ campaigns: await ctx.count('campaigns'), contacts: await ctx.count('contacts') }).toEqual(before);
    // What was there is intact and still readable.
    expect((await send(tenant, 'GET', '/campaigns')).statusCode).toBe(200);
    expect((await send(tenant, 'GET', `/campaigns/${campaign.id}`)).json().audienceFilter).toEqual({ attributes: { x: 1 } });
    expect((await send(tenant, 'GET', `/contacts/${contact.id}`)).json().attributes).toEqual({ x: 1 });
    // Large but finite numbers are numbers.
    const large = await send(tenant, 'PUT', '/contacts', '{"email":"large@numbers.test","attributes":{"x":1e308,"y":123456789012345678901234567890}}');
    expect(large.statusCode, large.body).toBe(200);
    expect(large.json().attributes).toEqual({ x: 1e308, y: 123456789012345678901234567890 });
    // Query strings are coerced to numbers: Infinity is refused there too.
    expect((await send(tenant, 'GET', '/campaigns?limit=1e400')).statusCode).toBe(400);
  });

  it('refuses bodies that are not UTF-8, and NUL or unpaired surrogates by field', async () => {
    const tenant = await ctx.newTenant();
    const before = await ctx.count('contacts');
    const latin1 = Buffer.concat([Buffer.from('{"email":"caf'), Buffer.from([0xe9]), Buffer.from('@utf8.test"}')]);
    expectRefused(await send(tenant, 'PUT', '/contacts', latin1), '(body)', /UTF-8/);
    expectRefused(await send(tenant, 'PUT', '/contacts', '{"email":"a@utf8.test","attributes":{"k":"a\\u0000b"}}'), 'attributes.k', /NUL/);
    expectRefused(await send(tenant, 'PUT', '/contacts', '{"email":"a@utf8.test","attributes":{"k\\ud800":"v"}}'), 'attributes.k\\ud800', /surrogate/);
    expectRefused(await send(tenant, 'POST', '/contacts/bulk', '{"contacts":[{"email":"a@utf8.test","source":"\\udc00"}]}'), 'contacts.0.source', /surrogate/);
    expect(await ctx.count('contacts')).toBe(before);
    // Paired surrogates (emoji) are ordinary text.
    const emoji = await send(tenant, 'PUT', '/contacts', JSON.stringify({ email: 'emoji@utf8.test', attributes: { k: '😀\ud83d\ude00' } }));
    expect(emoji.statusCode, emoji.body).toBe(200);
  });

  it('NDJSON: a NUL in row 1201 of 1500 is reported and skipped, every other row applied', async () => {
    const tenant = await ctx.newTenant();
    const lines = Array.from({ length: 1500 }, (_, i) => JSON.stringify({ email: `n${i + 1}@ndjson.test`, externalId: `n-${i + 1}`, attributes: { i } }));
    const bad: Record<number, [string, RegExp]> = {
      1201: ['{"email":"n1201@ndjson.test","attributes":{"note":"a\\u0000b"}}', /attributes\.note: must not contain NUL/],
      1202: ['{"email":"n1202@ndjson.test","attributes":{"note":"\\ud800"}}', /attributes\.note: .*surrogate/],
      1203: ['{"email":"n1203@ndjson.test","attributes":{"\\udc00":"v"}}', /surrogate/],
      1204: ['{"email":"n1204@ndjson.test","externalId":"x\\u0000"}', /externalId: must not contain NUL/],
      1205: ['{"email":"n1205@ndjson.test","attributes":{"big":1e400}}', /attributes\.big: must be a finite number/],
      1206: ['{"email":"n1206@ndjson.test","source":"ok","\\u0000":1}', /NUL/],
      1207: ['{"email":"n1207\\u0000@ndjson.test"}', /email: must not contain NUL/],
    };
    for (const [line, [text]] of Object.entries(bad)) lines[Number(line) - 1] = text;
    // Line 1300: a string holding bytes that are not UTF-8 (Latin-1 é).
    const body = Buffer.concat(
      lines.map((text, i) =>
        i === 1299 ? Buffer.concat([Buffer.from('{"email":"n1300@ndjson.test","source":"caf'), Buffer.from([0xe9, 0x22, 0x7d]), Buffer.from('\n')]) : Buffer.from(`${text}\n`),
      ),
    );
    const res = await importBody(tenant, 'application/x-ndjson', body);
    expect(res.statusCode, res.body).toBe(200);
    const failedLines = [...Object.keys(bad).map(Number), 1300];
    expect(res.json()).toMatchObject({ processed: 1500, created: 1500 - failedLines.length, updated: 0, failed: failedLines.length });
    const errors = res.json().errors as { line: number; message: string }[];
    expect(errors.map((e) => e.line)).toEqual(failedLines);
    for (const [line, [, message]] of Object.entries(bad)) expect(errors.find((e) => e.line === Number(line))!.message).toMatch(message);
    expect(errors.at(-1)!.message).toMatch(/UTF-8/);
    expect(await contactCount(tenant)).toBe(1500 - failedLines.length);
    expect((await send(tenant, 'GET', '/contacts/n-1500')).json().attributes).toEqual({ i: 1499 });
    expect((await send(tenant, 'GET', '/contacts/n-1200')).statusCode).toBe(200);
  });

  it('CSV: raw NUL bytes, invalid UTF-8 and CESU-8 surrogates are reported by row; BOM, CRLF and text numbers are fine', async () => {
    const tenant = await ctx.newTenant();
    const rows: Buffer[] = [Buffer.from('\uFEFFemail,externalId,note\r\n')];
    const good = (i: number, note = `note ${i}`) => Buffer.from(`c${i}@csv.test,c-${i},"${note}"\r\n`);
    const badRows: Record<number, Buffer> = {
      10: Buffer.concat([Buffer.from('c10@csv.test,c-10,a'), Buffer.from([0x00]), Buffer.from('b\r\n')]), // raw NUL
      20: Buffer.concat([Buffer.from('c20@csv.test,c-20,caf'), Buffer.from([0xe9]), Buffer.from('\r\n')]), // Latin-1
      30: Buffer.concat([Buffer.from('c30@csv.test,c-30,'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('\r\n')]), // an encoded lone surrogate
      40: Buffer.concat([Buffer.from('c40@csv.test,c-'), Buffer.from([0xc0, 0xae]), Buffer.from(',x\r\n')]), // overlong
      50: Buffer.concat([Buffer.from('c50'), Buffer.from([0xff]), Buffer.from('@csv.test,c-50,x\r\n')]),
    };
    for (let i = 1; i <= 1200; i++) rows.push(badRows[i] ?? good(i, i === 60 ? '1e400' : i === 61 ? 'héllo 😀' : `note ${i}`));
    const res = await importBody(tenant, 'text/csv', Buffer.concat(rows));
    expect(res.statusCode, res.body).toBe(200);
    const badLines = Object.keys(badRows).map((i) => Number(i) + 1);
    expect(res.json()).toMatchObject({ processed: 1200, created: 1200 - badLines.length, failed: badLines.length });
    expect((res.json().errors as { line: number }[]).map((e) => e.line)).toEqual(badLines);
    for (const error of res.json().errors) expect(error.message).toMatch(/NUL character or bytes that are not valid UTF-8/);
    expect(await contactCount(tenant)).toBe(1200 - badLines.length);
    expect((await send(tenant, 'GET', '/contacts/c-60')).json().attributes).toEqual({ note: '1e400' });
    expect((await send(tenant, 'GET', '/contacts/c-61')).json().attributes).toEqual({ note: 'héllo 😀' });
    // Nothing stored holds U+FFFD (a decoded bad byte) or NUL.
    const stored = await ctx.container.database.db.selectFrom('contacts').select(['email', 'external_id', 'attributes']).where('tenant_id', '=', tenant.tenantId).execute();
    expect(JSON.stringify(stored)).not.toMatch(/\uFFFD|\\u0000/);

    const badHeader = await importBody(tenant, 'text/csv', Buffer.concat([Buffer.from('email,n'), Buffer.from([0xff]), Buffer.from('te\nz@csv.test,x\n')]));
    expect(badHeader.statusCode).toBe(400);
    expect(errorBody(badHeader).details![0]!.message).toMatch(/UTF-8/);
  });

  it('a batch the database refuses is written again row by row: the refused row fails alone', async () => {
    const tenant = await ctx.newTenant();
    const db = ctx.container.database.db;
    // Stands in for any value a database refuses that the checks let through.
    if (dialect === 'postgres') {
      await sql`create function mc_refuse_contact() returns trigger language plpgsql as $$
        begin if new.email like 'refused%' then raise exception 'refused by a test trigger' using errcode = '22023'; end if; return new; end $$`.execute(db);
      await sql`create trigger mc_refuse_contact before insert or update on contacts for each row execute function mc_refuse_contact()`.execute(db);
    } else {
      await sql`create trigger mc_refuse_contact before insert on contacts when new.email like 'refused%' begin select raise(abort, 'refused by a test trigger'); end`.execute(db);
    }
    try {
      const lines = Array.from({ length: 2500 }, (_, i) => JSON.stringify({ email: i === 1499 ? 'refused@db.test' : `r${i + 1}@db.test` }));
      const res = await importBody(tenant, 'application/x-ndjson', lines.join('\n'));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ processed: 2500, created: 2499, updated: 0, failed: 1, errors: [{ line: 1500, message: expect.stringMatching(/database refused/) }] });
      expect(await contactCount(tenant)).toBe(2499);

      const bulk = await send(tenant, 'POST', '/contacts/bulk', JSON.stringify({ contacts: [{ email: 'b1@db.test' }, { email: 'refused2@db.test' }, { email: 'b3@db.test' }] }));
      expect(bulk.statusCode, bulk.body).toBe(200);
      expect(bulk.json()).toMatchObject({ created: 2, failed: 1, results: [{ status: 'created' }, { status: 'failed', error: { code: 'VALIDATION_ERROR' } }, { status: 'created' }] });
    } finally {
      await sql`drop trigger mc_refuse_contact${dialect === 'postgres' ? sql` on contacts` : sql``}`.execute(db);
      if (dialect === 'postgres') await sql`drop function mc_refuse_contact()`.execute(db);
    }
  });
});
