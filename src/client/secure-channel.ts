import type { Duplex } from 'node:stream';
import NoiseSecretStream, { type KeyPair } from '@hyperswarm/secret-stream';
import { ClientError, TimeoutError, WrongKeyError } from './errors.js';

/**
 * The first plaintext byte the initiator writes on the path it keeps. Several paths may verify at
 * once (LAN and internet overlap); the answering side takes the one that carries this byte and lets
 * the others close, so both ends agree on one path without another round trip.
 */
export const CHOSEN_MARKER = 0x01;

export interface VerifyOptions {
  keyPair: KeyPair;
  /** The buddy's public key as pinned from the server at acceptance (§4.2). */
  pinnedKey: Buffer;
  buddy: string;
  isInitiator: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Runs the Noise XX handshake over `raw` and checks the peer's static key against the pinned one.
 * secret-stream's XX completes with any key even when `remotePublicKey` is given, so the check is
 * ours: a stranger on a reused private address, or an impostor, ends here (§4.1–4.2).
 */
export function secureAndVerify(raw: Duplex, options: VerifyOptions): Promise<NoiseSecretStream> {
  const secret = new NoiseSecretStream(options.isInitiator, raw, { keyPair: options.keyPair });
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      cleanup();
      secret.destroy();
      raw.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new TimeoutError('Noise handshake', options.timeoutMs)),
      options.timeoutMs,
    );
    // The socket under the handshake keeps the process alive while it matters; this timer need not.
    timer.unref();
    const onAbort = () => fail(new ClientError('ABORTED', 'attempt cancelled'));
    const onClose = () => fail(new ClientError('HANDSHAKE_FAILED', 'the peer closed during the handshake'));
    const onError = (error: Error) =>
      fail(new ClientError('HANDSHAKE_FAILED', `handshake failed: ${error.message}`, { cause: error }));
    const onConnect = () => {
      const remote = secret.remotePublicKey;
      if (!remote?.equals(options.pinnedKey)) {
        fail(new WrongKeyError(options.buddy));
        return;
      }
      cleanup();
      // From here the stream waits for its marker or its owner; a reset in that gap must not become
      // an unhandled 'error' (it still destroys the stream, and 'close' tells whoever waits).
      secret.on('error', () => {});
      resolve(secret);
    };
    const cleanup = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      secret.off('connect', onConnect);
      secret.off('close', onClose);
      secret.off('error', onError);
    };
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    secret.once('connect', onConnect);
    secret.once('close', onClose);
    secret.on('error', onError);
  });
}

/**
 * What the answering side holds between seeing the marker and handing the stream to its owner:
 * every byte and the end of stream that arrive in that gap, so nothing is lost on the way.
 */
export class Handover {
  private readonly chunks: Buffer[] = [];
  private ended = false;
  private readonly onData = (chunk: Buffer) => {
    this.chunks.push(chunk);
  };
  private readonly onEnd = () => {
    this.ended = true;
  };

  constructor(
    private readonly secret: NoiseSecretStream,
    first: Buffer,
  ) {
    if (first.length > 0) this.chunks.push(first);
    secret.on('data', this.onData);
    secret.once('end', this.onEnd);
  }

  /** Stops holding; the caller must attach its own listeners in the same tick. */
  take(): { chunks: Buffer[]; ended: boolean } {
    this.secret.off('data', this.onData);
    this.secret.off('end', this.onEnd);
    return { chunks: this.chunks, ended: this.ended };
  }
}

/**
 * Answering side: waits for the initiator's marker on a verified stream. Resolves with a handover
 * holding what followed the marker, or rejects when the initiator dropped this path.
 */
export function awaitChosen(secret: NoiseSecretStream, timeoutMs: number): Promise<Handover> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      secret.destroy();
      reject(new TimeoutError('waiting for the initiator to choose this path', timeoutMs));
    }, timeoutMs);
    timer.unref();
    const onData = (chunk: Buffer) => {
      if (chunk.length === 0) return;
      cleanup();
      if (chunk[0] !== CHOSEN_MARKER) {
        secret.destroy();
        reject(new ClientError('BAD_MARKER', 'the peer did not start with the path marker'));
        return;
      }
      resolve(new Handover(secret, chunk.subarray(1)));
    };
    const onClose = () => {
      cleanup();
      reject(new ClientError('NOT_CHOSEN', 'the initiator chose another path'));
    };
    const cleanup = () => {
      clearTimeout(timer);
      secret.off('data', onData);
      secret.off('close', onClose);
    };
    secret.on('data', onData);
    secret.once('close', onClose);
  });
}
