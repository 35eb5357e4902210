import { convert } from 'html-to-text';
import juice from 'juice';
import { TemplateSyntaxError } from './liquid.js';

// Liquid tags are opaque to the CSS inliner: without this, `{% if %}` between
// table rows could be moved or mangled by the HTML parser. (`{{ }}` is
// already protected by juice's built-in code blocks.)
juice.codeBlocks.LIQUID = { start: '{%', end: '%}' };

/** html-to-text options that keep Liquid intact: no wrapping, no upper-casing of headings. */
const TEXT_OPTIONS = {
  wordwrap: false as const,
  selectors: ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
};

export interface FrozenBodies {
  htmlBody: string;
  textBody: string;
}

/**
 * What publishing stores: the HTML with its CSS inlined (mail clients drop
 * <style> blocks; media queries are kept), and the text part — the given one,
 * or one derived from the HTML, Liquid tags and all, so it renders the same
 * variables.
 */
export function freezeBodies(htmlBody: string, textBody: string | null): FrozenBodies {
  const inlined = inlineCss(htmlBody);
  return { htmlBody: inlined, textBody: textBody ?? htmlToText(inlined) };
}

export function inlineCss(htmlBody: string): string {
  try {
    return juice(htmlBody, { preserveMediaQueries: true, removeStyleTags: true, applyWidthAttributes: true });
  } catch (error) {
    throw new TemplateSyntaxError('htmlBody', `CSS could not be inlined: ${(error as Error).message}`);
  }
}

export function htmlToText(html: string): string {
  return convert(html, TEXT_OPTIONS).trim();
}
