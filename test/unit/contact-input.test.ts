import { describe, expect, it } from 'vitest';
import { csvColumns, csvItem } from '../../src/contacts/contact.import.js';
import { checkUpsertItem, contactValues } from '../../src/contacts/contact.input.js';
import { normaliseEmail } from '../../src/shared/email.js';

describe('normaliseEmail', () => {
  it.each([
    ['ana@example.com', 'ana@example.com'],
    ['  Ana.Perez@Example.COM\t', 'Ana.Perez@example.com'],
    ['a+tag@sub.example.co.uk', 'a+tag@sub.example.co.uk'],
    ["o'brien@example.ie", "o'brien@example.ie"],
    ['x@xn--bcher-kva.example', 'x@xn--bcher-kva.example'],
    // International domain names: stored in their ASCII (xn--) form, lower-cased; the local part as given.
    ['ana@münchen.de', 'ana@xn--mnchen-3ya.de'],
    ['Ana@MÜNCHEN.DE', 'Ana@xn--mnchen-3ya.de'],
    ['ana@XN--MNCHEN-3YA.DE', 'ana@xn--mnchen-3ya.de'],
    ['x@bücher.例え.jp', 'x@xn--bcher-kva.xn--r8jz45g.jp'],
  ])('%j → %j', (input, output) => expect(normaliseEmail(input)).toBe(output));

  it.each([
    '',
    'plain',
    '@example.com',
    'a@',
    'a@localhost',
    'a b@example.com',
    'a..b@example.com',
    '.a@example.com',
    'a@-example.com',
    'a@example.123',
    'a@exa_mple.com',
    `${'a'.repeat(65)}@example.com`,
    `a@${'b'.repeat(250)}.com`,
    '"quoted"@example.com',
    'a@xn--zz.de', // not valid punycode
    'a@mün chen.de',
    'ñ@example.com', // non-ASCII local parts (SMTPUTF8) are not accepted
    `a@${Array(10).fill('üöä'.repeat(6)).join('.')}.de`, // 194 characters in Unicode, 274 in ASCII
  ])('refuses %j', (input) => expect(normaliseEmail(input)).toBeUndefined());
});

describe('contactValues', () => {
  it('maps given fields to columns and leaves absent ones out', () => {
    const checked = contactValues({ email: ' A@B.COM ', locale: 'pt-br', optIn: false, attributes: { k: [1, { x: null }] } });
    expect(checked).toEqual({
      ok: true,
      values: { email: 'A@b.com', locale: 'pt-BR', opt_in: 0, attributes: '{"k":[1,{"x":null}]}' },
    });
  });

  it('reports every bad field at once', () => {
    const checked = contactValues({
      email: 'nope',
      locale: 'not a tag',
      attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 1])),
    });
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.details.map((d) => d.field)).toEqual(['email', 'locale', 'attributes']);
  });

  it('measures the 8 KiB attribute limit in UTF-8 bytes', () => {
    expect(contactValues({ email: 'a@b.co', attributes: { t: 'é'.repeat(4000) } }).ok).toBe(true);
    expect(contactValues({ email: 'a@b.co', attributes: { t: 'é'.repeat(4100) } }).ok).toBe(false);
  });
});

describe('checkUpsertItem', () => {
  it('checks shape as the PUT body schema does, naming fields', () => {
    const bad = checkUpsertItem({ email: 5, optIn: 'yes', other: 1 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.details.map((d) => d.field).sort()).toEqual(['email', 'optIn', 'other']);
    expect(checkUpsertItem(null).ok).toBe(false);
    expect(checkUpsertItem([]).ok).toBe(false);
    expect(checkUpsertItem({ email: 'a@b.co', externalId: 'x' })).toEqual({ ok: true, values: { email: 'a@b.co', external_id: 'x' } });
  });
});

describe('CSV columns', () => {
  it('matches field names loosely and keeps other columns as attributes', () => {
    expect(csvColumns(['E-mail', 'external_id', 'OPTIN', 'Plan'])).toEqual([
      { field: 'email' },
      { field: 'externalId' },
      { field: 'optIn' },
      { attribute: 'Plan' },
    ]);
  });

  it.each([
    [['name']],
    [['email', 'Email']],
    [['email', '']],
    [['email', 'k'.repeat(129)]],
  ])('refuses header %j', (header) => expect(() => csvColumns(header)).toThrow(/Invalid CSV header/));

  it('turns a record into an upsert item; empty cells are not given', () => {
    const columns = csvColumns(['email', 'optIn', 'locale', 'plan', 'city']);
    expect(csvItem(columns, ['a@b.co', 'YES', '', 'pro', ''])).toEqual({ email: 'a@b.co', optIn: true, attributes: { plan: 'pro' } });
    expect(csvItem(columns, ['a@b.co', '', ' en ', '', ''])).toEqual({ email: 'a@b.co', locale: 'en' });
    expect(csvItem(columns, ['a@b.co', 'maybe', '', '', ''])).toMatch(/optIn/);
  });
});
