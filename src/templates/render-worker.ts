import { parentPort, workerData } from 'node:worker_threads';
import { Context, toValueSync, type Liquid, type Template } from 'liquidjs';
import { createEngines, TemplateRenderError, TemplateSyntaxError, type Engines, type TemplatePart } from './liquid.js';
import { applyDeclarations, type VariableDeclaration } from './variables.js';
import { LruMap } from '../shared/lru-map.js';
import { applyTracking, type TrackingSpec } from '../tracking/track-html.js';

/**
 * The code that runs inside a render thread (see render-pool.ts): every
 * piece of tenant-controlled template work — Liquid parsing and rendering,
 * CSS inlining, text derivation — happens here, never on the event loop.
 * A task answers with a plain result object (errors included), because an
 * Error crossing threads loses its class and fields.
 *
 * The same functions also run in-process (`createRenderCore`) for the
 * benchmark's baseline and for unit tests of the limits.
 */

export interface RenderLimits {
  /** Most UTF-8 bytes of one rendered (or frozen) part. */
  maxBytes: number;
  /** LiquidJS's own time limit per part, ms: a first line before the thread is terminated. */
  liquidRenderMs: number;
}

export type Sources = [subject: string, htmlBody: string, textBody: string | null];

export interface RenderTask {
  kind: 'render';
  /** Version id + hash of the sources: the key of the parsed template inside the thread. */
  key: string;
  /** Sent when the thread may not have this key yet; otherwise it answers `missing`. */
  sources?: Sources;
  variables: readonly VariableDeclaration[] | null;
  contexts: Record<string, unknown>[];
  /** Per context: open and click tracking to apply to the rendered HTML (campaign messages with tracking on). */
  tracking?: (TrackingSpec | null)[];
  /** Shared with the pool: when the current item started (epoch ms), its index and the part being rendered (see Progress). */
  progress?: SharedArrayBuffer;
  /** Set by the pool: the thread says when it starts (the timeout counts from then, not from queueing). */
  taskId?: number;
  /** Content rendered once (a transactional email's raw content): parsed from `sources`, never kept in the cache. */
  ephemeral?: boolean;
}

export interface FreezeTask {
  kind: 'freeze';
  sources: Sources;
  progress?: SharedArrayBuffer;
  taskId?: number;
}

export type WorkerTask = RenderTask | FreezeTask;

export interface RenderedParts {
  subject: string;
  html: string;
  text: string;
}

export type Failure =
  | { ok: false; error: 'syntax'; details: { part: TemplatePart; message: string }[] }
  | { ok: false; error: 'render'; part: TemplatePart; message: string };

export type RenderOutcome = { ok: true; email: RenderedParts } | Failure;

export type RenderResult = { missing: true } | { missing?: false; outcomes: RenderOutcome[] };

export type FreezeResult = { ok: true; htmlBody: string; textBody: string } | Failure;

export const PARTS: readonly TemplatePart[] = ['subject', 'htmlBody', 'textBody'];

interface Compiled {
  subject: Template[];
  html: Template[];
  text: Template[] | null;
}

/** An emitter that stops a render as soon as its output passes the cap, instead of building it and measuring after. */
class CappedEmitter {
  buffer = '';
  constructor(
    private readonly maxChars: number,
    private readonly part: TemplatePart,
  ) {}
  write(html: unknown): void {
    this.buffer += stringify(html);
    // A UTF-16 unit is at least one UTF-8 byte, so this never stops a render that fits.
    if (this.buffer.length > this.maxChars) throw new TemplateRenderError(this.part, `rendered output exceeds ${this.maxChars} bytes`);
  }
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(stringify).join('');
  return String(value);
}

export interface RenderCore {
  render(task: RenderTask): RenderResult | Promise<RenderResult>;
  freeze(task: FreezeTask): Promise<FreezeResult>;
  readonly cacheSize: number;
}

type FreezeModule = typeof import('./freeze.js');
let freezeModule: FreezeModule | undefined;
/** juice and html-to-text take most of a thread's start-up; loaded when first needed (a thread that only renders frozen versions never does). */
async function loadFreeze(): Promise<FreezeModule> {
  return (freezeModule ??= await import('./freeze.js'));
}

/** Where a task is, written for the pool's watchdog: item start (epoch ms), item index, part index (0 subject, 1 HTML, 2 text). */
class Progress {
  private readonly started: Float64Array | undefined;
  private readonly at: Int32Array | undefined;
  constructor(buffer: SharedArrayBuffer | undefined) {
    if (!buffer) return;
    this.started = new Float64Array(buffer, 0, 1);
    this.at = new Int32Array(buffer, 8, 2);
  }
  item(index: number): void {
    if (!this.at) return;
    this.at[0] = index;
    this.at[1] = 0;
    this.started![0] = Date.now();
  }
  part(index: number): void {
    if (this.at) this.at[1] = index;
  }
}

