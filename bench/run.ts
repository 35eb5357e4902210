/**
 * `npm run bench`: every benchmark in turn (BENCH_ONLY=fanout,api to pick),
 * each printing its table and appending a dated entry to docs/BENCHMARKS.md.
 *
 *   npm run bench                         quick pass, BENCH_SCALE=20000, a few minutes
 *   BENCH_SCALE=1000000 npm run bench     full pass
 */
import { main as api } from './api.js';
import { main as apiLoad } from './api-under-load.js';
import { main as chaos } from './chaos.js';
import { main as delivery } from './delivery.js';
import { main as fanout } from './fanout.js';
import { main as firstEmail } from './first-email.js';
import { main as history } from './history.js';
import { main as importContacts } from './import.js';
import { main as priority } from './priority.js';
import { main as render } from './render.js';
import { log, reportTargets, settings } from './lib/common.js';
import { main as scaleOut } from './scale-out.js';
import { main as scaling } from './scaling.js';
import { main as tracking } from './tracking.js';
import { main as webhooks } from './webhooks.js';

const benchmarks: Record<string, () => Promise<void>> = {
  fanout,
  'first-email': firstEmail,
  delivery,
  'scale-out': scaleOut,
  chaos,
  import: importContacts,
  api,
  'api-load': apiLoad,
  scaling,
  history,
  render,
  tracking,
  webhooks,
  priority,
};

async function main(): Promise<void> {
  for (const name of settings.only) {
    if (!benchmarks[name]) throw new Error(`BENCH_ONLY: unknown benchmark "${name}" (known: ${Object.keys(benchmarks).join(', ')})`);
  }
  const started = Date.now();
  const failed: string[] = [];
  for (const name of settings.only) {
    log(`── ${name} (scale ${settings.scale}, engines ${settings.engines.join(', ')})`);
    // One benchmark failing (an hour into a full pass) does not cost the others their figures.
    try {
      await benchmarks[name]!();
    } catch (error) {
      console.error(error);
      log(`${name} failed; going on with the next benchmark`);
      failed.push(name);
    }
  }
  reportTargets(
    Object.keys(benchmarks).filter((name) => name !== 'render' && !settings.only.includes(name)),
    failed,
  );
  log(`all done in ${((Date.now() - started) / 1000).toFixed(0)} s${failed.length > 0 ? `; failed: ${failed.join(', ')}` : ''}`);
  if (failed.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
