import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freezeBodies } from '../../src/templates/freeze.js';
import {
  buildContext,
  TemplateRenderer,
  TemplateRenderError,
  TemplateSyntaxError,
  type RenderableVersion,
} from '../../src/templates/render.js';

const contact = {
  email: 'ana@example.com',
  locale: 'es-MX',
  externalId: 'crm-1',
  attributes: { firstName: 'Ana', plan: 'pro' } as Record<string, unknown>,
};
const context = (attributes: Record<string, unknown> = contact.attributes) =>
  buildContext({ contact: { ...contact, attributes }, unsubscribeUrl: 'https://mc.test/u/tok' });

let n = 0;
const version = (parts: Partial<RenderableVersion>): RenderableVersion => ({
  id: `v${++n}`,
  subject: 'Hi',
  htmlBody: '<p>x</p>',
  textBody: 'x',
  ...parts,
});

describe('TemplateRenderer', () => {
  it('renders subject, html and text from the contact context', async () => {
    const renderer = new TemplateRenderer();
    const out = await renderer.render(
      version({
        subject: 'Hola {{ firstName }}',
        htmlBody: '<p>{{ contact.email }} {{ locale }} {{ contact.externalId }} {{ contact.attributes.plan }}</p><a href="{{ unsubscribeUrl }}">u</a>',
        textBody: '{{ email }} / {{ plan }} / {{ unsubscribeUrl }}',
      }),
      context(),
    );
    expect(out.subject).toBe('Hola Ana');
    expect(out.html).toBe('<p>ana@example.com es-MX crm-1 pro</p><a href="https://mc.test/u/tok">u</a>');
    expect(out.text).toBe('ana@example.com / pro / https://mc.test/u/tok');
  });

  it('HTML-escapes values in the HTML part only', async () => {
    const renderer = new TemplateRenderer();
    const evil = '<script>alert("x")</script>&';
    const out = await renderer.render(
      version({ subject: 'S {{ name }}', htmlBody: '<p>{{ name }}</p><a title="{{ name }}">t</a>', textBody: 'T {{ name }}' }),
      context({ name: evil }),
    );
    expect(out.html).toBe(
      '<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;</p><a title="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;">t</a>',
    );
    expect(out.html).not.toContain('<script>');
    expect(out.subject).toBe(`S ${evil}`);
    expect(out.text).toBe(`T ${evil}`);
  });

  it('cannot read files: include, render and layout do not even parse', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-tpl-'));
    const secret = path.join(dir, 'secret.liquid');
    fs.writeFileSync(secret, 'TOP-SECRET');
    const renderer = new TemplateRenderer();
    for (const tag of [`{% include '${secret}' %}`, `{% render '${secret}' %}`, `{% layout '${secret}' %}`, `{% include 'package.json' %}`]) {
      for (const part of ['subject', 'htmlBody', 'textBody'] as const) {
        const attempt = renderer.render(version({ [part]: tag }), context());
        await expect(attempt).rejects.toBeInstanceOf(TemplateSyntaxError);
        await expect(attempt).rejects.toMatchObject({ part });
      }
    }
    fs.rmSync(dir, { recursive: true });
  });

  it('renders undefined variables empty and keeps names case-sensitive', async () => {
    const renderer = new TemplateRenderer();
    const out = await renderer.render(
      version({ subject: '[{{ missing }}][{{ FirstName }}][{{ firstName }}]', textBody: '{{ missing.deep }}.' }),
      context(),
    );
    expect(out.subject).toBe('[][][Ana]');
    expect(out.text).toBe('.');
  });

  it('fills declared variables with their fallbacks', async () => {
    const renderer = new TemplateRenderer();
    const out = await renderer.render(
      version({
        subject: 'Hi {{ firstName }}',
        htmlBody: '<a href="{{ site }}">{{ firstName }}</a>',
        variables: [
          { name: 'firstName', type: 'string', fallback: 'friend' },
          { name: 'site', type: 'url', fallback: 'https://example.com' },
        ],
      }),
      context({ site: 'javascript:alert(1)' }),
    );
    expect(out.subject).toBe('Hi friend');
    expect(out.html).toBe('<a href="https://example.com">friend</a>');
  });

  it('lets no attribute shadow the system variables', async () => {
    const renderer = new TemplateRenderer();
    const out = await renderer.render(
      version({ subject: '{{ email }} {{ unsubscribeUrl }}' }),
      context({ email: 'spoof@evil.test', unsubscribeUrl: 'https://evil.test' }),
    );
    expect(out.subject).toBe('ana@example.com https://mc.test/u/tok');
  });

  it('keeps the subject on one line', async () => {
    const out = await new TemplateRenderer().render(version({ subject: 'Hi {{ n }}' }), context({ n: 'a\r\nBcc: x@y.z' }));
    expect(out.subject).toBe('Hi a Bcc: x@y.z');
  });

  it('derives the text from the rendered HTML when the version has none', async () => {
    const out = await new TemplateRenderer().render(
      version({ htmlBody: '<h1>Hello {{ firstName }}</h1><p>Bye</p>', textBody: null }),
      context(),
    );
    expect(out.text).toBe('Hello Ana\n\nBye');
  });

  it('parses a version once and re-parses only when its sources change; the cache is bounded', async () => {
    const renderer = new TemplateRenderer(2);
    const v = version({ subject: 'A {{ firstName }}' });
    const first = renderer.compile(v);
    expect(renderer.compile({ ...v })).toBe(first);
    const edited = renderer.compile({ ...v, subject: 'B' });
    expect(edited).not.toBe(first);
    expect((await renderer.render({ ...v, subject: 'B' }, context())).subject).toBe('B');
    renderer.compile(version({}));
    renderer.compile(version({}));
    expect(renderer.size).toBe(2);
    expect(renderer.compile({ ...v, subject: 'B' })).not.toBe(edited); // evicted
  });

  it('reports a failure while rendering as a TemplateRenderError naming the part', async () => {
    const attempt = new TemplateRenderer().render(
      version({ textBody: '{% for i in (1..100000000) %}{{ i }}{% endfor %}' }),
      context(),
    );
    await expect(attempt).rejects.toBeInstanceOf(TemplateRenderError);
    await expect(attempt).rejects.toMatchObject({ part: 'textBody' });
  });

  it('does not let __proto__ attributes pollute anything', async () => {
    const attributes = JSON.parse('{"__proto__": {"polluted": "yes"}, "firstName": "Ana"}');
    const out = await new TemplateRenderer().render(
      version({ subject: '{{ firstName }}{{ polluted }}{{ __proto__.polluted }}' }),
      context(attributes),
    );
    expect(out.subject).toBe('Anayes');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('freezeBodies', () => {
  it('inlines CSS, keeps media queries and Liquid intact, and derives the text', () => {
    const frozen = freezeBodies(
      '<style>p { color: red } @media (max-width: 600px) { p { color: blue } }</style>' +
        '<h1>Hi {{ firstName }}</h1><table>{% for i in items %}<tr><td>{{ i }}</td></tr>{% endfor %}</table>' +
        '<p>Read <a href="{{ unsubscribeUrl }}">this</a></p>',
      null,
    );
    expect(frozen.htmlBody).toContain('<p style="color: red;">');
    expect(frozen.htmlBody).toContain('@media (max-width: 600px)');
    expect(frozen.htmlBody).toContain('{% for i in items %}<tr><td>{{ i }}</td></tr>{% endfor %}');
    expect(frozen.htmlBody).toContain('href="{{ unsubscribeUrl }}"');
    expect(frozen.textBody).toContain('Hi {{ firstName }}');
    expect(frozen.textBody).toContain('this [{{ unsubscribeUrl }}]');
  });

  it('keeps a given text part', () => {
    expect(freezeBodies('<p>x</p>', 'mine').textBody).toBe('mine');
  });
});
