import NoiseSecretStream from '@hyperswarm/secret-stream';
import type { StoredSession } from './home.js';

/** A long-term Ed25519 key pair: the Noise static key that buddies pin (§4.2). */
export interface KeyPairBytes {
  publicKey: Buffer;
  secretKey: Buffer;
}

/**
 * Where a client keeps its key pair and its session token. `Home` (files under `home`, the
 * default) is one; an app may pass its own (a keychain, a database) as `identity`.
 */
export interface IdentityStore {
  /** A directory name for messages and `client.homeDir`, if the store has one. */
  readonly dir?: string;
  /** The key pair, created on first use. */
  keyPair(): Promise<KeyPairBytes>;
  session(): Promise<StoredSession | undefined>;
  saveSession(session: StoredSession): Promise<void>;
  forgetSession(): Promise<void>;
}

/** An identity that lives in memory only: tests, short-lived tools, or a key the app holds itself. */
export class MemoryIdentity implements IdentityStore {
  private pair: KeyPairBytes | undefined;
  private kept: StoredSession | undefined;

  constructor(keyPair?: KeyPairBytes) {
    this.pair = keyPair;
  }

  async keyPair(): Promise<KeyPairBytes> {
    this.pair ??= NoiseSecretStream.keyPair();
    return this.pair;
  }

  async session(): Promise<StoredSession | undefined> {
    return this.kept;
  }

  async saveSession(session: StoredSession): Promise<void> {
    this.kept = session;
  }

  async forgetSession(): Promise<void> {
    this.kept = undefined;
  }
}

/** An identity store whose key pair is the given one; sessions go to `sessions`. */
export function withKeyPair(sessions: IdentityStore, keyPair: KeyPairBytes): IdentityStore {
  return {
    ...(sessions.dir !== undefined ? { dir: sessions.dir } : {}),
    keyPair: async () => keyPair,
    session: () => sessions.session(),
    saveSession: (s) => sessions.saveSession(s),
    forgetSession: () => sessions.forgetSession(),
  };
}
