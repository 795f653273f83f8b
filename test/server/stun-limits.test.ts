import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AttributeType,
  createBindingRequest,
  decodeStunMessage,
  decodeXorMappedAddress,
  findAttribute,
} from '../../src/stun/index.js';
import { UdpProbe } from '../stun/udp-probe.js';
import { withServer } from './helpers.js';

test('a STUN flood from one source is dropped beyond its bucket; another source is answered', async () => {
  await withServer({ stunRequestsPerSecond: 10, stunBurst: 20 }, async (server) => {
    const flooder = await UdpProbe.open(4, '127.0.0.2');
    const other = await UdpProbe.open(4, '127.0.0.3');
    try {
      for (let i = 0; i < 300; i++)
        await flooder.send(createBindingRequest().packet, server.stun.port, '127.0.0.1');
      let answers = 0;
      while ((await flooder.next(300)) !== null) answers++;
      assert.ok(
        answers >= 20 && answers <= 40,
        `the burst and a little refill answered, the rest dropped: ${answers}`,
      );
      const answer = await other.exchange(createBindingRequest().packet, server.stun.port, '127.0.0.1');
      assert.ok(answer, 'another source is answered meanwhile');
      const metrics = await (await fetch(`${server.urls.http}/metrics`)).text();
      assert.match(metrics, /buddylink_stun_requests_total\{outcome="limited"\} (2[6-9]\d|2[5-9]\d)/);
    } finally {
      await flooder.close();
      await other.close();
    }
  });
});

test('STUN answers are no larger than needed: XOR-MAPPED-ADDRESS only, MAPPED-ADDRESS as an option', async () => {
  for (const [family, host] of [
    [4, '127.0.0.1'],
    [6, '::1'],
  ] as const) {
    for (const stunMappedAddress of [false, true]) {
      await withServer({ host, stunMappedAddress, stunAlternate: false }, async (server) => {
        const probe = await UdpProbe.open(family);
        try {
          const { packet, transactionId } = createBindingRequest();
          const answer = await probe.exchange(packet, server.stun.port, host);
          assert.ok(answer);
          const message = decodeStunMessage(answer);
          const xor = findAttribute(message, AttributeType.xorMappedAddress);
          assert.ok(xor);
          assert.equal(decodeXorMappedAddress(xor, transactionId).port, probe.port);
          assert.equal(findAttribute(message, AttributeType.software), undefined, 'no SOFTWARE by default');
          assert.equal(findAttribute(message, AttributeType.mappedAddress) !== undefined, stunMappedAddress);
          const expected = 20 + (family === 4 ? 12 : 24) * (stunMappedAddress ? 2 : 1) + 8;
          assert.equal(
            answer.length,
            expected,
            `IPv${family}: ${answer.length} bytes for a ${packet.length}-byte request`,
          );
        } finally {
          await probe.close();
        }
      });
    }
  }
});
