import { Liquid, type LiquidOptions, type Template } from 'liquidjs';

/**
 * The two LiquidJS engines every template goes through. Both are sandboxed:
 * `templates: {}` replaces the file system with an empty in-memory map and
 * the tags that load other templates are removed, so a template can neither
 * read a file nor fail late on a missing partial — it fails to parse.
 * Limits stop a hostile template from spinning the CPU or memory of a worker.
 */
const LOADING_TAGS = ['include', 'render', 'layout'];

const common: LiquidOptions = {
  templates: {},
  strictFilters: true,
  strictVariables: false,
  ownPropertyOnly: true,
  parseLimit: 2 * 1024 * 1024,
  renderLimit: 2000,
  memoryLimit: 64 * 1024 * 1024,
};

function sandboxed(options: LiquidOptions): Liquid {
  const engine = new Liquid({ ...common, ...options });
  for (const tag of LOADING_TAGS) delete engine.tags[tag];
  return engine;
}

export interface Engines {
  /** For the HTML part: every `{{ value }}` is HTML-escaped. */
  html: Liquid;
  /** For the subject and text parts, which are not HTML. */
  plain: Liquid;
}

/** A pair of sandboxed engines; a render thread makes its own with limits from the configuration. */
export function createEngines(limits: Pick<LiquidOptions, 'renderLimit' | 'memoryLimit'> = {}): Engines {
  return { html: sandboxed({ outputEscape: 'escape', ...limits }), plain: sandboxed({ ...limits }) };
}

const defaults = createEngines();
/** For the HTML part: every `{{ value }}` is HTML-escaped. */
export const htmlEngine = defaults.html;
/** For the subject and text parts, which are not HTML. */
export const plainEngine = defaults.plain;

export type ParsedTemplate = Template[];

export type TemplatePart = 'subject' | 'htmlBody' | 'textBody';

export class TemplateSyntaxError extends Error {
  constructor(
    readonly part: TemplatePart,
    message: string,
    /** Every part's problem when several were checked at once (publishing); `part` and the message are the first. */
    readonly all: readonly { part: TemplatePart; message: string }[] = [{ part, message }],
  ) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

export class TemplateRenderError extends Error {
  constructor(
    readonly part: TemplatePart,
    message: string,
  ) {
    super(message);
    this.name = 'TemplateRenderError';
  }
}

export function parsePart(part: TemplatePart, source: string): ParsedTemplate {
  try {
    return (part === 'htmlBody' ? htmlEngine : plainEngine).parse(source);
  } catch (error) {
    throw new TemplateSyntaxError(part, (error as Error).message);
  }
}

export async function renderPart(part: TemplatePart, template: ParsedTemplate, scope: object): Promise<string> {
  try {
    return String(await (part === 'htmlBody' ? htmlEngine : plainEngine).render(template, scope));
  } catch (error) {
    throw new TemplateRenderError(part, (error as Error).message);
  }
}
