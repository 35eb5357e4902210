import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { TemplateRenderError, type TemplatePart } from './liquid.js';
import { PARTS, type RenderLimits, type WorkerTask } from './render-worker.js';
import { DEFAULTS, type RenderConfig } from '../config.js';

export type RenderPoolOptions = RenderConfig;

/** The pool's defaults live with every other default (config.ts). */
export const DEFAULT_RENDER_POOL_OPTIONS: RenderPoolOptions = DEFAULTS.render;


/**
 * The compiled worker file. From dist/ (the app) and bench/.build/ (the
 * benchmarks) it sits next to this module; under Vitest this module is the
 * TypeScript source, which a worker thread cannot load, so the built copy in
 * dist/ is used (`npm test` builds first).
 */
export function renderWorkerFile(moduleUrl = import.meta.url): string {
  const sibling = new URL('./render-worker.js', moduleUrl);
  if (!moduleUrl.endsWith('.ts')) return fileURLToPath(sibling);
  const built = fileURLToPath(new URL('../../dist/templates/render-worker.js', moduleUrl));
  if (!fs.existsSync(built)) throw new Error(`render worker not built: ${built} is missing (run "npm run build")`);
  return built;
}

/** The shared progress record of one task: [item start (epoch ms)] and [item index, part index]. */
interface Progress {
  buffer: SharedArrayBuffer;
  started: Float64Array;
  at: Int32Array;
}

function newProgress(): Progress {
  const buffer = new SharedArrayBuffer(16);
  return { buffer, started: new Float64Array(buffer, 0, 1), at: new Int32Array(buffer, 8, 2) };
}

/** A task the pool stopped: which item (of a batch) and part it was on. */
export class RenderTaskKilled extends TemplateRenderError {
  constructor(
    part: TemplatePart,
    message: string,
    readonly itemIndex: number,
  ) {
    super(part, message);
  }
}

/**
 * A pool of worker threads (piscina) for every piece of template work. Each
 * item of a task (one message, or one freeze) has `timeoutMs` of wall-clock
 * time from the moment it starts running — waiting in the queue does not
 * count — after which the thread is terminated and replaced; each thread has
 * a heap limit, so a template that allocates without bound kills its thread,
 * not the process. Either surfaces as a RenderTaskKilled (a
 * TemplateRenderError naming the part). Created lazily: processes that never
 * render start no threads.
 */
export class RenderPool {
  private piscina: Piscina | undefined;
  private closed = false;
  private nextTaskId = 1;
  private readonly onStart = new Map<number, () => void>();

  constructor(readonly options: RenderPoolOptions = DEFAULT_RENDER_POOL_OPTIONS) {}

  async run<T>(task: WorkerTask): Promise<T> {
    const pool = this.pool();
    const taskId = this.nextTaskId++;
    const progress = newProgress();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const { timeoutMs } = this.options;
    // Each item gets the whole budget from its own start (the thread writes it).
    const check = () => {
      const elapsed = Date.now() - progress.started[0]!;
      if (elapsed >= timeoutMs) controller.abort();
      else timer = setTimeout(check, timeoutMs - elapsed);
    };
    this.onStart.set(taskId, () => {
      timer = setTimeout(check, timeoutMs);
    });
    try {
      return (await pool.run({ ...task, taskId, progress: progress.buffer }, { signal: controller.signal })) as T;
    } catch (error) {
      throw this.describe(error, task, progress, controller.signal.aborted);
    } finally {
      clearTimeout(timer);
      this.onStart.delete(taskId);
    }
  }

  /** Stops every thread; tasks still running or queued fail. */
  async close(): Promise<void> {
    this.closed = true;
    const pool = this.piscina;
    this.piscina = undefined;
    this.onStart.clear();
    await pool?.destroy();
  }

  /** Threads currently alive (tests). */
  get threads(): number {
    return this.piscina?.threads.length ?? 0;
  }

  private pool(): Piscina {
    if (this.closed) throw new Error('the render pool is closed');
    if (this.piscina) return this.piscina;
    const { threads, maxHeapMb, maxBytes, timeoutMs } = this.options;
    const limits: RenderLimits = {
      maxBytes,
      // LiquidJS's own limit, checked between tags, ends most runaway loops with a clean error before the thread is killed.
      liquidRenderMs: Math.max(50, Math.floor(timeoutMs * 0.75)),
    };
    this.piscina = new Piscina({
      filename: renderWorkerFile(),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Infinity, // a thread keeps its parsed templates
      workerData: limits,
      resourceLimits: {
        maxOldGenerationSizeMb: maxHeapMb,
        maxYoungGenerationSizeMb: Math.min(32, Math.max(4, Math.floor(maxHeapMb / 8))),
      },
    });
    this.piscina.on('message', (message: unknown) => {
      const id = (message as { renderTaskStarted?: number } | null)?.renderTaskStarted;
      if (id !== undefined) this.onStart.get(id)?.();
    });
    // With no task left to fail, a thread's death is reported here; the pool replaces it.
    this.piscina.on('error', () => {});
    return this.piscina;
  }

  private describe(error: unknown, task: WorkerTask, progress: Progress, timedOut: boolean): unknown {
    const itemIndex = progress.at[0]!;
    const part = PARTS[progress.at[1]!] ?? 'htmlBody';
    const what = task.kind === 'render' ? 'rendering' : ['the syntax check', 'CSS inlining', 'text derivation'][progress.at[1]!] ?? 'freezing';
    if (timedOut) {
      return new RenderTaskKilled(part, `${what} did not finish within ${this.options.timeoutMs} ms and was stopped`, itemIndex);
    }
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return new RenderTaskKilled(part, `${what} needed more than ${this.options.maxHeapMb} MB of memory and was stopped`, itemIndex);
    }
    if (!this.closed && /^worker exited with code/.test((error as Error).message ?? '')) {
      return new RenderTaskKilled(part, `${what} stopped its thread: ${(error as Error).message}`, itemIndex);
    }
    return error;
  }
}
