import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp } from '../helpers/app.js';

describe.each(DIALECTS)('error shape for bad requests (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  it('answers an unknown route with 404 in the error shape, with or without a key', async () => {
    const tenant = await ctx.newTenant();
    for (const options of [{}, { tenant }]) {
      const res = await ctx.request('GET', '/nothing/here?x=1', options);
      expect(res.statusCode).toBe(404);
      expect(errorBody(res)).toMatchObject({ code: 'ROUTE_NOT_FOUND', path: '/nothing/here' });
    }
  });

  it('answers invalid JSON with 400 INVALID_JSON', async () => {
    const tenant = await ctx.newTenant();
    for (const payload of ['{bad', '{"name": "x",}', '"just a string', '[1,2']) {
      const res = await ctx.request('POST', '/campaigns', {
        tenant,
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode, payload).toBe(400);
      expect(errorBody(res).code).toBe('INVALID_JSON');
    }
    expect(await ctx.count('campaigns')).toBe(0);
  });

  it('answers a JSON value that is not an object with 400 VALIDATION_ERROR', async () => {
    const tenant = await ctx.newTenant();
    for (const payload of ['[]', '"x"', '42', 'null', '']) {
      const res = await ctx.request('POST', '/campaigns', { tenant, headers: { 'content-type': 'application/json' }, payload });
      expect(res.statusCode, payload).toBe(400);
      expect(errorBody(res).code).toBe('VALIDATION_ERROR');
    }
  });

  it('answers an unsupported content type with 415', async () => {
    const tenant = await ctx.newTenant();
    const res = await ctx.request('POST', '/campaigns', {
      tenant,
      headers: { 'content-type': 'application/xml' },
      payload: '<campaign name="x"/>',
    });
    expect(res.statusCode).toBe(415);
    expect(errorBody(res).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a body over 1 MiB with 413', async () => {
    const tenant = await ctx.newTenant();
    const res = await ctx.request('POST', '/campaigns', {
      tenant,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x', subject: 'y'.repeat(1024 * 1024) }),
    });
    expect(res.statusCode).toBe(413);
    expect(errorBody(res).code).toBe('PAYLOAD_TOO_LARGE');
    expect(await ctx.count('campaigns')).toBe(0);
  });

  it('refuses prototype-poisoning keys', async () => {
    const tenant = await ctx.newTenant();
    for (const payload of ['{"name":"x","__proto__":{"status":"SENT"}}', '{"name":"x","constructor":{"prototype":{"a":1}}}']) {
      const res = await ctx.request('POST', '/campaigns', { tenant, headers: { 'content-type': 'application/json' }, payload });
      expect(res.statusCode, payload).toBe(400);
      errorBody(res);
    }
    expect(await ctx.count('campaigns')).toBe(0);
  });

  it('survives unicode edge cases and deep JSON without a 500', async () => {
    const tenant = await ctx.newTenant();
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const bodies = [
      JSON.stringify({ name: '\u0000\uFFFF\uD800' }),
      JSON.stringify({ name: '😀'.repeat(200) }),
      JSON.stringify({ name: 'x', audienceFilter: JSON.parse('{"attributes":{"\\u0000":"\\ud800"}}') }),
      `{"name":"x","audienceFilter":${deep}}`,
    ];
    for (const payload of bodies) {
      const res = await ctx.request('POST', '/campaigns', { tenant, headers: { 'content-type': 'application/json' }, payload });
      expect(res.statusCode, payload.slice(0, 60)).toBeLessThan(500);
      if (res.statusCode >= 400) errorBody(res);
    }
  });
});
