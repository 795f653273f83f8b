import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import {
  bindingRetransmitDelays,
  createBindingRequest,
  decodeStunMessage,
  isStunMessage,
  queryStun,
  readBindingResponse,
  StunError,
  startStunServer,
} from '../../src/stun/index.js';
import { sampleIpv4Response, transactionId as vectorTransactionId } from './rfc5769-vectors.js';

test('a Binding request carries a fresh 96-bit transaction id and a valid FINGERPRINT', () => {
  const first = createBindingRequest();
  const second = createBindingRequest();
  assert.equal(first.transactionId.length, 12);
  assert.ok(!first.transactionId.equals(second.transactionId));
  assert.equal(decodeStunMessage(first.packet).hasFingerprint, true);
  assert.ok(isStunMessage(first.packet));
});

test('isStunMessage tells STUN from other traffic on a shared socket', () => {
  assert.equal(isStunMessage(sampleIpv4Response), true);
  assert.equal(isStunMessage(Buffer.from('hello, this is not STUN at all')), false);
  assert.equal(isStunMessage(Buffer.alloc(0)), false);
  const wrongLength = Buffer.from(sampleIpv4Response);
  wrongLength.writeUInt16BE(8, 2);
  assert.equal(isStunMessage(wrongLength), false);
});

test('readBindingResponse returns the mapped address only for its own transaction', () => {
  assert.deepEqual(readBindingResponse(sampleIpv4Response, vectorTransactionId), {
    host: '192.0.2.1',
    port: 32853,
  });
  assert.equal(readBindingResponse(sampleIpv4Response, createBindingRequest().transactionId), null);
  assert.equal(readBindingResponse(Buffer.from('junk'), vectorTransactionId), null);
});

test('retransmission follows RFC 8489 §6.2.1: doubling RTO, last wait Rm × RTO, 39.5 s in all', () => {
  const delays = bindingRetransmitDelays();
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 8000]);
  assert.equal(
    delays.reduce((a, b) => a + b, 0),
    39_500,
  );
});

test('queryStun learns the reflexive address over IPv4 and IPv6', async () => {
  const server = await startStunServer({ host: '::', port: 0 });
  try {
    const v4 = await queryStun({ host: '127.0.0.1', port: server.port }, { localPort: 0 });
    assert.equal(v4.host, '127.0.0.1');
    assert.ok(v4.port > 0);
    const v6 = await queryStun({ host: '::1', port: server.port });
    assert.equal(v6.host, '::1');
  } finally {
    await server.close();
  }
});

test('queryStun retransmits when the first request is lost', async () => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0 });
  // A lossy hop on loopback: swallows the first datagram, forwards the rest both ways.
  const hop = createSocket('udp4');
  await new Promise<void>((resolve) => hop.bind(0, '127.0.0.1', resolve));
  let seen = 0;
  let clientPort = 0;
  hop.on('message', (packet, remote) => {
    if (remote.port === server.port) {
      hop.send(packet, clientPort, '127.0.0.1');
      return;
    }
    clientPort = remote.port;
    if (seen++ === 0) return;
    hop.send(packet, server.port, '127.0.0.1');
  });
  try {
    const mapped = await queryStun(
      { host: '127.0.0.1', port: hop.address().port },
      { rtoMs: 50, timeoutMs: 2000 },
    );
    assert.equal(seen >= 2, true, 'a retransmission was sent');
    assert.equal(mapped.host, '127.0.0.1');
  } finally {
    hop.close();
    await server.close();
  }
});

test('queryStun gives up with STUN_TIMEOUT when nobody answers', async () => {
  const silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  try {
    await assert.rejects(
      queryStun({ host: '127.0.0.1', port: silent.address().port }, { rtoMs: 20, retries: 2 }),
      (error: unknown) => error instanceof StunError && error.code === 'STUN_TIMEOUT',
    );
  } finally {
    silent.close();
  }
});
