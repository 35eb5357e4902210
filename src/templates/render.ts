import { htmlToText } from './freeze.js';
import { parsePart, renderPart, type ParsedTemplate } from './liquid.js';
import { applyDeclarations, type VariableDeclaration } from './variables.js';
import { LruMap } from '../shared/lru-map.js';

export { TemplateRenderError, TemplateSyntaxError } from './liquid.js';

/** The parts of a template version the renderer needs (a published version is already frozen). */
export interface RenderableVersion {
  id: string;
  subject: string;
  htmlBody: string;
  textBody: string | null;
  variables?: readonly VariableDeclaration[] | null;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  /** The rendered text part, or text derived from the rendered HTML when the version has none. */
  text: string;
}

export interface RenderContact {
  email: string;
  locale: string | null;
  externalId: string | null;
  attributes: Record<string, unknown>;
}

/**
 * The variables a template sees: the contact's attributes at top level, then
 * the system variables (which attributes cannot shadow), and `contact` with
 * everything. `data` (preview only) overrides attributes.
 */
export function buildContext(input: {
  contact: RenderContact;
  unsubscribeUrl: string;
  data?: Record<string, unknown>;
}): Record<string, unknown> {
  const { contact, unsubscribeUrl, data } = input;
  const attributes = Object.assign(Object.create(null), contact.attributes, data) as Record<string, unknown>;
  return Object.assign(Object.create(null), attributes, {
    email: contact.email,
    locale: contact.locale,
    unsubscribeUrl,
    contact: Object.assign(Object.create(null), attributes, {
      email: contact.email,
      locale: contact.locale,
      externalId: contact.externalId,
      attributes,
    }),
  });
}

interface Compiled {
  sources: [string, string, string | null];
  subject: ParsedTemplate;
  html: ParsedTemplate;
  text: ParsedTemplate | null;
}

/**
 * Renders template versions with LiquidJS, parsing each version once. Parsed
 * templates are kept per version id in a bounded LRU map; an entry is reused
 * only while the sources are unchanged (a draft being edited is re-parsed).
 * Rendering is lenient — an undefined variable renders empty — while
 * publishing checks the syntax strictly.
 */
export class TemplateRenderer {
  private readonly cache: LruMap<string, Compiled>;

  constructor(capacity = 500) {
    this.cache = new LruMap(capacity);
  }

  /** Throws TemplateSyntaxError (naming the part) for a template that does not parse. */
  compile(version: RenderableVersion): Compiled {
    const sources: Compiled['sources'] = [version.subject, version.htmlBody, version.textBody];
    const hit = this.cache.get(version.id);
    if (hit && hit.sources.every((source, i) => source === sources[i])) return hit;
    const compiled: Compiled = {
      sources,
      subject: parsePart('subject', version.subject),
      html: parsePart('htmlBody', version.htmlBody),
      text: version.textBody === null ? null : parsePart('textBody', version.textBody),
    };
    this.cache.set(version.id, compiled);
    return compiled;
  }

  /** Throws TemplateSyntaxError or TemplateRenderError (naming the part). */
  async render(version: RenderableVersion, context: Record<string, unknown>): Promise<RenderedEmail> {
    const compiled = this.compile(version);
    const scope = applyDeclarations(context, version.variables ?? null);
    const [subject, html, text] = await Promise.all([
      renderPart('subject', compiled.subject, scope),
      renderPart('htmlBody', compiled.html, scope),
      compiled.text ? renderPart('textBody', compiled.text, scope) : null,
    ]);
    return {
      // A header value: line breaks from contact data must not start a new header.
      subject: subject.replace(/[\r\n]+/g, ' ').trim(),
      html,
      text: text ?? htmlToText(html),
    };
  }

  get size(): number {
    return this.cache.size;
  }
}
