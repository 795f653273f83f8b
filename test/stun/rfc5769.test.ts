import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AttributeType,
  BINDING_REQUEST,
  BINDING_SUCCESS_RESPONSE,
  decodeSoftware,
  decodeStunMessage,
  decodeUsername,
  decodeXorMappedAddress,
  findAttribute,
  longTermKey,
  StunClass,
  shortTermKey,
  verifyMessageIntegrity,
} from '../../src/stun/index.js';
import * as vectors from './rfc5769-vectors.js';

test('RFC 5769 §2.1 sample request decodes with a valid FINGERPRINT and MESSAGE-INTEGRITY', () => {
  const message = decodeStunMessage(vectors.sampleRequest);
  assert.equal(message.type, BINDING_REQUEST);
  assert.equal(message.messageClass, StunClass.request);
  assert.ok(message.transactionId.equals(vectors.transactionId));
  assert.equal(message.hasFingerprint, true);
  assert.deepEqual(message.unknownRequired, []);
  assert.equal(
    decodeSoftware(findAttribute(message, AttributeType.software)!),
    vectors.sampleRequestSoftware,
  );
  assert.equal(
    decodeUsername(findAttribute(message, AttributeType.username)!),
    vectors.sampleRequestUsername,
  );
  assert.ok(findAttribute(message, AttributeType.priority));
  assert.ok(findAttribute(message, AttributeType.iceControlled));
  assert.equal(verifyMessageIntegrity(message, shortTermKey(vectors.sampleRequestPassword)), true);
  assert.equal(verifyMessageIntegrity(message, shortTermKey('wrong password')), false);
});

test('RFC 5769 §2.2 IPv4 response yields 192.0.2.1:32853 with valid checks', () => {
  const message = decodeStunMessage(vectors.sampleIpv4Response);
  assert.equal(message.type, BINDING_SUCCESS_RESPONSE);
  assert.equal(message.hasFingerprint, true);
  assert.equal(
    decodeSoftware(findAttribute(message, AttributeType.software)!),
    vectors.sampleResponseSoftware,
  );
  const mapped = decodeXorMappedAddress(
    findAttribute(message, AttributeType.xorMappedAddress)!,
    message.transactionId,
  );
  assert.deepEqual(mapped, { ...vectors.mappedIpv4, family: 4 });
  assert.equal(verifyMessageIntegrity(message, shortTermKey(vectors.sampleRequestPassword)), true);
});

test('RFC 5769 §2.3 IPv6 response yields [2001:db8:1234:5678:11:2233:4455:6677]:32853 with valid checks', () => {
  const message = decodeStunMessage(vectors.sampleIpv6Response);
  assert.equal(message.type, BINDING_SUCCESS_RESPONSE);
  assert.equal(message.hasFingerprint, true);
  const mapped = decodeXorMappedAddress(
    findAttribute(message, AttributeType.xorMappedAddress)!,
    message.transactionId,
  );
  assert.deepEqual(mapped, { ...vectors.mappedIpv6, family: 6 });
  assert.equal(verifyMessageIntegrity(message, shortTermKey(vectors.sampleRequestPassword)), true);
});

test('RFC 5769 §2.4 long-term request decodes and its MESSAGE-INTEGRITY verifies with the MD5 key', () => {
  const message = decodeStunMessage(vectors.longTermRequest);
  assert.equal(message.type, BINDING_REQUEST);
  assert.equal(message.hasFingerprint, false);
  assert.equal(decodeUsername(findAttribute(message, AttributeType.username)!), vectors.longTermUsername);
  assert.equal(findAttribute(message, AttributeType.realm)!.value.toString('utf8'), vectors.longTermRealm);
  assert.equal(findAttribute(message, AttributeType.nonce)!.value.toString('utf8'), vectors.longTermNonce);
  const key = longTermKey(vectors.longTermUsername, vectors.longTermRealm, vectors.longTermPassword);
  assert.equal(verifyMessageIntegrity(message, key), true);
});

test('a single flipped bit in an RFC 5769 vector fails its FINGERPRINT with a typed error', () => {
  const corrupted = Buffer.from(vectors.sampleIpv4Response);
  corrupted[30] = (corrupted[30] ?? 0) ^ 0x01;
  assert.throws(() => decodeStunMessage(corrupted), { name: 'StunError', code: 'STUN_BAD_FINGERPRINT' });
});
