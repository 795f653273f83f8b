// File transfer: each file on its own stream (own flow control), checked by hash at the other end.
import { createHash, randomBytes } from 'node:crypto';
import { Mux, type MuxStream } from 'buddylink';
import { twoBuddies } from './shared.js';

const [alice, bob] = await twoBuddies();
const files = [randomBytes(3 * 1024 * 1024), randomBytes(200_000)];
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Reads a stream to its end without destroying it (a plain `for await` would, before our reply). */
async function readAll(stream: MuxStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

bob.on('connection', (connection) => {
  new Mux(connection).on('stream', async (stream) => {
    const received = await readAll(stream);
    stream.end(sha(received)); // the receipt: the hash of what arrived
  });
});

const mux = new Mux(await alice.connect(bob.user));
const receipts = await Promise.all(
  files.map(async (file) => {
    const stream = mux.openStream();
    stream.end(file);
    return (await readAll(stream)).toString();
  }),
);
const ok = receipts.every((receipt, i) => receipt === sha(files[i] as Buffer));
console.log(`${files.length} files sent, hashes ${ok ? 'match' : 'DIFFER'}`);
await mux.close();
await alice.close();
await bob.close();
if (!ok) process.exitCode = 1;
