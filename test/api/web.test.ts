import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createContainer } from '../../src/container.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { App } from '../../src/http/types.js';
import { TEST_SECRET } from '../helpers/app.js';

/** The dashboard's files, served from the not-found handler: never in front of an API route (src/http/web.ts). */
describe('dashboard files', () => {
  let app: App;
  let close: () => Promise<void>;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-web-'));

  beforeAll(async () => {
    fs.mkdirSync(path.join(root, 'assets'));
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>app</title><script type="module" src="/assets/index-abc.js"></script>');
    fs.writeFileSync(path.join(root, 'assets', 'index-abc.js'), `console.log(${JSON.stringify('x'.repeat(4000))});`);
    fs.writeFileSync(path.join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    const database = openDatabase({ dialect: 'sqlite', file: ':memory:' });
    await migrateToLatest(database);
    const container = createContainer(database, { secret: TEST_SECRET });
    app = await buildApp(container, { webRoot: root });
    close = async () => {
      await app.close();
      await container.close();
    };
  });
  afterAll(async () => {
    await close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('answers the app pages with index.html and the security headers', async () => {
    for (const url of ['/', '/sign-in', '/setup?token=mcu_x', '/invite?token=mci_x', '/app', '/app/campaigns', '/app/campaigns/abc', '/app/usage']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('<title>app</title>');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      // Inline style attributes only (the template previews' srcdoc frames inherit the policy); never inline script or <style>.
      const directives = new Map(String(res.headers['content-security-policy']).split('; ').map((d) => [d.split(' ')[0], d] as const));
      expect(directives.get('script-src')).toBe("script-src 'self'");
      expect(directives.get('style-src')).toBe("style-src 'self'");
      expect(directives.get('style-src-attr')).toBe("style-src-attr 'unsafe-inline'");
      expect([...directives.values()].filter((d) => d.includes('unsafe-inline'))).toEqual(["style-src-attr 'unsafe-inline'"]);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('same-origin');
      expect(res.headers['cache-control']).toBe('no-cache');
    }
    expect((await app.inject({ method: 'HEAD', url: '/app/usage' })).statusCode).toBe(200);
  });

  it('serves hashed assets for a year, gzipped when asked', async () => {
    const plain = await app.inject({ method: 'GET', url: '/assets/index-abc.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const gzip = await app.inject({ method: 'GET', url: '/assets/index-abc.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(Number(gzip.headers['content-length'])).toBeLessThan(plain.body.length);
    expect((await app.inject({ method: 'GET', url: '/favicon.svg' })).headers['content-type']).toBe('image/svg+xml');
  });

  it('leaves every API route, and the JSON 404, as they were', async () => {
    const unknown = await app.inject({ method: 'GET', url: '/nothing/here' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    for (const url of ['/assets/missing.js', '/apps', '/setup/x', '/app.js']) {
      expect((await app.inject({ method: 'GET', url })).json(), url).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    }
    expect((await app.inject({ method: 'POST', url: '/app/campaigns' })).json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    expect((await app.inject({ method: 'GET', url: '/campaigns' })).json()).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await app.inject({ method: 'GET', url: '/auth/setup' })).json()).toEqual({ open: true });
    const setup = await app.inject({ method: 'POST', url: '/setup', payload: { token: 'mcu_nope', email: 'a@b.test', password: 'long enough pw', tenantName: 'A' } });
    expect(setup.statusCode).toBe(403);
    expect(app.routeTable.some((route) => route.url.startsWith('/app') || route.url.startsWith('/assets'))).toBe(false);
  });
});
