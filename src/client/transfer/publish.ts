import { link, mkdir, realpath, unlink } from 'node:fs/promises';
import { dirname, extname, join, sep } from 'node:path';
import { TransferError } from '../errors.js';

/**
 * Links a finished part file to its name under `root` (folders made as needed, never overwriting:
 * `b (1).bin` when `b.bin` exists) and removes the part name. The folder is checked after it is
 * made, so a symbolic link planted inside the receive directory cannot carry a file out of it.
 */
export async function publish(root: string, temp: string, wanted: string): Promise<string> {
  const realRoot = await realpath(root);
  const folder = dirname(join(root, wanted));
  await mkdir(folder, { recursive: true });
  const realFolder = await realpath(folder);
  if (realFolder !== realRoot && !realFolder.startsWith(realRoot + sep))
    throw new TransferError(`${wanted}: its folder leads out of the receive directory`);
  const ext = extname(wanted);
  const stem = wanted.slice(0, wanted.length - ext.length);
  for (let n = 0; n < 1000; n++) {
    const name = n === 0 ? wanted : `${stem} (${n})${ext}`;
    try {
      await link(temp, join(root, name));
      await unlink(temp);
      return name;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new TransferError(`no free name for ${wanted}`);
}
