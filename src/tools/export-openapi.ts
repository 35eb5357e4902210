import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createContainer } from '../container.js';
import { openDatabase } from '../db/database.js';
import { buildApp } from '../app.js';

/**
 * Writes the OpenAPI document the app serves at GET /openapi.json to a file
 * (`node dist/tools/export-openapi.js dist/openapi.json`) or to stdout, for
 * `npm run lint:api` and client generators. The app is built in-process over
 * an in-memory SQLite database: nothing listens, nothing is migrated. The
 * document's server is PUBLIC_URL when set.
 */
async function main(out: string | undefined): Promise<void> {
  const database = openDatabase({ dialect: 'sqlite', file: ':memory:' });
  const publicUrl = process.env.PUBLIC_URL?.trim().replace(/\/+$/, '');
  const container = createContainer(database, {
    secret: randomBytes(32).toString('hex'),
    ...(publicUrl ? { delivery: { publicUrl } } : {}),
  });
  try {
    const app = await buildApp(container);
    const text = `${JSON.stringify(app.swagger(), null, 2)}\n`;
    await app.close();
    if (!out || out === '-') {
      process.stdout.write(text);
    } else {
      fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
      fs.writeFileSync(out, text);
      process.stderr.write(`wrote ${out}\n`);
    }
  } finally {
    await container.close();
  }
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`export-openapi: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
