import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The dashboard (web/, built by Vite into dist/web/) served by the API's own
 * process — from the not-found handler, so that an API route always wins and
 * an unknown API path still gets the JSON 404 (docs/DASHBOARD.md):
 *
 * - `/assets/<hashed file>` → the file, cached for a year (immutable);
 * - the app's own pages (`/`, `/sign-in`, `/setup`, `/invite`, `/app/…`),
 *   GET or HEAD → index.html (client-side routing), never cached;
 * - anything else → null (the caller answers the JSON 404).
 *
 * The few files are read once at start, with a gzip copy of each text file.
 */
export interface WebApp {
  /** Answers the request and returns true when it is the dashboard's; false otherwise. */
  serve(request: FastifyRequest, reply: FastifyReply): boolean;
}

/** Paths the dashboard owns (besides /assets/). Kept apart from every API path. */
export const isAppPage = (path: string) =>
  path === '/' || path === '/sign-in' || path === '/setup' || path === '/invite' || path === '/app' || path.startsWith('/app/');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * No inline script or <style>, nothing from another origin, never framed.
 * Style *attributes* are allowed for one reason: the template editor's
 * previews are `<iframe sandbox="" srcdoc=…>` documents, which inherit this
 * policy, and a published email's CSS is inlined into style attributes
 * (templates/freeze.ts), so without it every preview would render unstyled
 * (and log a violation per element). A style attribute selects nothing, so it
 * cannot read the page the way an injected <style> could; scripts stay
 * refused twice over in a preview, by `script-src 'self'` and by the sandbox.
 * The app's own CSS is a file.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "style-src-attr 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface StaticFile {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
}

function load(file: string): StaticFile {
  const body = readFileSync(file);
  const type = TYPES[extname(file)] ?? 'application/octet-stream';
  const compressible = /^(text\/|image\/svg|application\/json)/.test(type) && body.length > 1024;
  return { body, gzip: compressible ? gzipSync(body, { level: 9 }) : undefined, type };
}

/** dist/web/ next to the compiled server (dist/http/ → dist/web/), or dist/web/ of the checkout when run from src/ (tests). */
export function defaultWebRoot(): string | undefined {
  for (const candidate of ['../web/', '../../dist/web/']) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return undefined;
}

export function loadWebApp(root: string | undefined): WebApp | undefined {
  if (root === undefined || !existsSync(join(root, 'index.html'))) return undefined;
  const index = load(join(root, 'index.html'));
  const assets = new Map<string, StaticFile>();
  const assetDir = join(root, 'assets');
  if (existsSync(assetDir)) for (const name of readdirSync(assetDir)) assets.set(`/assets/${name}`, load(join(assetDir, name)));
  for (const name of readdirSync(root)) {
    if (name !== 'index.html' && TYPES[extname(name)]) assets.set(`/${name}`, load(join(root, name)));
  }

  const send = (request: FastifyRequest, reply: FastifyReply, file: StaticFile, cache: string) => {
    const gzip = file.gzip !== undefined && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    reply
      .code(200)
      .type(file.type)
      .header('cache-control', cache)
      .header('x-content-type-options', 'nosniff')
      .header('vary', 'accept-encoding');
    if (gzip) reply.header('content-encoding', 'gzip');
    reply.send(gzip ? file.gzip : file.body);
  };

  return {
    serve(request, reply) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return false;
      const path = request.url.split('?')[0]!;
      const asset = assets.get(path);
      if (asset) {
        send(request, reply, asset, path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=3600');
        return true;
      }
      if (!isAppPage(path)) return false;
      reply
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('x-frame-options', 'DENY')
        .header('referrer-policy', 'same-origin')
        .header('cross-origin-opener-policy', 'same-origin');
      send(request, reply, index, 'no-cache');
      return true;
    },
  };
}
