import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One server per data directory: a `server.lock` holding the owner's process id, made with O_EXCL.
 * A lock whose process is gone (killed with -9, a crash) is taken over; a live one is refused, so two
 * servers never write one SQLite database behind each other's caches.
 */
export class DataDirLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(`another buddylink server (pid ${pid}) uses the data directory ${dir}`);
    this.name = 'DataDirLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock of `dir` (made if missing); returns the release. Null or ':memory:' needs none. */
export function lockDataDir(dir: string | null): () => void {
  if (dir === null || dir === ':memory:') return () => {};
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'server.lock');
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new DataDirLockedError(dir, pid);
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not lock the data directory ${dir}`);
}
