import { Migrator, type MigrationResultSet } from 'kysely';
import type { Database } from './database.js';
import { migrationsFor } from './migrations/index.js';

function migrator(database: Database): Migrator {
  return new Migrator({
    db: database.db,
    provider: { getMigrations: async () => migrationsFor(database.dialect) },
  });
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(database: Database): Promise<string[]> {
  const result = await migrator(database).migrateToLatest();
  return unwrap(result);
}

/** True when every known migration has been applied (for readiness checks). */
export async function isSchemaCurrent(database: Database): Promise<boolean> {
  const migrations = await migrator(database).getMigrations();
  return migrations.every((m) => m.executedAt !== undefined);
}

/** How many known migrations are applied and pending (reads only: creates no table). */
export async function migrationStatus(database: Database): Promise<{ applied: number; pending: number }> {
  const migrations = await migrator(database).getMigrations();
  const applied = migrations.filter((m) => m.executedAt !== undefined).length;
  return { applied, pending: migrations.length - applied };
}

function unwrap({ error, results }: MigrationResultSet): string[] {
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${reason}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
