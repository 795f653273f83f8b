import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

/** The file every tool sends: random bytes (nothing compresses it), written once, hashed once. */

export interface TestFile {
  path: string;
  bytes: number;
  sha256: string;
}

const BLOCK_BYTES = 4 * 1024 * 1024;

export async function writeTestFile(path: string, bytes: number): Promise<TestFile> {
  const handle = await open(path, 'w');
  try {
    for (let left = bytes; left > 0; left -= BLOCK_BYTES)
      await handle.write(randomBytes(Math.min(left, BLOCK_BYTES)));
  } finally {
    await handle.close();
  }
  return { path, bytes, sha256: await sha256OfFile(path) };
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: BLOCK_BYTES }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}
