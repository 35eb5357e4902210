import { describe, expect, it } from 'vitest';
import { applyDeclarations, checkDeclarations, conforms } from '../../src/templates/variables.js';

describe('variable declarations', () => {
  it('accepts well-formed declarations', () => {
    expect(
      checkDeclarations([
        { name: 'firstName', type: 'string', fallback: 'there' },
        { name: 'age', type: 'number', fallback: 3 },
        { name: 'vip', type: 'boolean', fallback: false },
        { name: 'site', type: 'url', fallback: 'https://example.com/x' },
        { name: 'owner', type: 'email', fallback: 'a@example.com' },
        { name: 'logo', type: 'image' },
        { name: 'brand_color', type: 'color', fallback: '#ff0000' },
      ]),
    ).toEqual([]);
  });

  it('names every bad declaration', () => {
    const details = checkDeclarations([
      { name: '1st', type: 'string' },
      { name: 'a', type: 'string' },
      { name: 'a', type: 'string' },
      { name: 'unsubscribeUrl', type: 'url' },
      { name: 'n', type: 'number', fallback: 'seven' },
      { name: 'c', type: 'color', fallback: 'red' },
      { name: 'u', type: 'url', fallback: 'javascript:alert(1)' },
    ]);
    expect(details.map((d) => d.field)).toEqual([
      'variables.0.name',
      'variables.2.name',
      'variables.3.name',
      'variables.4.fallback',
      'variables.5.fallback',
      'variables.6.fallback',
    ]);
  });

  it('checks values against their type', () => {
    expect(conforms('url', 'https://x.test/a')).toBe(true);
    expect(conforms('url', 'javascript:alert(1)')).toBe(false);
    expect(conforms('image', 'data:image/png;base64,AAA')).toBe(false);
    expect(conforms('email', 'a@b.co')).toBe(true);
    expect(conforms('email', 'nope')).toBe(false);
    expect(conforms('color', '#abc')).toBe(true);
    expect(conforms('number', Number.NaN)).toBe(false);
    expect(conforms('boolean', 'true')).toBe(false);
  });

  it('fills missing or ill-typed values with the fallback, and leaves others alone', () => {
    const declarations = [
      { name: 'firstName', type: 'string' as const, fallback: 'there' },
      { name: 'site', type: 'url' as const, fallback: 'https://example.com' },
      { name: 'logo', type: 'image' as const },
    ];
    expect(applyDeclarations({ firstName: 'Ana', other: 1 }, declarations)).toEqual({
      firstName: 'Ana',
      other: 1,
      site: 'https://example.com',
    });
    expect(applyDeclarations({ firstName: '', site: 'javascript:x', logo: 'javascript:y' }, declarations)).toEqual({
      firstName: 'there',
      site: 'https://example.com',
    });
    expect(applyDeclarations({ firstName: null }, declarations).firstName).toBe('there');
  });
});
