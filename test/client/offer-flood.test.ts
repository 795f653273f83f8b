import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { ANSWER_LIMITS, probeTargetsFor } from '../../src/client/answer-limits.js';
import { createUser, logOnDevice, randomSessionId, type TestClient } from '../server/helpers.js';
import { closeAll, newAccount, nextConnection, startTestServer } from './helpers.js';

test("a buddy's offer flood from three devices neither knocks the victim offline nor aims a flood anywhere", async () => {
  const server = await startTestServer();
  const sink = createSocket('udp4');
  let datagrams = 0;
  sink.on('message', () => datagrams++);
  await new Promise<void>((r) => sink.bind({ address: '127.0.0.5', port: 0 }, r));
  const victim = await newAccount(server, 'victim');
  const friend = await newAccount(server, 'friend');
  const pushy = await createUser(server, 'pushy');
  const devices: TestClient[] = [pushy.client];
  try {
    await pushy.client.ok('buddy.request', { user: 'victim' });
    await victim.acceptBuddy('pushy');
    await friend.requestBuddy('victim');
    await victim.acceptBuddy('friend');
    devices.push(await logOnDevice(server, 'pushy'), await logOnDevice(server, 'pushy'));
    const target = { host: '127.0.0.5', port: sink.address().port };
    // Each device sends within its own request limits (pending and rate), all three at once.
    const replies = (
      await Promise.all(
        devices.map(async (device) => {
          const sent = [];
          for (let i = 0; i < 35; i++)
            sent.push(
              await device.request('signal', {
                to: 'victim',
                body: {
                  session: randomSessionId(),
                  purpose: 'offer',
                  scope: 'local',
                  addresses: [target],
                  streamId: 7,
                },
              }),
            );
          return sent;
        }),
      )
    ).flat();
    assert.ok(
      replies.every((r) => r.ok),
      'all 105 offers were delivered to the victim',
    );
    await new Promise((r) => setTimeout(r, 7000)); // every admitted punch try runs out (maxMs 6 s)
    const answers = devices.flatMap((d) => d.events).filter((e) => e.event === 'signal');
    const answered = answers.filter((e) => (e.body as { purpose: string }).purpose === 'answer').length;
    assert.ok(answered <= ANSWER_LIMITS.sessionsPerBuddy + 4, `${answered} of 105 offers answered`);
    assert.ok(datagrams <= answered * 300, `${datagrams} datagrams reached the named address`);
    // The victim is still logged on and serves another buddy at once.
    assert.ok(Array.isArray(await victim.listBuddies()));
    const incoming = nextConnection(victim);
    const outgoing = await friend.connect('victim');
    assert.equal(outgoing.remoteUser, 'victim');
    (await incoming).destroy();
    outgoing.destroy();
  } finally {
    for (const d of devices) await d.close();
    await closeAll(victim, friend, server);
    sink.close();
  }
});

test('probes go only to addresses that fit the offered scope', () => {
  const at = (host: string) => ({ host, port: 4000 });
  const offered = [
    at('192.168.1.10'),
    at('10.0.2.10'),
    at('203.0.113.10'),
    at('127.0.0.1'),
    at('::1'),
    at('224.0.0.1'),
    at('255.255.255.255'),
    at('0.0.0.0'),
    at('::'),
    at('ff02::1'),
    at('169.254.7.7'),
    at('fe80::1'),
    at('2001:db8:a::10'),
  ];
  const hosts = (scope: 'local' | 'global', loop: boolean) =>
    probeTargetsFor(scope, offered, loop).map((e) => e.host);
  assert.deepEqual(hosts('local', false), [
    '192.168.1.10',
    '10.0.2.10',
    '169.254.7.7',
    'fe80::1',
    '2001:db8:a::10',
  ]);
  assert.deepEqual(hosts('local', true), [
    '192.168.1.10',
    '10.0.2.10',
    '127.0.0.1',
    '::1',
    '169.254.7.7',
    'fe80::1',
    '2001:db8:a::10',
  ]);
  assert.deepEqual(hosts('global', false), ['192.168.1.10', '10.0.2.10', '203.0.113.10', '2001:db8:a::10']);
});
