import { Type } from '@sinclair/typebox';
import type { App } from '../http/types.js';
import { pageLanguage, renderPage } from './pages.js';
import type { UnsubscribeService } from './unsubscribe.service.js';

const TokenParams = Type.Object({ token: Type.String({ maxLength: 500 }) });
/** Bytes of a POST body kept to recognise `List-Unsubscribe=One-Click` (form-encoded or multipart). */
const ONE_CLICK_PEEK = 2048;
const LangQuery = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 10 })) });

/**
 * Public pages behind `List-Unsubscribe` and `{{unsubscribeUrl}}`. GET asks
 * for confirmation (mail scanners follow links with GET, so it never acts);
 * POST acts at once — it is also the RFC 8058 one-click target, whose body
 * (`List-Unsubscribe=One-Click`, form-encoded or multipart) is accepted and ignored.
 */
export function unsubscribeRoutes(app: App, { unsubscribe }: { unsubscribe: UnsubscribeService }): void {
  app.register(async (plugin) => {
    const scope = plugin as unknown as App;
    scope.removeAllContentTypeParsers();
    // Whatever body a mail client sends is drained; its first bytes tell an RFC 8058 one-click POST from the page's button.
    scope.addContentTypeParser('*', (_request, payload, done) => {
      let head = '';
      payload.on('data', (chunk: Buffer) => {
        if (head.length < ONE_CLICK_PEEK) head += chunk.toString('latin1').slice(0, ONE_CLICK_PEEK - head.length);
      });
      payload.on('end', () => done(null, head));
      payload.on('error', (error) => done(error, undefined));
    });

    scope.get(
      '/u/:token',
      {
        config: { public: true },
        schema: {
          operationId: 'getUnsubscribePage',
          summary: 'Unsubscribe confirmation page',
          description: "An HTML page in the contact's language asking for confirmation; it never acts (mail scanners follow links).",
          params: TokenParams,
          querystring: LangQuery,
          tags: ['unsubscribe'],
          docsResponses: {
            200: { description: 'The confirmation page (or, if already unsubscribed, the done page)', content: { 'text/html': { schema: { type: 'string' } } } },
            400: { description: 'The token is not valid (tampered or truncated)', content: { 'text/html': { schema: { type: 'string' } } } },
            404: { description: 'The contact no longer exists (erased)', content: { 'text/html': { schema: { type: 'string' } } } },
          },
        },
      },
      async (request, reply) => {
        const result = await unsubscribe.lookup(request.params.token);
        const lang = pageLanguage(request.query.lang, result.kind === 'ok' ? result.locale : undefined);
        reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer');
        if (result.kind === 'invalid') return reply.status(400).send(renderPage('invalid', lang));
        if (result.kind === 'unknown') return reply.status(404).send(renderPage('unknown', lang));
        if (result.alreadyUnsubscribed) return reply.send(renderPage('done', lang));
        const action = `/u/${encodeURIComponent(request.params.token)}${request.query.lang ? `?lang=${encodeURIComponent(lang)}` : ''}`;
        return reply.send(renderPage('confirm', lang, action));
      },
    );

    scope.post(
      '/u/:token',
      {
        config: { public: true },
        schema: {
          operationId: 'unsubscribe',
          summary: 'Unsubscribe',
          description: "Unsubscribes at once (the page's button, or a mail client's RFC 8058 one-click `List-Unsubscribe=One-Click`): `optIn` false and the address suppressed. Any body is ignored.",
          params: TokenParams,
          querystring: LangQuery,
          tags: ['unsubscribe'],
          docsResponses: {
            200: { description: 'Unsubscribed: the done page', content: { 'text/html': { schema: { type: 'string' } } } },
            400: { description: 'The token is not valid (tampered or truncated)', content: { 'text/html': { schema: { type: 'string' } } } },
            404: { description: 'The contact no longer exists (erased)', content: { 'text/html': { schema: { type: 'string' } } } },
          },
        },
      },
      async (request, reply) => {
        const oneClick = typeof request.body === 'string' && /List-Unsubscribe=One-Click/i.test(request.body);
        const result = await unsubscribe.unsubscribe(request.params.token, oneClick ? 'one_click' : 'link');
        const lang = pageLanguage(request.query.lang, result.kind === 'ok' ? result.locale : undefined);
        reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store');
        if (result.kind === 'invalid') return reply.status(400).send(renderPage('invalid', lang));
        if (result.kind === 'unknown') return reply.status(404).send(renderPage('unknown', lang));
        return reply.send(renderPage('done', lang));
      },
    );
  });
}
