import { describe, expect, it } from 'vitest';
import { languageOf, normaliseLocale } from '../../src/shared/locale.js';
import { normaliseTimeZone } from '../../src/shared/timezone.js';

describe('locales', () => {
  it.each([
    ['en', 'en'],
    ['es-mx', 'es-MX'],
    ['EN-gb', 'en-GB'],
    ['ca', 'ca'],
    ['zh-hant-tw', 'zh-Hant-TW'],
  ])('%s → %s', (input, output) => expect(normaliseLocale(input)).toBe(output));

  it.each(['', 'e', 'english!', 'en_US', ' en', 'x'.repeat(40), "en'; DROP"])('refuses %j', (input) =>
    expect(normaliseLocale(input)).toBeUndefined(),
  );

  it('knows the language of a regional tag', () => {
    expect(languageOf('es-MX')).toBe('es');
    expect(languageOf('es')).toBeUndefined();
  });
});

describe('time zones', () => {
  it('canonicalises IANA names', () => {
    expect(normaliseTimeZone('Europe/Madrid')).toBe('Europe/Madrid');
    expect(normaliseTimeZone('europe/madrid')).toBe('Europe/Madrid');
    expect(normaliseTimeZone('UTC')).toBe('UTC');
  });

  it.each(['Mars/Olympus', '', '+02:00', 'Europe/Madrid; DROP'])('refuses %j', (zone) =>
    expect(normaliseTimeZone(zone)).toBeUndefined(),
  );
});
