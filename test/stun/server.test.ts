import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  AttributeType,
  BINDING_ERROR_RESPONSE,
  BINDING_INDICATION,
  BINDING_SUCCESS_RESPONSE,
  createBindingRequest,
  decodeErrorCode,
  decodeMappedAddress,
  decodeSoftware,
  decodeStunMessage,
  decodeUnknownAttributes,
  decodeXorMappedAddress,
  encodeStunMessage,
  findAttribute,
  startStunServer,
} from '../../src/stun/index.js';
import { sampleRequest } from './rfc5769-vectors.js';
import { UdpProbe } from './udp-probe.js';

async function bindingAnswer(serverPort: number, family: 4 | 6, serverHost: string) {
  const probe = await UdpProbe.open(family);
  try {
    const { transactionId, packet } = createBindingRequest();
    const answer = await probe.exchange(packet, serverPort, serverHost);
    assert.ok(answer, 'the server answered');
    const message = decodeStunMessage(answer);
    assert.ok(message.transactionId.equals(transactionId));
    return { message, probePort: probe.port };
  } finally {
    await probe.close();
  }
}

test('an IPv4 client learns its own address and port from XOR-MAPPED-ADDRESS and MAPPED-ADDRESS', async () => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, software: 'buddylink test' });
  try {
    const { message, probePort } = await bindingAnswer(server.port, 4, '127.0.0.1');
    assert.equal(message.type, BINDING_SUCCESS_RESPONSE);
    assert.equal(message.hasFingerprint, true, 'FINGERPRINT present and valid');
    const xor = decodeXorMappedAddress(
      findAttribute(message, AttributeType.xorMappedAddress)!,
      message.transactionId,
    );
    assert.deepEqual(xor, { host: '127.0.0.1', port: probePort, family: 4 });
    const plain = decodeMappedAddress(findAttribute(message, AttributeType.mappedAddress)!);
    assert.deepEqual(plain, { host: '127.0.0.1', port: probePort, family: 4 });
    assert.equal(decodeSoftware(findAttribute(message, AttributeType.software)!), 'buddylink test');
  } finally {
    await server.close();
  }
});

test('an IPv6 client on ::1 learns [::1] and its port', async () => {
  const server = await startStunServer({ host: '::1', port: 0 });
  try {
    const { message, probePort } = await bindingAnswer(server.port, 6, '::1');
    const xor = decodeXorMappedAddress(
      findAttribute(message, AttributeType.xorMappedAddress)!,
      message.transactionId,
    );
    assert.deepEqual(xor, { host: '::1', port: probePort, family: 6 });
  } finally {
    await server.close();
  }
});

test('a dual-stack server on :: answers IPv4 clients with an IPv4 address, not ::ffff:', async () => {
  const server = await startStunServer({ host: '::', port: 0 });
  try {
    const v4 = await bindingAnswer(server.port, 4, '127.0.0.1');
    const xor4 = decodeXorMappedAddress(
      findAttribute(v4.message, AttributeType.xorMappedAddress)!,
      v4.message.transactionId,
    );
    assert.deepEqual(xor4, { host: '127.0.0.1', port: v4.probePort, family: 4 });
    const v6 = await bindingAnswer(server.port, 6, '::1');
    const xor6 = decodeXorMappedAddress(
      findAttribute(v6.message, AttributeType.xorMappedAddress)!,
      v6.message.transactionId,
    );
    assert.deepEqual(xor6, { host: '::1', port: v6.probePort, family: 6 });
  } finally {
    await server.close();
  }
});

test('the RFC 5769 sample request (ICE attributes, integrity) is answered', async () => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0 });
  const probe = await UdpProbe.open(4);
  try {
    const answer = await probe.exchange(sampleRequest, server.port, '127.0.0.1');
    assert.ok(answer);
    assert.equal(decodeStunMessage(answer).type, BINDING_SUCCESS_RESPONSE);
  } finally {
    await probe.close();
    await server.close();
  }
});

test('indications, responses and other methods get no answer and count as dropped', async () => {
  const outcomes = { answered: 0, dropped: 0, limited: 0 };
  const server = await startStunServer({ host: '127.0.0.1', port: 0, onBinding: (o) => outcomes[o]++ });
  const probe = await UdpProbe.open(4);
  try {
    for (const type of [BINDING_INDICATION, BINDING_SUCCESS_RESPONSE, 0x0003 /* TURN Allocate */]) {
      const packet = encodeStunMessage(
        { type, transactionId: randomBytes(12), attributes: [] },
        { fingerprint: true },
      );
      assert.equal(await probe.exchange(packet, server.port, '127.0.0.1', 150), null);
    }
    assert.deepEqual(outcomes, { answered: 0, dropped: 3, limited: 0 });
  } finally {
    await probe.close();
    await server.close();
  }
});

test('a request with an unknown comprehension-required attribute gets 420 listing it (RFC 8489 §6.3.1.1)', async () => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0 });
  const probe = await UdpProbe.open(4);
  try {
    const transactionId = randomBytes(12);
    const packet = encodeStunMessage({
      type: 0x0001,
      transactionId,
      attributes: [{ type: 0x0003, value: Buffer.alloc(4) } /* CHANGE-REQUEST, not supported */],
    });
    const answer = await probe.exchange(packet, server.port, '127.0.0.1');
    assert.ok(answer);
    const message = decodeStunMessage(answer);
    assert.equal(message.type, BINDING_ERROR_RESPONSE);
    assert.ok(message.transactionId.equals(transactionId));
    assert.equal(decodeErrorCode(findAttribute(message, AttributeType.errorCode)!).code, 420);
    assert.deepEqual(
      decodeUnknownAttributes(findAttribute(message, AttributeType.unknownAttributes)!),
      [0x0003],
    );
  } finally {
    await probe.close();
    await server.close();
  }
});

test('closing the server frees its port and is idempotent', async () => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0 });
  await Promise.all([server.close(), server.close()]);
  const again = await startStunServer({ host: '127.0.0.1', port: server.port });
  await again.close();
});

test('starting on a port already in use rejects instead of crashing', async () => {
  const first = await startStunServer({ host: '127.0.0.1', port: 0 });
  try {
    await assert.rejects(startStunServer({ host: '127.0.0.1', port: first.port }), /EADDRINUSE|in use/);
  } finally {
    await first.close();
  }
});
