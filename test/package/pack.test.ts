import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer } from '../client/helpers.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../../..');
const tsc = join(repo, 'node_modules/typescript/bin/tsc');

/** Bytes under `dir`, counted file by file (du's block rounding would differ by file system). */
async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      total += (await stat(join(entry.parentPath, entry.name))).size;
    }
  }
  return total;
}

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  [field: string]: unknown;
}

/**
 * The app's lock file: buddylink from the tarball, and the repo's lock entries of its production
 * dependencies (what the registry would resolve today), so `npm ci --offline` installs from npm's
 * cache without asking a registry. A server dependency leaking into the client would be missing here.
 */
async function appLock(manifest: Record<string, unknown>, tarball: string): Promise<object> {
  const integrity = `sha512-${createHash('sha512')
    .update(await readFile(tarball))
    .digest('base64')}`;
  const lock = JSON.parse(await readFile(join(repo, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const packages: Record<string, unknown> = {
    '': { name: 'buddylink-examples', dependencies: { buddylink: 'file:../buddylink.tgz' } },
    'node_modules/buddylink': {
      version: manifest.version,
      resolved: 'file:../buddylink.tgz',
      integrity,
      license: manifest.license,
      dependencies: manifest.dependencies,
      peerDependencies: manifest.peerDependencies,
      peerDependenciesMeta: manifest.peerDependenciesMeta,
      bin: manifest.bin,
      engines: manifest.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path || entry.dev || entry.devOptional) continue;
    // The repo's lock omits registry URLs; npm's offline cache finds a tarball by URL + integrity.
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const resolved = `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${String(entry.version)}.tgz`;
    packages[path] = { resolved, ...entry };
  }
  return { name: 'buddylink-examples', lockfileVersion: 3, requires: true, packages };
}

async function runExample(app: string, name: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, [join(app, 'dist', `${name}.js`)], {
    cwd: app,
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return stdout;
}

/**
 * Issue 15: the package as its users get it. `npm pack`, install the tarball offline into an empty
 * project (client only: no server dependency may come along), type-check the examples against the
 * shipped declarations with skipLibCheck false, and run each using only public exports.
 */
test('the packed client installs light, its declarations check, and the examples run from it', {
  timeout: 240_000,
}, async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'buddylink-pack-'));
  let server: RunningServer | undefined;
  let withServer: string | undefined;
  try {
    // dist/ is built by `npm test`'s tsc; prepack's work minus the compile.
    await run(process.execPath, ['scripts/ship-types.mjs'], { cwd: repo });
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
      cwd: repo,
    });
    const [packed] = JSON.parse(stdout) as { filename: string; size: number; unpackedSize: number }[];
    assert.ok(packed);
    const tarball = join(work, 'buddylink.tgz');
    await cp(join(work, packed.filename), tarball);

    // An app project in an empty directory: the client install, offline from npm's cache.
    const app = join(work, 'app');
    await mkdir(app);
    await cp(join(repo, 'examples/package.json'), join(app, 'package.json'));
    const manifest = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    await writeFile(
      join(app, 'package-lock.json'),
      JSON.stringify(await appLock(manifest, tarball), null, 2),
    );
    const started = performance.now();
    await run('npm', ['ci', '--offline', '--omit=dev', '--no-audit', '--no-fund'], {
      cwd: app,
      timeout: 120_000,
    });
    const installMs = performance.now() - started;
    const installed = await readdir(join(app, 'node_modules'));
    const bytes = await sizeOf(join(app, 'node_modules'));
    t.diagnostic(
      `client install: ${(bytes / 1e6).toFixed(1)} MB in ${(installMs / 1000).toFixed(1)} s, tarball ${packed.size} B`,
    );
    for (const serverOnly of ['better-sqlite3', 'pino', 'prom-client', 'bufferutil']) {
      assert.ok(!installed.includes(serverOnly), `${serverOnly} is not installed for the client`);
    }
    assert.ok(bytes < 40e6, `the client install is ${(bytes / 1e6).toFixed(1)} MB`);

    // buddylink/server with the server's dependencies beside it: the package unpacked where the
    // repo's node_modules (which hold them) are in reach, as an app that installs them would have.
    withServer = join(repo, 'node_modules/.cache/buddylink-pack-test');
    await rm(withServer, { recursive: true, force: true });
    await mkdir(join(withServer, 'node_modules/buddylink'), { recursive: true });
    await run('tar', [
      'xzf',
      tarball,
      '-C',
      join(withServer, 'node_modules/buddylink'),
      '--strip-components=1',
    ]);
    // One type-check of every example against the shipped declarations, skipLibCheck false (TS7016 before).
    for (const file of [
      'chat.ts',
      'rpc.ts',
      'file-transfer.ts',
      'server-in-process.ts',
      'shared.ts',
      'tsconfig.json',
    ]) {
      await cp(join(repo, 'examples', file), join(withServer, file));
    }
    await writeFile(join(withServer, 'package.json'), '{"type":"module","private":true}');
    await run(process.execPath, [tsc, '-p', withServer], { cwd: withServer }).catch(
      (error: { stdout: string }) => {
        assert.fail(`the examples do not type-check against the package:\n${error.stdout}`);
      },
    );
    assert.match(await runExample(withServer, 'server-in-process', {}), /logged on as carol/);
    // The client examples run from the app install, where no server dependency is in reach.
    await mkdir(join(app, 'dist'));
    for (const name of ['chat', 'rpc', 'file-transfer', 'shared']) {
      await cp(join(withServer, 'dist', `${name}.js`), join(app, 'dist', `${name}.js`));
    }
    server = await startTestServer();
    const env = { BUDDYLINK_SERVER: server.urls.ws, BUDDYLINK_STUN: server.urls.stun };
    assert.match(await runExample(app, 'chat', env), /alice read: hello alice-\w+, bob here/);
    assert.match(await runExample(app, 'rpc', env), /sums: 3, 42\n.*REQUEST_FAILED: no method nope/);
    assert.match(await runExample(app, 'file-transfer', env), /2 files sent, hashes match/);

    // The CLI of the client install: client commands load; `server` says what to install.
    const cli = join(app, 'node_modules/buddylink/dist/src/cli/main.js');
    assert.match((await run(process.execPath, [cli, '--help'])).stdout, /buddylink/);
    const serverRun = await run(process.execPath, [cli, 'server', '--port', '0', '--stun-port', '0']).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    assert.notEqual(serverRun.code, 0);
    assert.match(serverRun.stderr, /npm install better-sqlite3 pino prom-client/);
  } finally {
    await server?.close();
    await rm(work, { recursive: true, force: true });
    if (withServer) await rm(withServer, { recursive: true, force: true });
  }
});
