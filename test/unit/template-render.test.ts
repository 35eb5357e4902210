import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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

const renderers: TemplateRenderer[] = [];
/** Every renderer owns a thread pool: closed after the file. */
const newRenderer = (options: ConstructorParameters<typeof TemplateRenderer>[0] = {}) => {
  const renderer = new TemplateRenderer(options);
  renderers.push(renderer);
  return renderer;
};
const shared = newRenderer();
afterAll(() => Promise.all(renderers.map((r) => r.close())));

describe('TemplateRenderer', () => {
  it('renders subject, html and text from the contact context', async () => {
    const renderer = shared;
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
    const renderer = shared;
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
    const renderer = shared;
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
    const renderer = shared;
    const out = await renderer.render(
      version({ subject: '[{{ missing }}][{{ FirstName }}][{{ firstName }}]', textBody: '{{ missing.deep }}.' }),
      context(),
    );
    expect(out.subject).toBe('[][][Ana]');
    expect(out.text).toBe('.');
  });

  it('fills declared variables with their fallbacks', async () => {
    const renderer = shared;
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
    const renderer = shared;
    const out = await renderer.render(
      version({ subject: '{{ email }} {{ unsubscribeUrl }}' }),
      context({ email: 'spoof@evil.test', unsubscribeUrl: 'https://evil.test' }),
    );
    expect(out.subject).toBe('ana@example.com https://mc.test/u/tok');
  });

  it('keeps the subject on one line', async () => {
    const out = await shared.render(version({ subject: 'Hi {{ n }}' }), context({ n: 'a\r\nBcc: x@y.z' }));
    expect(out.subject).toBe('Hi a Bcc: x@y.z');
  });

  it('derives the text from the rendered HTML when the version has none', async () => {
    const out = await shared.render(
      version({ htmlBody: '<h1>Hello {{ firstName }}</h1><p>Bye</p>', textBody: null }),
      context(),
    );
    expect(out.text).toBe('Hello Ana\n\nBye');
  });

  it('re-parses a version only when its sources change, and keeps a bounded set of keys', async () => {
    const renderer = newRenderer({ cacheCapacity: 2 });
    const v = version({ subject: 'A {{ firstName }}' });
    expect((await renderer.render(v, context())).subject).toBe('A Ana');
    expect((await renderer.render({ ...v }, context())).subject).toBe('A Ana');
    expect((await renderer.render({ ...v, subject: 'B' }, context())).subject).toBe('B');
    expect((await renderer.render({ ...v, subject: 'A {{ firstName }}' }, context())).subject).toBe('A Ana');
    await renderer.render(version({}), context());
    await renderer.render(version({}), context());
    expect(renderer.size).toBe(2);
  });

  it('batches renders of one version asked for together, each with its own context and outcome', async () => {
    const v = version({ subject: '{{ n }}', htmlBody: '{% if n == 3 %}{% for i in (1..200000) %}0123456789{% endfor %}{% endif %}<p>{{ n }}</p>' });
    const settled = await Promise.allSettled([1, 2, 3, 4].map((n) => shared.render(v, context({ n }))));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value.subject : 'failed'))).toEqual(['1', '2', 'failed', '4']);
    const many = await shared.renderMany(v, [1, 2].map((n) => context({ n })));
    expect(many.map((r) => (r instanceof Error ? r : r.html))).toEqual(['<p>1</p>', '<p>2</p>']);
  });

  it('reports a failure while rendering as a TemplateRenderError naming the part', async () => {
    const attempt = shared.render(
      version({ textBody: '{% for i in (1..100000000) %}{{ i }}{% endfor %}' }),
      context(),
    );
    await expect(attempt).rejects.toBeInstanceOf(TemplateRenderError);
    await expect(attempt).rejects.toMatchObject({ part: 'textBody' });
  });

  it('does not let __proto__ attributes pollute anything', async () => {
    const attributes = JSON.parse('{"__proto__": {"polluted": "yes"}, "firstName": "Ana"}');
    const out = await shared.render(
      version({ subject: '{{ firstName }}{{ polluted }}{{ __proto__.polluted }}' }),
      context(attributes),
    );
    expect(out.subject).toBe('Anayes');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

/** A few thousand rules over ~12,000 elements: seconds of CSS inlining. */
export function hostileCss() {
  const rules = Array.from({ length: 3000 }, (_, i) => `div p span.c${i % 50}, .k${i} td { color: #${(i % 4096).toString(16).padStart(3, '0')} }`).join('\n');
  const body = '<div><p><span class="c1">x</span></p></div>'.repeat(4000);
  return { rules, body };
}

describe('render limits (in the threads)', () => {
  const limited = newRenderer({ threads: 1, timeoutMs: 500, maxHeapMb: 64, maxBytes: 64 * 1024 });

  it('caps the rendered size of each part', async () => {
    const attempt = limited.render(version({ htmlBody: '{% for i in (1..100000) %}0123456789{% endfor %}' }), context());
    await expect(attempt).rejects.toMatchObject({ name: 'TemplateRenderError', part: 'htmlBody', message: expect.stringMatching(/exceeds 65536 bytes/) });
    const derived = limited.render(version({ htmlBody: `<p>${'x'.repeat(70_000)}</p>`, textBody: null }), context());
    await expect(derived).rejects.toMatchObject({ name: 'TemplateRenderError' });
  });

  it('terminates a render that runs past its time budget (one long filter: no LiquidJS limit can stop it), and the pool recovers', async () => {
    // The cap (and with it LiquidJS's memory limit) out of the way: only the thread's clock is left.
    const clocked = newRenderer({ threads: 1, timeoutMs: 300, maxBytes: 16 * 1024 * 1024 });
    const slow = version({
      subject:
        '{% assign s = "abcdefghijklmnop" %}{% for i in (1..17) %}{% assign s = s | append: s %}{% endfor %}{{ s | split: "" | sort_natural | size }}',
    });
    await clocked.render(version({ subject: 'warm' }), context());
    const started = Date.now();
    await expect(clocked.render(slow, context())).rejects.toMatchObject({
      name: 'TemplateRenderError',
      part: 'subject',
      message: expect.stringMatching(/did not finish within 300 ms and was stopped/),
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await clocked.render(version({ subject: 'after {{ firstName }}' }), context())).subject).toBe('after Ana');
  });

  it('stops what the LiquidJS memory limit catches (append doubling, split | sort) with a clean error', async () => {
    for (const htmlBody of [
      '{% assign s = "xxxxxxxxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}',
      '{% assign s = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" %}{% for i in (1..18) %}{% assign s = s | append: s %}{% endfor %}{% assign a = s | split: "" | sort %}{{ a | size }}',
    ]) {
      await expect(limited.render(version({ htmlBody }), context())).rejects.toMatchObject({ name: 'TemplateRenderError', part: 'htmlBody' });
    }
  });

  it('a render that exhausts its thread heap kills its thread only, and the pool recovers', async () => {
    // Output cap and LiquidJS memory limit set out of the way: only the heap limit is left.
    const roomy = newRenderer({ threads: 1, timeoutMs: 20_000, maxHeapMb: 48, maxBytes: 64 * 1024 * 1024 });
    const hog = version({ htmlBody: '{% capture x %}{% for i in (1..20000000) %}xxxxxxxxxx{{ i }}{% endfor %}{% endcapture %}{{ x | size }}' });
    await expect(roomy.render(hog, context())).rejects.toMatchObject({ name: 'TemplateRenderError', part: 'htmlBody', message: expect.stringMatching(/48 MB/) });
    expect((await roomy.render(version({ subject: 'ok' }), context())).subject).toBe('ok');
  });

  it('terminates a CSS inlining that runs past its time budget', async () => {
    const { rules, body } = hostileCss();
    const attempt = limited.freeze({ subject: 's', htmlBody: `<style>${rules}</style>${body}`, textBody: null });
    await expect(attempt).rejects.toMatchObject({ name: 'TemplateRenderError', part: 'htmlBody' });
    expect((await limited.freeze({ subject: 's', htmlBody: '<style>p{color:red}</style><p>x</p>', textBody: null })).htmlBody).toContain('color: red');
  });

  it('reports every syntax problem of a freeze at once', async () => {
    const attempt = shared.freeze({ subject: '{{ a', htmlBody: '<p>{% if %}</p>', textBody: null });
    await expect(attempt).rejects.toBeInstanceOf(TemplateSyntaxError);
    await expect(attempt).rejects.toMatchObject({ all: [{ part: 'subject' }, { part: 'htmlBody' }] });
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
