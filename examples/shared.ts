// Helpers the examples share: two buddies in one process against the server named by the environment.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'buddylink';

export const server = process.env.BUDDYLINK_SERVER ?? 'ws://127.0.0.1:7070';
const stun = process.env.BUDDYLINK_STUN;

/** Creates two fresh accounts that are buddies of each other. Both listen for connections. */
export async function twoBuddies(): Promise<[Client, Client]> {
  const tag = Math.random().toString(36).slice(2, 8);
  const make = async (name: string) =>
    Client.createAccount({
      server,
      ...(stun ? { stun } : {}),
      user: `${name}-${tag}`,
      password: 'example password 1',
      home: await mkdtemp(join(tmpdir(), 'buddylink-example-')),
      listen: true,
    });
  const alice = await make('alice');
  const bob = await make('bob');
  await alice.requestBuddy(bob.user);
  await bob.acceptBuddy(alice.user);
  return [alice, bob];
}
