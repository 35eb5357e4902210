import { describe, expect, it } from 'vitest';
import { variantFor } from '../../src/templates/locale-routing.js';
import { DIALECTS } from '../helpers/databases.js';
import { errorBody, useTestApp } from '../helpers/app.js';
import { addContacts, createCampaign, publishedTemplate } from '../helpers/flow.js';

/** Coverage's question (a variant of the contact's own) through the one routing module. */
const hasVariantFor = (locale: string | null, locales: (string | null)[]) =>
  locale !== null && variantFor(locale, locales.map((l, i) => ({ id: String(i), locale: l }))) !== undefined;

describe('hasVariantFor', () => {
  it('matches the exact locale or its language, never a region for a bare language', () => {
    expect(hasVariantFor('es-MX', ['en', 'es'])).toBe(true);
    expect(hasVariantFor('es', ['en', 'es-MX'])).toBe(false);
    expect(hasVariantFor('fr', ['en', 'es'])).toBe(false);
    expect(hasVariantFor(null, ['en', null])).toBe(false);
    expect(hasVariantFor('pt-BR', ['pt-BR'])).toBe(true);
  });
});

describe.each(DIALECTS)('GET /campaigns/{id}/locale-coverage (%s)', (dialect) => {
  const ctx = useTestApp(dialect);

  it('counts the reachable contacts per locale and says which have a published variant', async () => {
    const tenant = await ctx.newTenant();
    await addContacts(ctx, tenant, [
      { email: 'en1@cov.test', locale: 'en' },
      { email: 'en2@cov.test', locale: 'en' },
      { email: 'en3@cov.test', locale: 'en', optIn: false },
      { email: 'es1@cov.test', locale: 'es' },
      { email: 'es2@cov.test', locale: 'es' },
      { email: 'mx@cov.test', locale: 'es-MX' },
      { email: 'fr@cov.test', locale: 'fr' },
      { email: 'n1@cov.test' },
      { email: 'n2@cov.test' },
    ]);
    await ctx.request('POST', '/suppressions', { tenant, body: { email: 'es2@cov.test', reason: 'manual' } });
    const { baseVersionId } = await publishedTemplate(ctx, tenant, {
      en: { subject: 'Hi', html: '<p>Hi</p>' },
      es: { subject: 'Hola', html: '<p>Hola</p>' },
    });
    const id = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId });
    const res = await ctx.request('GET', `/campaigns/${id}/locale-coverage`, { tenant });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual([
      { locale: 'en', count: 2, hasTemplate: true },
      { locale: null, count: 2, hasTemplate: false },
      { locale: 'es', count: 1, hasTemplate: true },
      { locale: 'es-MX', count: 1, hasTemplate: true },
      { locale: 'fr', count: 1, hasTemplate: false },
    ]);

    const spanish = await createCampaign(ctx, tenant, { templateVersionId: baseVersionId, audienceFilter: { locale: 'es' } });
    expect((await ctx.request('GET', `/campaigns/${spanish}/locale-coverage`, { tenant })).json()).toEqual([
      { locale: 'es', count: 1, hasTemplate: true },
    ]);

    const noTemplate = await createCampaign(ctx, tenant, { audienceFilter: { locale: 'fr' } });
    expect((await ctx.request('GET', `/campaigns/${noTemplate}/locale-coverage`, { tenant })).json()).toEqual([
      { locale: 'fr', count: 1, hasTemplate: false },
    ]);
  });

  it("answers 404 for another tenant's campaign and 403 without campaigns:read", async () => {
    const a = await ctx.newTenant('A');
    const b = await ctx.newTenant('B');
    const id = await createCampaign(ctx, a, {});
    const other = await ctx.request('GET', `/campaigns/${id}/locale-coverage`, { tenant: b });
    expect(other.statusCode).toBe(404);
    expect(errorBody(other).code).toBe('NOT_FOUND');
    const key = await a.keyWith(['campaigns:write']);
    const denied = await ctx.request('GET', `/campaigns/${id}/locale-coverage`, { headers: key.headers });
    expect(denied.statusCode).toBe(403);
    expect(errorBody(denied).message).toContain('campaigns:read');
  });
});
