/**
 * A fixed-rate (open-loop) HTTP load: requests leave on a schedule — one
 * every 1000 / rate ms, the paths taken in turn — whether or not earlier
 * ones have been answered, so a slow server meets the same arrivals as a
 * fast one and its stalls show in the latencies (a closed loop of N
 * connections would send less while the server stalls). Latency is from the
 * moment a request is handed to Node's HTTP client to the end of its
 * answer; how late the driver itself sent each request (its own event loop)
 * is reported beside it.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { percentile } from './common.js';

export interface PathLoad {
  path: string;
  latencies: number[];
  /** Errors, timeouts and answers other than 2xx. */
  bad: number;
  /** What went wrong, counted: an HTTP status, or the client's error message. */
  failures: Record<string, number>;
}

export interface FixedRateResult {
  paths: PathLoad[];
  /** Requests answered per second over the window (first sent → last answered). */
  achievedRps: number;
  /** How late the driver sent requests against their schedule, ms. */
  lagP99: number;
  lagMax: number;
}

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export function summarize(latencies: number[]): LatencySummary {
  if (latencies.length === 0) return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN, count: 0 };
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), count: latencies.length };
}

/** `rate` requests per second in all over `paths` (in turn) for `seconds`; resolves once every request has ended. */
export async function fixedRateLoad(
  base: string,
  paths: string[],
  headers: Record<string, string>,
  rate: number,
  seconds: number,
): Promise<FixedRateResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const results: PathLoad[] = paths.map((path) => ({ path, latencies: [], bad: 0, failures: {} }));
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const lags: number[] = [];
  let sent = 0;
  let ended = 0;
  let lastEnd = 0;
  const start = performance.now();
  const url = new URL(base);
  await new Promise<void>((resolve) => {
    const finish = () => {
      ended++;
      if (ended === total) resolve();
    };
    const fire = (i: number, due: number) => {
      const target = results[i % paths.length]!;
      const sentAt = performance.now();
      lags.push(sentAt - due);
      let over = false;
      const end = (failure?: string) => {
        if (over) return;
        over = true;
        const at = performance.now();
        lastEnd = Math.max(lastEnd, at);
        if (failure === undefined) {
          target.latencies.push(at - sentAt);
        } else {
          target.bad++;
          target.failures[failure] = (target.failures[failure] ?? 0) + 1;
        }
        finish();
      };
      const request = http.get(
        { host: url.hostname, port: url.port, path: target.path, headers, agent, timeout: 30_000 },
        (response) => {
          response.resume();
          const status = response.statusCode ?? 0;
          response.on('end', () => end(status >= 200 && status < 300 ? undefined : `HTTP ${status}`));
        },
      );
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', (error) => end(error.message));
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        fire(sent, start + sent * interval);
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    tick();
  });
  agent.destroy();
  return { paths: results, achievedRps: (total * 1000) / (lastEnd - start), lagP99: percentile(lags, 99), lagMax: Math.max(...lags) };
}
