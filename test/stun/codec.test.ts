import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import {
  AttributeType,
  BINDING_ERROR_RESPONSE,
  BINDING_REQUEST,
  BINDING_SUCCESS_RESPONSE,
  crc32,
  decodeErrorCode,
  decodeMappedAddress,
  decodeSoftware,
  decodeStunMessage,
  decodeUnknownAttributes,
  decodeUsername,
  decodeXorMappedAddress,
  encodeErrorCode,
  encodeMappedAddress,
  encodeSoftware,
  encodeStunMessage,
  encodeUnknownAttributes,
  encodeUsername,
  encodeXorMappedAddress,
  findAttribute,
  ipText,
  messageType,
  methodOf,
  StunClass,
  shortTermKey,
  verifyMessageIntegrity,
} from '../../src/stun/index.js';

test('CRC-32 matches the standard check value and zlib', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  const nodeCrc = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;
  for (let i = 0; i < 50; i++) {
    const bytes = randomBytes(i * 7);
    if (nodeCrc) assert.equal(crc32(bytes), nodeCrc(bytes));
  }
});

test('message type bits interleave method and class as RFC 8489 §5 draws them', () => {
  assert.equal(messageType(0x001, StunClass.request), BINDING_REQUEST);
  assert.equal(messageType(0x001, StunClass.successResponse), BINDING_SUCCESS_RESPONSE);
  assert.equal(messageType(0x001, StunClass.errorResponse), BINDING_ERROR_RESPONSE);
  assert.equal(messageType(0x001, StunClass.indication), 0x0011);
  for (const method of [0x001, 0x003, 0x00b, 0xfff]) {
    for (const cls of Object.values(StunClass)) assert.equal(methodOf(messageType(method, cls)), method);
  }
});

test('a response with every attribute survives encode then decode unchanged', () => {
  const transactionId = randomBytes(12);
  const key = shortTermKey('secret');
  for (const [host, port] of [
    ['203.0.113.9', 4500],
    ['2001:db8::1', 65535],
    ['::1', 1],
    ['::ffff:198.51.100.7', 3478],
  ] as const) {
    const packet = encodeStunMessage(
      {
        type: BINDING_SUCCESS_RESPONSE,
        transactionId,
        attributes: [
          encodeXorMappedAddress(host, port, transactionId),
          encodeMappedAddress(host, port),
          encodeSoftware('buddylink tests ✓'),
          encodeUsername('alice:bob'),
        ],
      },
      { integrityKey: key, fingerprint: true },
    );
    assert.equal(packet.length % 4, 0);
    const message = decodeStunMessage(packet);
    const expectedHost = host.startsWith('::ffff:') ? host.slice(7) : host;
    assert.equal(message.hasFingerprint, true);
    assert.ok(message.transactionId.equals(transactionId));
    const xor = decodeXorMappedAddress(
      findAttribute(message, AttributeType.xorMappedAddress)!,
      transactionId,
    );
    assert.deepEqual({ host: xor.host, port: xor.port }, { host: expectedHost, port });
    const plain = decodeMappedAddress(findAttribute(message, AttributeType.mappedAddress)!);
    assert.deepEqual({ host: plain.host, port: plain.port }, { host: expectedHost, port });
    assert.equal(decodeSoftware(findAttribute(message, AttributeType.software)!), 'buddylink tests ✓');
    assert.equal(decodeUsername(findAttribute(message, AttributeType.username)!), 'alice:bob');
    assert.equal(verifyMessageIntegrity(message, key), true);
  }
});

test('ERROR-CODE and UNKNOWN-ATTRIBUTES round trip', () => {
  const transactionId = randomBytes(12);
  const packet = encodeStunMessage({
    type: BINDING_ERROR_RESPONSE,
    transactionId,
    attributes: [encodeErrorCode(420, 'Unknown Attribute'), encodeUnknownAttributes([0x0003, 0x7777])],
  });
  const message = decodeStunMessage(packet);
  assert.deepEqual(decodeErrorCode(findAttribute(message, AttributeType.errorCode)!), {
    code: 420,
    reason: 'Unknown Attribute',
  });
  assert.deepEqual(
    decodeUnknownAttributes(findAttribute(message, AttributeType.unknownAttributes)!),
    [3, 0x7777],
  );
});

test('unknown comprehension-required attributes are reported, optional ones are not', () => {
  const packet = encodeStunMessage({
    type: BINDING_REQUEST,
    transactionId: randomBytes(12),
    attributes: [
      { type: 0x7777, value: Buffer.from([1]) },
      { type: 0xc001, value: Buffer.alloc(0) },
    ],
  });
  assert.deepEqual(decodeStunMessage(packet).unknownRequired, [0x7777]);
});

test('attributes after MESSAGE-INTEGRITY other than FINGERPRINT are ignored (RFC 8489 §14.5)', () => {
  const transactionId = randomBytes(12);
  const signed = encodeStunMessage(
    { type: BINDING_REQUEST, transactionId, attributes: [encodeUsername('u')] },
    { integrityKey: shortTermKey('p') },
  );
  const trailing = Buffer.concat([signed, Buffer.from([0x80, 0x22, 0x00, 0x04, 0x61, 0x62, 0x63, 0x64])]);
  trailing.writeUInt16BE(trailing.length - 20, 2);
  const message = decodeStunMessage(trailing);
  assert.equal(findAttribute(message, AttributeType.software), undefined);
  assert.equal(verifyMessageIntegrity(message, shortTermKey('p')), true);
});

test('IPv6 text is printed in RFC 5952 canonical form', () => {
  const bytes = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));
  assert.equal(ipText(bytes('20010db8000000000000000000000001')), '2001:db8::1');
  assert.equal(ipText(bytes('00000000000000000000000000000001')), '::1');
  assert.equal(ipText(bytes('20010db8000000010000000000000000')), '2001:db8:0:1::');
  assert.equal(ipText(bytes('20010db8000100000001000000000001')), '2001:db8:1:0:1::1');
});
