import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Part files: where a file grows until its SHA-256 checks. The name is a digest of the sender, the
 * file's path and its size, so the same file sent again by the same buddy finds what arrived before
 * (resume); a different file never does. They live at the top of the receive directory, hidden.
 */
const PREFIX = '.buddylink-';
const SUFFIX = '.part';
/** Parts nobody came back for are removed when `receive` starts. */
export const STALE_PART_MS = 7 * 24 * 3600 * 1000;

export function partPath(root: string, from: string, name: string, bytes: number | null): string {
  const key = createHash('sha256')
    .update(`${from}\0${name}\0${bytes ?? 'stream'}`)
    .digest('hex')
    .slice(0, 32);
  return join(root, `${PREFIX}${key}${SUFFIX}`);
}

export interface Prefix {
  offset: number;
  /** Running hash over the prefix, to continue with the rest. */
  hash: Hash;
  sha256?: string;
}

/** What a part file already holds (hashed), or an empty prefix; a part longer than the file is reset. */
export async function readPrefix(path: string, bytes: number | null): Promise<Prefix> {
  const hash = createHash('sha256');
  const size = await stat(path).then(
    (s) => (s.isFile() ? s.size : 0),
    () => 0,
  );
  if (size === 0 || bytes === null || size > bytes) {
    if (size > 0) await truncate(path, 0).catch(() => {});
    return { offset: 0, hash };
  }
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return { offset: size, hash, sha256: hash.copy().digest('hex') };
}

/** SHA-256 of the first `bytes` of a local file, with the running hash to continue from. */
export async function hashPrefix(path: string, bytes: number): Promise<Hash> {
  const hash = createHash('sha256');
  if (bytes === 0) return hash;
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash;
}

/** Removes part files older than `maxAgeMs`; returns how many. */
export async function sweepStaleParts(root: string, maxAgeMs = STALE_PART_MS): Promise<number> {
  let removed = 0;
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX)) continue;
    const path = join(root, name);
    const info = await stat(path).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > maxAgeMs) {
      await unlink(path).catch(() => {});
      removed++;
    }
  }
  return removed;
}
