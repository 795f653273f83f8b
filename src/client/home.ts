import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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

export class Home {
  constructor(readonly dir: string) {}

  private async ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /** The key pair, created on first use. */
  async keyPair(): Promise<KeyPair> {
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
