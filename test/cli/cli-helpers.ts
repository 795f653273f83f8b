import assert from 'node:assert/strict';
import type { RunningServer } from '../../src/server/index.js';
import { PASSWORD, tempDir } from '../client/helpers.js';
import { runCli } from './run-cli.js';

export async function envFor(server: RunningServer): Promise<Record<string, string>> {
  return {
    BUDDYLINK_SERVER: server.urls.ws,
    BUDDYLINK_STUN: server.urls.stun,
    BUDDYLINK_HOME: await tempDir('buddylink-cli-'),
    BUDDYLINK_PASSWORD: PASSWORD,
  };
}

/** alice and bob with accounts made and accepted through the CLI itself. */
export async function cliBuddies(
  server: RunningServer,
): Promise<{ alice: Record<string, string>; bob: Record<string, string> }> {
  const alice = await envFor(server);
  const bob = await envFor(server);
  for (const [env, user] of [
    [alice, 'alice'],
    [bob, 'bob'],
  ] as const) {
    const created = await runCli(['--json', 'account', 'create', user], env);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.events[0]?.event, 'account');
    assert.equal(created.events[0]?.user, user);
  }
  const added = await runCli(['buddy', 'add', 'bob', '--json'], alice);
  assert.equal(added.code, 0, added.stderr);
  assert.deepEqual(added.events[0], { event: 'buddy', action: 'add', user: 'bob', state: 'requested' });
  const accepted = await runCli(['buddy', 'accept', 'alice', '--json'], bob);
  assert.equal(accepted.code, 0, accepted.stderr);
  assert.equal(accepted.events[0]?.event, 'buddy');
  return { alice, bob };
}

export interface Running {
  child: import('node:child_process').ChildProcess;
  done: Promise<import('./run-cli.js').CliResult>;
}

/** `receive … --json` started for `env`, resolved once it says it is ready. */
export async function startReceiver(env: Record<string, string>, args: string[]): Promise<Running> {
  const { collect, startCli, waitForEvent } = await import('./run-cli.js');
  const child = startCli(['receive', '--json', ...args], env);
  const done = collect(child, performance.now(), 60_000);
  await waitForEvent(child, 'ready', 20_000);
  return { child, done };
}

/** No stack trace reached the user: no `    at …` frames, no Node error banners. */
export function assertNoStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at .+:\d+:\d+\)?$/m, stderr);
  assert.doesNotMatch(stderr, /node:internal|Unhandled 'error' event|Error \[ERR_/, stderr);
}
