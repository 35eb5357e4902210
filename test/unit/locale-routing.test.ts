import { describe, expect, it } from 'vitest';
import { resolveVariant, type LocaleVariant } from '../../src/templates/locale-routing.js';

const BASE = 'base';
const en: LocaleVariant = { id: BASE, locale: 'en' };
const es: LocaleVariant = { id: 'v-es', locale: 'es' };
const esMX: LocaleVariant = { id: 'v-es-mx', locale: 'es-MX' };
const fr: LocaleVariant = { id: 'v-fr', locale: 'fr' };
const zhHant: LocaleVariant = { id: 'v-zh-hant', locale: 'zh-Hant' };

describe('resolveVariant', () => {
  it('picks the exact locale first', () => {
    expect(resolveVariant('es-MX', [en, es, esMX], null, BASE)).toEqual({ versionId: 'v-es-mx', locale: 'es-MX' });
    expect(resolveVariant('es', [en, es, esMX], null, BASE)).toEqual({ versionId: 'v-es', locale: 'es' });
    expect(resolveVariant('en', [en, es], 'es', BASE)).toEqual({ versionId: BASE, locale: 'en' });
  });

  it('matches locales case-insensitively', () => {
    expect(resolveVariant('es-mx', [en, esMX], null, BASE).versionId).toBe('v-es-mx');
    expect(resolveVariant('ES', [en, es], null, BASE).versionId).toBe('v-es');
  });

  it('falls back to the language only (es-MX → es, zh-Hant-TW → zh-Hant is not a language)', () => {
    expect(resolveVariant('es-MX', [en, es], null, BASE)).toEqual({ versionId: 'v-es', locale: 'es' });
    expect(resolveVariant('es-AR', [en, es, esMX], null, BASE)).toEqual({ versionId: 'v-es', locale: 'es' });
    expect(resolveVariant('zh-Hant-TW', [en, zhHant], null, BASE)).toEqual({ versionId: BASE, locale: 'en' });
  });

  it('never narrows a language to a region (es does not get es-MX)', () => {
    expect(resolveVariant('es', [en, esMX], null, BASE)).toEqual({ versionId: BASE, locale: 'en' });
  });

  it('then uses the tenant fallback locale, exactly or by language', () => {
    expect(resolveVariant('de', [en, es, fr], 'fr', BASE)).toEqual({ versionId: 'v-fr', locale: 'fr' });
    expect(resolveVariant('de', [en, es], 'es-MX', BASE)).toEqual({ versionId: 'v-es', locale: 'es' });
    expect(resolveVariant(null, [en, es], 'es', BASE)).toEqual({ versionId: 'v-es', locale: 'es' });
  });

  it('prefers the contact language over the tenant fallback', () => {
    expect(resolveVariant('es-MX', [en, es, fr], 'fr', BASE).versionId).toBe('v-es');
  });

  it('ends at the base version, with its locale when it is among the variants', () => {
    expect(resolveVariant('de', [en, es], null, BASE)).toEqual({ versionId: BASE, locale: 'en' });
    expect(resolveVariant('de', [en, es], 'it', BASE)).toEqual({ versionId: BASE, locale: 'en' });
    expect(resolveVariant(null, [en, es], null, BASE)).toEqual({ versionId: BASE, locale: 'en' });
    expect(resolveVariant('de', [], null, BASE)).toEqual({ versionId: BASE, locale: null });
    expect(resolveVariant('de', [es], null, BASE)).toEqual({ versionId: BASE, locale: null });
  });

  it('never routes a locale to a variant without a locale', () => {
    const noLocale = { id: BASE, locale: null };
    expect(resolveVariant('es', [noLocale, es], null, BASE)).toEqual({ versionId: 'v-es', locale: 'es' });
    expect(resolveVariant('de', [noLocale, es], null, BASE)).toEqual({ versionId: BASE, locale: null });
  });

  it('treats an empty contact locale like none', () => {
    expect(resolveVariant('', [en, es], 'es', BASE).versionId).toBe('v-es');
  });
});
