import { Type } from '@sinclair/typebox';
import type { App } from '../http/types.js';
import { MAX_TOKEN_CHARS } from './token.js';
import type { TrackingService } from './tracking.service.js';

/** A transparent 1×1 GIF89a: 43 bytes. */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

const NO_CACHE = 'no-store, no-cache, must-revalidate, max-age=0, private';
// Loose on purpose: a malformed token must still get the pixel (opens) or the small page (clicks), not a JSON 400.
const TokenParams = Type.Object({ token: Type.String() });

const INVALID_LINK_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Link not valid</title></head>' +
  '<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem"><h1>This link is not valid</h1>' +
  '<p>The link may have been copied incompletely. Please open it again from the original email.</p></body></html>';

/**
 * Public routes behind the open pixel and rewritten links (no API key).
 * Both answer before anything is written: hits go to the recorder's buffer.
 */
export function trackingRoutes(app: App, { tracking }: { tracking: TrackingService }): void {
  app.get(
    '/track/o/:token',
    {
      config: { public: true },
      // A token the validator refuses (a NUL in it) still gets the pixel.
      attachValidation: true,
      schema: {
        operationId: 'trackOpen',
        summary: 'Open pixel',
        description: 'A transparent 1×1 GIF, never cached; records an open when the token is genuine. Answers the GIF whatever the token.',
        tags: ['tracking'],
        params: TokenParams,
        docsResponses: { 200: { description: 'The GIF (43 bytes)', content: { 'image/gif': { schema: { type: 'string', format: 'binary' } } } } },
      },
    },
    async (request, reply) => {
      // HEAD (Fastify answers it with this handler) is a client checking, not a person looking: not counted.
      if (!request.validationError) tracking.open(request.params.token, request.headers['user-agent'], request.method !== 'HEAD');
      return reply
        .type('image/gif')
        .header('Cache-Control', NO_CACHE)
        .header('Pragma', 'no-cache')
        .header('Expires', '0')
        .send(PIXEL_GIF);
    },
  );

  app.get(
    '/track/c/:token',
    {
      config: { public: true },
      attachValidation: true,
      schema: {
        operationId: 'trackClick',
        summary: 'Tracked link',
        description: `Records the click and redirects (302) to the URL sealed in the token. A token that is not genuine (truncated, altered, forged, another server's; at most ${MAX_TOKEN_CHARS} characters) gets a small 404 page and never a redirect.`,
        tags: ['tracking'],
        params: TokenParams,
        docsResponses: {
          302: { description: 'To the original URL (Location)' },
          404: { description: 'Not a genuine link', content: { 'text/html': { schema: { type: 'string' } } } },
        },
      },
    },
    async (request, reply) => {
      const url = request.validationError ? undefined : tracking.click(request.params.token, request.headers['user-agent'], request.method !== 'HEAD');
      reply.header('Cache-Control', NO_CACHE).header('Referrer-Policy', 'no-referrer');
      if (url === undefined) return reply.status(404).type('text/html; charset=utf-8').send(INVALID_LINK_PAGE);
      return reply.redirect(url, 302);
    },
  );
}
