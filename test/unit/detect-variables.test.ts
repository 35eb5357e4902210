import { describe, expect, it } from 'vitest';
import { detectVariables } from '../../src/templates/detect-variables.js';

describe('detectVariables (the template editor\'s "variables detected")', () => {
  it('lists the name paths of outputs, sorted and each once', () => {
    expect(detectVariables('<p>Hola {{ contact.first_name }} — {{first_name}} {{ contact.first_name }}</p>', '{{ unsubscribeUrl }}')).toEqual([
      'contact.first_name',
      'first_name',
      'unsubscribeUrl',
    ]);
  });

  it('reads filter arguments but not filter names, named arguments, literals or keywords', () => {
    expect(detectVariables('{{ contact.name | default: fallback_name, allow_false: true | upcase }} {{ "x" | append: \'y\' }} {{ 42 }}')).toEqual([
      'contact.name',
      'fallback_name',
    ]);
  });

  it('reads tag expressions and leaves out loop and assigned names', () => {
    const source = '{% if plan == "pro" and seats > 3 %}{% for item in contact.items limit: 3 %}{{ item.title }}{{ forloop.index }}{% endfor %}{% endif %}'
      + '{% assign greeting = salutation | default: "Hi" %}{{ greeting }}{% capture body %}{{ text }}{% endcapture %}{{ body }}{% unless vip %}{% endunless %}';
    expect(detectVariables(source)).toEqual(['contact.items', 'plan', 'salutation', 'seats', 'text', 'vip']);
  });

  it('handles whitespace control, index access and text without Liquid', () => {
    expect(detectVariables('{{- contact.tags[0] -}} {%- if a.b -%}{%- endif -%}', null, undefined, '<p>plain {text}</p>')).toEqual(['a.b', 'contact.tags']);
    expect(detectVariables('')).toEqual([]);
  });
});
