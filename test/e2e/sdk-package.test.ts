import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { assertBuilt, runCli, startCliServer, type ServerProcess } from '../helpers/cli.js';

const REPO = path.resolve('.');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 180_000 });
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.status}:\n${output}`);
  return output;
}

/**
 * The SDK as an outside project gets it: `npm pack` → `npm install <tarball>`
 * in a fresh project → its types compile a copy of the example importing
 * '@mailingcore/sdk' → the compiled example runs against a real server.
 */
describe('@mailingcore/sdk tarball', { timeout: 300_000 }, () => {
  let dir: string;
  let testDb: TestDatabase;
  let server: ServerProcess;
  let apiEnv: Record<string, string>;
  let dataDir: string;

  beforeAll(async () => {
    assertBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailingcore-sdk-pack-'));
    testDb = await createTestDatabase('sqlite');
    dataDir = path.join(dir, 'data');
    const env = { DATABASE_URL: `sqlite:${(testDb.config as { file: string }).file}`, DATA_DIR: dataDir, LOG_LEVEL: 'warn', MAILINGCORE_SECRET: 's'.repeat(40) };
    server = await startCliServer('start', env);
    const created = runCli(['tenants', 'create', '--name', 'Packed', '--json'], env);
    expect(created.status, created.stderr).toBe(0);
    const { tenant, apiKey } = JSON.parse(created.stdout) as { tenant: { id: string }; apiKey: string };
    apiEnv = { MAILINGCORE_URL: server.url, MAILINGCORE_API_KEY: apiKey, MAILINGCORE_TENANT_ID: tenant.id };
  });

  afterAll(async () => {
    await server?.stop();
    await testDb?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('packs into a tarball with types that installs into a new project and runs the example', () => {
    const packDir = path.join(dir, 'pack');
    fs.mkdirSync(packDir);
    run(npm, ['pack', '--pack-destination', packDir], path.join(REPO, 'sdk'));
    const tarballs = fs.readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
    expect(tarballs).toEqual([expect.stringMatching(/^mailingcore-sdk-[\d.]+\.tgz$/)]);
    const tarball = path.join(packDir, tarballs[0]!);

    const project = path.join(dir, 'consumer');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);
    const installed = path.join(project, 'node_modules', '@mailingcore', 'sdk');
    for (const file of ['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/schema.d.ts']) {
      expect(fs.existsSync(path.join(installed, file)), file).toBe(true);
    }

    // The example, importing the package by name instead of the workspace source.
    const example = fs
      .readFileSync(path.join(REPO, 'sdk', 'examples', 'campaign-flow.ts'), 'utf8')
      .replace("from '../src/index.js'", "from '@mailingcore/sdk'");
    expect(example).toContain("from '@mailingcore/sdk'");
    fs.writeFileSync(path.join(project, 'campaign-flow.ts'), example);
    fs.writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          outDir: 'out',
          typeRoots: [path.join(REPO, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['campaign-flow.ts'],
      }),
    );
    // Type-checks against the installed package's declarations, and compiles to plain JavaScript.
    run(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], project);

    const output = run(process.execPath, ['out/campaign-flow.js'], project, apiEnv);
    expect(output).toMatch(/contacts: 3 created, 0 updated, 0 failed \(tagged sdk_example=\w+\)/);
    expect(output).toContain('preview (es): Noticias para Ana');
    expect(output).toContain('every locale has a variant');
    expect(output).toMatch(/^done: SENT$/m);
    expect(output).toMatch(/^usage \d{4}-\d{2}: 3\/100000$/m);
  });
});
