import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import { isSchemaCurrent } from '../db/migrate.js';

export type ReadinessResult = { ready: true } | { ready: false; code: 'DATABASE_UNAVAILABLE' | 'SCHEMA_NOT_CURRENT'; message: string; error?: unknown };

/**
 * Readiness, as a load balancer asks it: the database answers a query, and
 * its schema is the one this build expects. Once the schema has been seen
 * current it stays so for this process (migrations only move forward), so a
 * probe costs one `select 1`. Each check is bounded by a timeout: a database
 * that hangs makes the process not ready, not the probe hang.
 */
export class Readiness {
  private schemaCurrent = false;

  constructor(private readonly deps: { database: Database; timeoutMs?: number }) {}

  async check(): Promise<ReadinessResult> {
    const { database } = this.deps;
    const timeoutMs = this.deps.timeoutMs ?? 2000;
    try {
      await withTimeout(sql`select 1`.execute(database.db), timeoutMs);
      if (!this.schemaCurrent) this.schemaCurrent = await withTimeout(isSchemaCurrent(database), timeoutMs);
    } catch (error) {
      return { ready: false, code: 'DATABASE_UNAVAILABLE', message: 'The database does not answer', error };
    }
    if (!this.schemaCurrent) {
      return { ready: false, code: 'SCHEMA_NOT_CURRENT', message: 'The database schema is not current: run "mailingcore migrate"' };
    }
    return { ready: true };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
