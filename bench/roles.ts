/**
 * Child-process roles, by name (see bench/child.ts and startChild in
 * bench/lib/common.ts). Each is loaded on demand, so a child holds only the
 * modules its role needs and its peak RSS is that role's.
 */
import type { ChildContext } from './child.js';

export type Role = (params: any, ctx: ChildContext) => Promise<unknown>;

export const roles: Record<string, () => Promise<Role>> = {
  'fanout-app': async () => (await import('./fanout.js')).fanoutApp,
  'fanout-baseline': async () => (await import('./fanout.js')).fanoutBaseline,
  'first-email-app': async () => (await import('./first-email.js')).firstEmailApp,
  'delivery-app': async () => (await import('./delivery.js')).deliveryApp,
  'delivery-baseline': async () => (await import('./delivery.js')).deliveryBaseline,
  'scale-out-worker': async () => (await import('./scale-out.js')).scaleOutWorker,
  'scale-out-baseline': async () => (await import('./scale-out.js')).scaleOutBaseline,
  'import-app': async () => (await import('./import.js')).importApp,
  'import-baseline': async () => (await import('./import.js')).importBaseline,
  'api-server': async () => (await import('./api.js')).apiServer,
  'api-baseline': async () => (await import('./api.js')).apiBaseline,
  'api-floor': async () => (await import('./api.js')).apiFloor,
  'api-load-server': async () => (await import('./api-under-load.js')).apiLoadServer,
  'api-load-worker': async () => (await import('./api-under-load.js')).apiLoadWorker,
  'tracking-server': async () => (await import('./tracking.js')).trackingServer,
  'tracking-baseline': async () => (await import('./tracking.js')).trackingBaseline,
};
