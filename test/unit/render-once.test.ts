import { afterAll, describe, expect, it } from 'vitest';
import { inert } from '../../src/templates/render.js';
import { createRenderCore } from '../../src/templates/render-worker.js';
import { TemplateRenderer, TemplateRenderError } from '../../src/templates/render.js';

/**
 * Raw transactional content goes through the render thread once (inert, for
 * the derived text part) and is cached nowhere: distinct large emails must
 * not fill the caches campaigns rely on.
 */
describe('TemplateRenderer.renderOnce', () => {
  const renderer = new TemplateRenderer({ threads: 1 });
  afterAll(() => renderer.close());

  it('prints inert raw content unchanged, derives the text from the HTML, and keeps nothing', async () => {
    for (let i = 0; i < 3; i++) {
      const html = `<p>Total {{ ${i} | plus: 1 }} {% if x %}{% endif %} {{ "{" }}</p>`;
      const out = await renderer.renderOnce({ id: `tx:${i}`, subject: inert(`S {{ ${i} }}`), htmlBody: inert(html), textBody: null }, {});
      expect(out.subject).toBe(`S {{ ${i} }}`);
      expect(out.html).toBe(html);
      expect(out.text).toContain(`Total {{ ${i} | plus: 1 }}`);
    }
    expect(renderer.size).toBe(0);
  });

  it('an over-large output is a TemplateRenderError', async () => {
    const small = new TemplateRenderer({ threads: 1, maxBytes: 1000 });
    try {
      await expect(small.renderOnce({ id: 'tx:big', subject: 'S', htmlBody: 'x'.repeat(2000), textBody: null }, {})).rejects.toBeInstanceOf(TemplateRenderError);
    } finally {
      await small.close();
    }
  });

  it('the thread does not cache an ephemeral task', async () => {
    const core = createRenderCore({ maxBytes: 100_000, liquidRenderMs: 1000 });
    const task = { kind: 'render' as const, key: 'once:tx:1', sources: ['S', '<p>x</p>', 'x'] as [string, string, string], variables: null, contexts: [{}] };
    await core.render({ ...task, ephemeral: true });
    expect(core.cacheSize).toBe(0);
    await core.render(task);
    expect(core.cacheSize).toBe(1);
  });
});