/** The render and freeze logic with its own engines and parsed-template cache (one per thread). */
export function createRenderCore(limits: RenderLimits, cacheCapacity = 500): RenderCore {
  const engines: Engines = createEngines({ renderLimit: limits.liquidRenderMs, memoryLimit: Math.max(4 * 1024 * 1024, 4 * limits.maxBytes) });
  const cache = new LruMap<string, Compiled>(cacheCapacity);
  const engineFor = (part: TemplatePart): Liquid => (part === 'htmlBody' ? engines.html : engines.plain);

  const parse = (part: TemplatePart, source: string): Template[] => {
    try {
      return engineFor(part).parse(source);
    } catch (error) {
      throw new TemplateSyntaxError(part, (error as Error).message);
    }
  };

  const capped = (part: TemplatePart, value: string, what = 'rendered output'): string => {
    if (value.length > limits.maxBytes || Buffer.byteLength(value) > limits.maxBytes) {
      throw new TemplateRenderError(part, `${what} exceeds ${limits.maxBytes} bytes`);
    }
    return value;
  };

  const renderPart = (part: TemplatePart, template: Template[], scope: object): string => {
    const engine = engineFor(part);
    try {
      const context = new Context(scope, engine.options, { sync: true }, { liquid: engine });
      const emitter = new CappedEmitter(limits.maxBytes, part);
      toValueSync(engine.renderer.renderTemplates(template, context, emitter as never));
      return capped(part, emitter.buffer);
    } catch (error) {
      if (error instanceof TemplateRenderError) throw error;
      const cause = error as Error & { originalError?: unknown };
      // The cap thrown from inside a tag arrives wrapped in LiquidJS's RenderError.
      if (cause.originalError instanceof TemplateRenderError) throw cause.originalError;
      throw new TemplateRenderError(part, cause.message);
    }
  };

  const failure = (error: unknown): Failure => {
    if (error instanceof TemplateSyntaxError) return { ok: false, error: 'syntax', details: [{ part: error.part, message: error.message }] };
    if (error instanceof TemplateRenderError) return { ok: false, error: 'render', part: error.part, message: error.message };
    // Anything else thrown by a template (RangeError: Invalid string length, …) is still the template's doing.
    return { ok: false, error: 'render', part: 'htmlBody', message: (error as Error)?.message ?? String(error) };
  };

  return {
    get cacheSize() {
      return cache.size;
    },

    render(task) {
      return render(task);
    },

    freeze,
  };

  function render(task: RenderTask): RenderResult | Promise<RenderResult> {
    let compiled = cache.get(task.key);
    if (!compiled) {
      if (!task.sources) return { missing: true };
      const [subject, html, text] = task.sources;
      try {
        compiled = { subject: parse('subject', subject), html: parse('htmlBody', html), text: text === null ? null : parse('textBody', text) };
      } catch (error) {
        return { outcomes: task.contexts.map(() => failure(error)) };
      }
      if (!task.ephemeral) cache.set(task.key, compiled);
    }
    // Text is derived from the HTML only for versions that were never frozen (a test send of a draft).
    if (!compiled.text && !freezeModule) return loadFreeze().then(() => render(task));
    const progress = new Progress(task.progress);
    const outcomes = task.contexts.map((context, index): RenderOutcome => {
      try {
        progress.item(index);
        const scope = scopeOf(context, task.variables);
        const subject = renderPart('subject', compiled.subject, scope);
        progress.part(1);
        const html = renderPart('htmlBody', compiled.html, scope);
        progress.part(2);
        const text = compiled.text ? renderPart('textBody', compiled.text, scope) : capped('textBody', freezeModule!.htmlToText(html));
        const tracking = task.tracking?.[index];
        // After the text is derived: the text part keeps the links as written.
        const sent = tracking ? applyTracking(html, tracking) : html;
        // A header value: line breaks from contact data must not start a new header.
        return { ok: true, email: { subject: subject.replace(/[\r\n]+/g, ' ').trim(), html: sent, text } };
      } catch (error) {
        return failure(error);
      }
    });
    return { outcomes };
  }

  async function freeze(task: FreezeTask): Promise<FreezeResult> {
    const { inlineCss, htmlToText } = await loadFreeze();
  const details: { part: TemplatePart; message: string }[] = [];
    task.sources.forEach((source, index) => {
      if (source === null) return;
      try {
        parse(PARTS[index]!, source);
      } catch (error) {
        details.push({ part: PARTS[index]!, message: (error as Error).message });
      }
    });
    if (details.length > 0) return { ok: false, error: 'syntax', details };
    const progress = new Progress(task.progress);
    progress.item(0);
    try {
      progress.part(1);
      const htmlBody = capped('htmlBody', inlineCss(task.sources[1]), 'the HTML with its CSS inlined');
      // The inliner must not have broken the Liquid.
      parse('htmlBody', htmlBody);
      progress.part(2);
      const textBody = capped('textBody', task.sources[2] ?? htmlToText(htmlBody), 'the text part');
      parse('textBody', textBody);
      return { ok: true, htmlBody, textBody };
    } catch (error) {
      return failure(error);
    }
  }
}

/**
 * Structured cloning gave the context ordinary prototypes; the renderer's
 * contract is null-prototype objects (a `__proto__` attribute stays data),
 * then the declared variables' fallbacks.
 */
function scopeOf(context: Record<string, unknown>, variables: readonly VariableDeclaration[] | null): Record<string, unknown> {
  Object.setPrototypeOf(context, null);
  const contact = context.contact;
  if (contact && typeof contact === 'object') {
    Object.setPrototypeOf(contact, null);
    const attributes = (contact as Record<string, unknown>).attributes;
    if (attributes && typeof attributes === 'object') Object.setPrototypeOf(attributes, null);
  }
  return applyDeclarations(context, variables);
}

// --- inside a piscina thread -------------------------------------------------

let core: RenderCore | undefined;

/** The piscina entry point. */
export default async function runTask(task: WorkerTask): Promise<RenderResult | FreezeResult> {
  core ??= createRenderCore(workerData as RenderLimits);
  // Module loading is the thread's business, not the template's: done before the clock starts.
  if (task.kind === 'freeze' || task.sources?.[2] === null) await loadFreeze();
  // Tell the pool the task is running: its wall-clock budget starts now.
  if (task.progress) new Progress(task.progress).item(0);
  if (task.taskId !== undefined) parentPort?.postMessage({ renderTaskStarted: task.taskId });
  return task.kind === 'render' ? core.render(task) : core.freeze(task);
}
