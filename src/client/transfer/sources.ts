import { constants } from 'node:fs';
import { access, lstat, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { ClientError } from '../errors.js';
import { MAX_FILES } from './frames.js';

/** A local argument that cannot be sent (missing, unreadable, nothing in it): a usage error, found before connecting. */
export class LocalFileError extends ClientError {
  constructor(message: string) {
    super('BAD_ARGUMENT', message);
    this.name = 'LocalFileError';
  }
}

/** One file of a send: its name as offered (relative, `/`-separated) and where its bytes come from. */
export interface SendItem {
  name: string;
  bytes: number | null;
  path?: string;
  stream?: Readable;
}

function why(error: unknown, path: string): LocalFileError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new LocalFileError(`${path}: no such file or folder`);
  if (code === 'EACCES' || code === 'EPERM')
    return new LocalFileError(`${path}: not readable (permission denied)`);
  return new LocalFileError(`${path}: cannot be read (${code ?? String(error)})`);
}

async function readable(path: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    throw why(error, path);
  }
}

/** Every regular file under `dir`, named `prefix/sub/…`; symbolic links are skipped (no loops, no escapes). */
async function walk(dir: string, prefix: string, out: SendItem[]): Promise<void> {
  await readable(dir);
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const name = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) await walk(path, name, out);
    else if (entry.isFile()) {
      await readable(path);
      out.push({ name, path, bytes: (await stat(path)).size });
    }
    if (out.length > MAX_FILES)
      throw new LocalFileError(`more than ${MAX_FILES} files: send an archive instead`);
  }
}

/**
 * The files of `send USER PATH…`, checked before any connection: each exists and is readable; a
 * folder contributes its files under its own name (structure kept). `-` is standard input, named `name`.
 */
export async function planItems(
  paths: string[],
  options: { name?: string; stdin?: Readable } = {},
): Promise<SendItem[]> {
  const items: SendItem[] = [];
  for (const path of paths) {
    if (path === '-') {
      if (!options.stdin) throw new LocalFileError('- (standard input) is not available');
      items.push({ name: options.name ?? 'stdin', bytes: null, stream: options.stdin });
      continue;
    }
    const info = await lstat(path).catch((error: unknown) => {
      throw why(error, path);
    });
    const target = info.isSymbolicLink()
      ? await stat(path).catch((error: unknown) => Promise.reject(why(error, path)))
      : info;
    const name = basename(resolve(path));
    if (target.isDirectory()) {
      const before = items.length;
      await walk(path, name, items);
      if (items.length === before) throw new LocalFileError(`${path}: the folder has no files`);
    } else if (target.isFile()) {
      await readable(path);
      items.push({
        name: paths.length === 1 && options.name ? options.name : name,
        path,
        bytes: target.size,
      });
    } else throw new LocalFileError(`${path}: not a file or folder`);
  }
  if (paths.filter((p) => p === '-').length > 1)
    throw new LocalFileError('- (standard input) can be given once');
  return items;
}
