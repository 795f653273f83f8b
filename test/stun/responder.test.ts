import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  BINDING_REQUEST,
  BINDING_SUCCESS_RESPONSE,
  createBindingRequest,
  encodeMappedAddress,
  encodeSoftware,
  encodeStunMessage,
  encodeXorMappedAddress,
} from '../../src/stun/index.js';
import { BindingResponder } from '../../src/stun/responder.js';

test("the server's fast answer is byte for byte what the general encoder builds", () => {
  for (const software of ['buddylink', 'x', '']) {
    const responder = new BindingResponder(software);
    for (const [ip, expectedHost] of [
      ['192.0.2.1', '192.0.2.1'],
      ['::ffff:198.51.100.20', '198.51.100.20'],
      ['2001:db8:1234:5678:11:2233:4455:6677', '2001:db8:1234:5678:11:2233:4455:6677'],
      ['::1', '::1'],
    ] as const) {
      for (const port of [1, 3478, 65535]) {
        const { transactionId, packet } = createBindingRequest();
        const answer = responder.answer(packet, ip, port);
        const attributes = [
          encodeXorMappedAddress(expectedHost, port, transactionId),
          encodeMappedAddress(expectedHost, port),
        ];
        if (software !== '') attributes.push(encodeSoftware(software));
        const expected = encodeStunMessage(
          { type: BINDING_SUCCESS_RESPONSE, transactionId, attributes },
          { fingerprint: true },
        );
        assert.ok(answer?.equals(expected), `${software} ${ip} ${port}`);
      }
    }
  }
});

test('a Binding request without FINGERPRINT is answered too (FINGERPRINT is optional, RFC 8489 §7)', () => {
  const responder = new BindingResponder('buddylink');
  const packet = encodeStunMessage({ type: BINDING_REQUEST, transactionId: randomBytes(12), attributes: [] });
  assert.ok(responder.answer(packet, '127.0.0.1', 5000));
});

test('a source that is not an IP literal gets no answer', () => {
  const responder = new BindingResponder('buddylink');
  assert.equal(responder.answer(createBindingRequest().packet, 'not-an-ip', 5000), null);
});
