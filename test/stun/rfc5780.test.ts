import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { test } from 'node:test';
import {
  AttributeType,
  BINDING_ERROR_RESPONSE,
  createBindingRequest,
  decodeErrorCode,
  decodeStunMessage,
  decodeUnknownAttributes,
  encodeStunMessage,
  findAttribute,
  readBindingAnswer,
  startStunServer,
} from '../../src/stun/index.js';

/** Sends one datagram from a fresh loopback socket; the first answer and where it came from. */
async function exchange(packet: Buffer, port: number): Promise<{ answer: Buffer; from: RemoteInfo } | null> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), 1000);
      socket.once('message', (answer, from) => {
        clearTimeout(timer);
        resolve({ answer, from });
      });
      socket.send(packet, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

test('each STUN port names the other in OTHER-ADDRESS, so a client can compare two mappings (RFC 5780 §7.4)', async () => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, alternatePort: 0 });
  try {
    assert.ok(server.alternatePort && server.alternatePort !== server.port);
    for (const [asked, other] of [
      [server.port, server.alternatePort],
      [server.alternatePort, server.port],
    ] as const) {
      const { transactionId, packet } = createBindingRequest();
      const got = await exchange(packet, asked);
      assert.ok(got, `port ${asked} answered`);
      assert.equal(got.from.port, asked);
      const answer = readBindingAnswer(got.answer, transactionId);
      assert.ok(answer);
      assert.equal(answer.mapped.host, '127.0.0.1');
      assert.deepEqual(answer.otherAddress, { host: '127.0.0.1', port: other });
    }
  } finally {
    await server.close();
  }
});

test('CHANGE-REQUEST "change port" is answered from the other port; without a second port it gets 420', async () => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, alternatePort: 0 });
  const single = await startStunServer({ host: '127.0.0.1', port: 0 });
  try {
    const { transactionId, packet } = createBindingRequest({ changePort: true });
    const got = await exchange(packet, server.port);
    assert.ok(got);
    assert.equal(got.from.port, server.alternatePort, 'the answer left from the alternate port');
    assert.ok(readBindingAnswer(got.answer, transactionId));

    const refused = await exchange(createBindingRequest({ changePort: true }).packet, single.port);
    assert.ok(refused);
    assert.equal(refused.from.port, single.port);
    assert.equal(decodeStunMessage(refused.answer).type, BINDING_ERROR_RESPONSE);
    assert.equal(single.alternatePort, undefined);
  } finally {
    await Promise.all([server.close(), single.close()]);
  }
});

test('CHANGE-REQUEST "change IP" gets 420 listing CHANGE-REQUEST: the server has one address only', async () => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, alternatePort: 0 });
  try {
    const transactionId = randomBytes(12);
    const packet = encodeStunMessage({
      type: 0x0001,
      transactionId,
      attributes: [{ type: AttributeType.changeRequest, value: Buffer.from([0, 0, 0, 0x06]) }],
    });
    const got = await exchange(packet, server.port);
    assert.ok(got);
    const message = decodeStunMessage(got.answer);
    assert.equal(message.type, BINDING_ERROR_RESPONSE);
    assert.equal(decodeErrorCode(findAttribute(message, AttributeType.errorCode)!).code, 420);
    assert.deepEqual(decodeUnknownAttributes(findAttribute(message, AttributeType.unknownAttributes)!), [
      AttributeType.changeRequest,
    ]);
    // A malformed CHANGE-REQUEST (wrong length) is not understood either.
    const bad = encodeStunMessage({
      type: 0x0001,
      transactionId,
      attributes: [{ type: AttributeType.changeRequest, value: Buffer.from([0, 2]) }],
    });
    const badAnswer = await exchange(bad, server.port);
    assert.ok(badAnswer);
    assert.equal(badAnswer.from.port, server.port);
    assert.equal(decodeStunMessage(badAnswer.answer).type, BINDING_ERROR_RESPONSE);
  } finally {
    await server.close();
  }
});
