import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SessionHost } from '../../src/client/session/host.js';
import { type PathMove, Session } from '../../src/client/session/session.js';
import { randomPayload, sha256 } from './helpers.js';
import { keyPair, noisePair, waitUntil } from './session-helpers.js';

const BYTES = 24 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** Writes `payload` in chunks (honouring back-pressure), calling `at` with each third done; then ends. */
async function writeInThirds(
  stream: Session,
  payload: Buffer,
  at: (third: number) => Promise<void>,
): Promise<void> {
  let third = 1;
  for (let offset = 0; offset < payload.length; offset += CHUNK) {
    if (offset >= (payload.length * third) / 3 && third < 3) await at(third++);
    if (!stream.write(payload.subarray(offset, offset + CHUNK))) {
      await new Promise((resolve) => stream.once('drain', resolve));
    }
  }
  stream.end();
}

function readAll(stream: Session): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

test('a session moves to a better path, then survives a cut one, and both directions arrive whole and in order', async () => {
  const alice = keyPair();
  const bob = keyPair();
  const host = new SessionHost<Session>(5000);
  const started = performance.now();
  const initiator = new Session({ initiator: true, nonce: randomBytes(16), started });
  let responder: Session | undefined;
  const joined = async (stream: import('node:stream').Duplex, path: 'relay' | 'internet' | 'lan') => {
    const made = await host.accept(
      { carrier: { path, stream }, initiatorKey: alice.publicKey, responderKey: bob.publicKey, path },
      (nonce) => new Session({ initiator: false, nonce, started }),
    );
    responder ??= made;
  };
  const [a1, b1] = await noisePair(alice, bob);
  assert.ok(initiator.offer({ path: 'relay', stream: a1 }));
  await joined(b1, 'relay');
  assert.ok(responder);
  const moves: PathMove[] = [];
  const responderMoves: PathMove[] = [];
  initiator.on('path', (move: PathMove) => moves.push(move));
  responder.on('path', (move: PathMove) => responderMoves.push(move));

  const fromAlice = randomPayload(BYTES);
  const fromBob = randomPayload(BYTES);
  const atBob = readAll(responder);
  const atAlice = readAll(initiator);
  const switches = async (third: number) => {
    if (third === 1) {
      // A better path is proven: make before break, the relay lets go.
      const [a2, b2] = await noisePair(alice, bob);
      assert.ok(initiator.offer({ path: 'internet', stream: a2 }));
      await joined(b2, 'internet');
      await waitUntil(() => initiator.path === 'internet', 'the move to internet');
    } else {
      // The carrying path dies under the bytes in flight: a new one takes them all again.
      const lost = new Promise((resolve) => initiator.once('lost', resolve));
      initiator.carrierStream?.destroy();
      await lost;
      const [a3, b3] = await noisePair(alice, bob);
      assert.ok(initiator.offer({ path: 'lan', stream: a3 }));
      await joined(b3, 'lan');
    }
  };
  await Promise.all([
    writeInThirds(initiator, fromAlice, switches),
    writeInThirds(responder, fromBob, async () => {}),
  ]);
  const [gotBob, gotAlice] = await Promise.all([atBob, atAlice]);
  assert.equal(gotBob.length, BYTES);
  assert.equal(sha256(gotBob), sha256(fromAlice));
  assert.equal(gotAlice.length, BYTES);
  assert.equal(sha256(gotAlice), sha256(fromBob));
  assert.deepEqual(
    moves.map((m) => [m.from, m.to]),
    [
      ['relay', 'internet'],
      ['internet', 'lan'],
    ],
  );
  assert.deepEqual(
    responderMoves.map((m) => [m.from, m.to]),
    [
      ['relay', 'internet'],
      ['internet', 'lan'],
    ],
  );
  assert.deepEqual(
    initiator.paths.map((p) => p.path),
    ['relay', 'internet', 'lan'],
  );
  // Every byte was carried by some path; a retransmit after the cut may count twice, never less.
  const carried = initiator.paths.reduce((sum, p) => sum + p.bytes, 0);
  assert.ok(carried >= 2 * BYTES, `the paths carried ${carried} bytes`);
  initiator.destroy();
  responder.destroy();
});

test('a path whose HELLO names another session, or comes from another key, is refused', async () => {
  const alice = keyPair();
  const bob = keyPair();
  const carol = keyPair();
  const host = new SessionHost<Session>(5000);
  const started = performance.now();
  const accept = (stream: import('node:stream').Duplex, initiatorKey: Buffer) =>
    host.accept(
      { carrier: { path: 'internet', stream }, initiatorKey, responderKey: bob.publicKey, path: 'internet' },
      (nonce) => new Session({ initiator: false, nonce, started }),
    );
  // Alice's running session with Bob.
  const session = new Session({ initiator: true, nonce: randomBytes(16), started });
  const [a1, b1] = await noisePair(alice, bob);
  session.offer({ path: 'relay', stream: a1 });
  const running = await accept(b1, alice.publicKey);
  assert.ok(running);
  session.write('hello');
  // Another session of Alice's (another nonce) tries to bring its path into this one: refused.
  const other = new Session({ initiator: true, nonce: randomBytes(16), started });
  const [a2, b2] = await noisePair(alice, bob);
  other.offer({ path: 'relay', stream: a2 });
  const otherAtBob = await accept(b2, alice.publicKey); // a new session of its own, not this one
  assert.ok(otherAtBob && otherAtBob !== running);
  const [a3, b3] = await noisePair(alice, bob);
  const splice = new Session({ initiator: true, nonce: other.nonce, started });
  // Carol knows Alice's nonce and proves her own key: her path names another id, so it is refused.
  const [c4, b4] = await noisePair(carol, bob);
  const carolsSplice = new Session({ initiator: true, nonce: session.nonce, started });
  (carolsSplice as unknown as { everCarried: boolean }).everCarried = true; // a HELLO that resumes
  carolsSplice.offer({ path: 'internet', stream: c4 });
  await assert.rejects(accept(b4, carol.publicKey), { code: 'REFUSED' });
  // A resume HELLO for a session Bob never had under Alice's key: refused too.
  const stranger = new Session({ initiator: true, nonce: randomBytes(16), started });
  (stranger as unknown as { everCarried: boolean }).everCarried = true;
  stranger.offer({ path: 'internet', stream: a3 });
  await assert.rejects(accept(b3, alice.publicKey), { code: 'REFUSED' });
  // The running session still carries on its own path, and the refused paths carried nothing into it.
  const first = await new Promise<Buffer>((resolve) => running.once('data', resolve));
  assert.equal(first.toString(), 'hello');
  assert.deepEqual(
    running.paths.map((p) => p.path),
    ['internet'],
  );
  for (const s of [session, other, splice, carolsSplice, stranger, running, otherAtBob]) s.destroy();
  for (const stream of [a3, b3, c4, b4]) stream.destroy();
});
