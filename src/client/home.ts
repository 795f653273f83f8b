import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import NoiseSecretStream, { type KeyPair } from '@hyperswarm/secret-stream';
import { z } from 'zod';
import { publicKeyHex, sessionToken, userName } from '../protocol/index.js';

/**
 * The client's home directory: its long-term key pair (the Noise static key that buddies pin, §4.2)
 * and the session token of the last logon. Both are secrets: files are written 0600 in a 0700 directory.
 */
export const IDENTITY_FILE = 'identity.json';
export const SESSION_FILE = 'session.json';

export function defaultHome(): string {
  return join(homedir(), '.buddylink');
}

const identityFile = z
  .object({ publicKey: publicKeyHex, secretKey: z.string().regex(/^[0-9a-f]{128}$/) })
  .strict();

const sessionFile = z
  .object({ server: z.string().max(2048), user: userName, token: sessionToken, tokenExpiresAt: z.number() })
  .strict();

export type StoredSession = z.infer<typeof sessionFile>;

async function writeSecret(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** How a Home reports that it tightened loose permissions (default: a process warning on stderr). */
export type HomeWarning = (message: string) => void;

const warnOnStderr: HomeWarning = (message) => process.emitWarning(message, 'BuddylinkWarning');

export class Home {
  #checked = false;

  constructor(
    readonly dir: string,
    private readonly warn: HomeWarning = warnOnStderr,
  ) {}

  private async ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.secure();
  }

  /**
   * The secret key and the token must not be readable by others: a home (or a file in it) with group or
   * other access, made so before buddylink came, is tightened to 0700 / 0600 with a warning, once per Home.
   */
  private async secure(): Promise<void> {
    if (this.#checked) return;
    this.#checked = true;
    const fix = async (path: string, mode: number): Promise<void> => {
      let current: number;
      try {
        current = (await stat(path)).mode & 0o777;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      if ((current & 0o077) === 0) return;
      await chmod(path, mode);
      this.warn(
        `${path} was ${current.toString(8).padStart(4, '0')}; made ${mode.toString(8).padStart(4, '0')}`,
      );
    };
    await fix(this.dir, 0o700);
    await fix(join(this.dir, IDENTITY_FILE), 0o600);
    await fix(join(this.dir, SESSION_FILE), 0o600);
  }

  /** The key pair, created on first use. */
  async keyPair(): Promise<KeyPair> {
    await this.secure();
    const path = join(this.dir, IDENTITY_FILE);
    const stored = await readJson(path);
    if (stored !== undefined) {
      const parsed = identityFile.parse(stored);
      return {
        publicKey: Buffer.from(parsed.publicKey, 'hex'),
        secretKey: Buffer.from(parsed.secretKey, 'hex'),
      };
    }
    await this.ensureDir();
    const pair = NoiseSecretStream.keyPair();
    const text = JSON.stringify({
      publicKey: pair.publicKey.toString('hex'),
      secretKey: pair.secretKey.toString('hex'),
    });
    await writeSecret(path, `${text}\n`);
    return pair;
  }

  async session(): Promise<StoredSession | undefined> {
    await this.secure();
    const stored = await readJson(join(this.dir, SESSION_FILE));
    const parsed = sessionFile.safeParse(stored);
    return parsed.success ? parsed.data : undefined;
  }

  async saveSession(session: StoredSession): Promise<void> {
    await this.ensureDir();
    await writeSecret(join(this.dir, SESSION_FILE), `${JSON.stringify(session)}\n`);
  }

  async forgetSession(): Promise<void> {
    await rm(join(this.dir, SESSION_FILE), { force: true });
  }
}
