import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Home, IDENTITY_FILE } from '../../src/client/home.js';

test('a home made 0777 beforehand is tightened to 0700 (files 0600) with a warning before the key is read', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'buddylink-home-'));
  try {
    await chmod(dir, 0o777);
    const first = new Home(dir, () => {});
    const pair = await first.keyPair();
    await chmod(join(dir, IDENTITY_FILE), 0o644);
    await chmod(dir, 0o777);
    const warnings: string[] = [];
    const home = new Home(dir, (m) => warnings.push(m));
    assert.deepEqual((await home.keyPair()).publicKey, pair.publicKey);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, IDENTITY_FILE))).mode & 0o777, 0o600);
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[0] ?? '', /was 0777; made 0700/);
    // A private home says nothing.
    const quiet: string[] = [];
    await new Home(dir, (m) => quiet.push(m)).session();
    assert.deepEqual(quiet, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a fresh home is created 0700 whatever the umask', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'buddylink-home-'));
  const old = process.umask(0);
  try {
    const dir = join(parent, 'nested', 'home');
    await new Home(dir, () => assert.fail('no warning for a home we made')).keyPair();
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
  } finally {
    process.umask(old);
    await rm(parent, { recursive: true, force: true });
  }
});
