import { createHash } from 'node:crypto';
import type { FrozenBodies } from './freeze.js';
import { TemplateRenderError, TemplateSyntaxError } from './liquid.js';
import { DEFAULT_RENDER_POOL_OPTIONS, RenderPool, RenderTaskKilled, type RenderPoolOptions } from './render-pool.js';
import type { Failure, FreezeResult, RenderOutcome, RenderResult, Sources } from './render-worker.js';
import type { VariableDeclaration } from './variables.js';
import { LruMap } from '../shared/lru-map.js';
import type { TrackingSpec } from '../tracking/track-html.js';

export { TemplateRenderError, TemplateSyntaxError } from './liquid.js';

/**
 * Raw content as Liquid that prints it unchanged: every `{` becomes
 * `{{ "{" }}`, so no tag or output can start. Raw transactional content goes
 * through the render pool this way (its text part derived, its links tracked)
 * without being a template.
 */
export const inert = (text: string): string => text.replace(/\{/g, '{{ "{" }}');
export type { RenderPoolOptions } from './render-pool.js';

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

export interface TemplateRendererOptions extends Partial<RenderPoolOptions> {
  /** Versions whose key (id + hash of the sources) is remembered here, and parsed templates kept per thread. */
  cacheCapacity?: number;
  /** Most messages of one version rendered in one task (renders requested in the same turn of the event loop are batched). */
  maxBatch?: number;
}

interface VersionKey {
  sources: Sources;
  key: string;
}

interface Item {
  context: Record<string, unknown>;
  /** Open and click tracking, applied to the HTML in the render thread. */
  tracking?: TrackingSpec | undefined;
}

interface Waiting extends Item {
  resolve(email: RenderedEmail): void;
  reject(error: unknown): void;
}

interface Batch {
  version: RenderableVersion;
  key: VersionKey;
  waiting: Waiting[];
}

export type RenderManyResult = RenderedEmail | TemplateRenderError | TemplateSyntaxError;

/**
 * Renders template versions with LiquidJS — in a pool of worker threads
 * (render-pool.ts), never on the event loop: a tenant's template can use up
 * its thread's time budget, heap or output cap, and then fails alone with a
 * TemplateRenderError. Each thread parses a version once and keeps it
 * (keyed by version id and a hash of its sources, so a draft being edited is
 * re-parsed); the sources cross to a thread only when it may not have them
 * yet. Renders of one version asked for in the same turn of the event loop
 * (a delivery batch) go to a thread as one task. Rendering is lenient — an
 * undefined variable renders empty — while publishing checks the syntax
 * strictly (`freeze`).
 */
export class TemplateRenderer {
  readonly pool: RenderPool;
  private readonly keys: LruMap<string, VersionKey>;
  /** Keys whose sources were sent to the pool; the threads may still lack them (they answer `missing`). */
  private readonly shipped: LruMap<string, true>;
  private readonly pending = new Map<string, Batch>();
  private readonly maxBatch: number;

  constructor(options: TemplateRendererOptions = {}) {
    const { cacheCapacity = 500, maxBatch = 50, ...pool } = options;
    this.pool = new RenderPool({ ...DEFAULT_RENDER_POOL_OPTIONS, ...stripUndefined(pool) });
    this.keys = new LruMap(cacheCapacity);
    this.shipped = new LruMap(cacheCapacity);
    this.maxBatch = maxBatch;
  }

  /** Throws TemplateSyntaxError or TemplateRenderError (naming the part). */
  render(version: RenderableVersion, context: Record<string, unknown>, tracking?: TrackingSpec): Promise<RenderedEmail> {
    const key = this.keyOf(version);
    let batch = this.pending.get(key.key);
    if (batch && batch.version.variables !== version.variables) {
      this.flush(batch);
      batch = undefined;
    }
    if (!batch) {
      const created: Batch = { version, key, waiting: [] };
      this.pending.set(key.key, created);
      setImmediate(() => this.flush(created));
      batch = created;
    }
    const promise = new Promise<RenderedEmail>((resolve, reject) => batch.waiting.push({ context, tracking, resolve, reject }));
    if (batch.waiting.length >= this.maxBatch) this.flush(batch);
    return promise;
  }

  /**
   * Content rendered once and never again (a transactional email's raw
   * content, made inert): one task with its sources, nothing of it kept —
   * neither here nor in the thread's parsed-template cache — so a stream of
   * distinct, large emails cannot fill either cache or evict the versions
   * campaigns are rendering.
   */
  async renderOnce(version: RenderableVersion, context: Record<string, unknown>, tracking?: TrackingSpec): Promise<RenderedEmail> {
    const sources: Sources = [version.subject, version.htmlBody, version.textBody];
    const result = await this.pool.run<RenderResult>({
      kind: 'render',
      key: `once:${version.id}`,
      sources,
      variables: version.variables ?? null,
      contexts: [context],
      ...(tracking ? { tracking: [tracking] } : {}),
      ephemeral: true,
    });
    if (result.missing) throw new Error('render thread refused a task that carried its sources');
    const outcome = result.outcomes[0]!;
    if (outcome.ok) return outcome.email;
    throw toError(outcome);
  }

  /** One version for many contexts (in tasks of up to `maxBatch`); each result is the email or its error. */
  async renderMany(version: RenderableVersion, contexts: Record<string, unknown>[]): Promise<RenderManyResult[]> {
    const key = this.keyOf(version);
    const results: RenderManyResult[] = [];
    for (let start = 0; start < contexts.length; start += this.maxBatch) {
      const outcomes = await this.renderOutcomes(version, key, contexts.slice(start, start + this.maxBatch).map((context) => ({ context })));
      for (const outcome of outcomes) results.push(outcome.ok ? outcome.email : toError(outcome));
    }
    return results;
  }

  /**
   * What publishing stores, checked: every part's Liquid syntax (all
   * problems at once: a TemplateSyntaxError whose `all` lists them), the CSS
   * inlined, the text derived when missing, and the result still valid Liquid.
   */
  async freeze(version: Pick<RenderableVersion, 'subject' | 'htmlBody' | 'textBody'>): Promise<FrozenBodies> {
    const result = await this.pool.run<FreezeResult>({ kind: 'freeze', sources: [version.subject, version.htmlBody, version.textBody] });
    if (!result.ok) throw toError(result);
    return { htmlBody: result.htmlBody, textBody: result.textBody };
  }

  /** Stops the render threads (container.close()). */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** Versions whose key is remembered. */
  get size(): number {
    return this.keys.size;
  }

  private flush(batch: Batch): void {
    if (this.pending.get(batch.key.key) === batch) this.pending.delete(batch.key.key);
    if (batch.waiting.length === 0) return;
    const waiting = batch.waiting.splice(0);
    this.renderOutcomes(
      batch.version,
      batch.key,
      waiting.map((w) => ({ context: w.context, tracking: w.tracking })),
    ).then(
      (outcomes) => outcomes.forEach((outcome, i) => (outcome.ok ? waiting[i]!.resolve(outcome.email) : waiting[i]!.reject(toError(outcome)))),
      (error: unknown) => waiting.forEach((w) => w.reject(error)),
    );
  }

  /**
   * One task for a batch. A batch whose thread was killed (time, memory)
   * blames the item it was on and goes again without it: the items before
   * it had finished but their results died with the thread.
   */
  private async renderOutcomes(version: RenderableVersion, key: VersionKey, items: Item[]): Promise<RenderOutcome[]> {
    const outcomes: RenderOutcome[] = [];
    let rest = items;
    while (rest.length > 0) {
      try {
        outcomes.push(...(await this.runRender(version, key, rest)));
        break;
      } catch (error) {
        if (!(error instanceof RenderTaskKilled)) throw error;
        const culprit = Math.min(Math.max(error.itemIndex, 0), rest.length - 1);
        const before = rest.slice(0, culprit);
        if (before.length > 0) outcomes.push(...(await this.renderOutcomes(version, key, before)));
        outcomes.push({ ok: false, error: 'render', part: error.part, message: error.message });
        rest = rest.slice(culprit + 1);
      }
    }
    return outcomes;
  }

  private async runRender(version: RenderableVersion, key: VersionKey, items: Item[]): Promise<RenderOutcome[]> {
    const variables = version.variables ?? null;
    const contexts = items.map((item) => item.context);
    const tracking = items.some((item) => item.tracking) ? items.map((item) => item.tracking ?? null) : undefined;
    const ship = this.shipped.get(key.key) === undefined;
    let result = await this.pool.run<RenderResult>({ kind: 'render', key: key.key, sources: ship ? key.sources : undefined, variables, contexts, tracking });
    if (ship) this.shipped.set(key.key, true);
    if (result.missing) {
      result = await this.pool.run<RenderResult>({ kind: 'render', key: key.key, sources: key.sources, variables, contexts, tracking });
    }
    if (result.missing) throw new Error('render thread lost the template it was just given');
    return result.outcomes;
  }

  /** The version's key, hashed once per (id, sources). */
  private keyOf(version: RenderableVersion): VersionKey {
    const sources: Sources = [version.subject, version.htmlBody, version.textBody];
    const hit = this.keys.get(version.id);
    if (hit && hit.sources.every((source, i) => source === sources[i])) return hit;
    const hash = createHash('sha256');
    for (const source of sources) hash.update(source === null ? '\u0000null' : `\u0000${source.length}:${source}`);
    const key = { sources, key: `${version.id}:${hash.digest('base64url').slice(0, 22)}` };
    this.keys.set(version.id, key);
    return key;
  }
}

function toError(failure: Failure): TemplateRenderError | TemplateSyntaxError {
  if (failure.error === 'render') return new TemplateRenderError(failure.part, failure.message);
  const [first] = failure.details;
  return new TemplateSyntaxError(first!.part, first!.message, failure.details);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
