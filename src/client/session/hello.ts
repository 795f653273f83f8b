import type { Duplex } from 'node:stream';
import { TimeoutError } from '../errors.js';
import { SessionError } from './errors.js';
import { controlFrame, FrameType, type HelloFrame, NONCE_BYTES } from './frames.js';

const HELLO_BYTES = 2 + NONCE_BYTES + 6;

/**
 * Responder: the first frame on a new path must be a HELLO. Resolves with it and the bytes that came
 * behind it (already the session's frames); the stream is paused again, for the session to take.
 */
export function readHello(
  stream: Duplex,
  held: Buffer[],
  timeoutMs: number,
): Promise<{ hello: HelloFrame; rest: Buffer[] }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.concat(held);
    const timer = setTimeout(
      () => finish(new TimeoutError('waiting for the session HELLO', timeoutMs)),
      timeoutMs,
    );
    timer.unref();
    const finish = (error?: Error, result?: { hello: HelloFrame; rest: Buffer[] }) => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('close', onClose);
      stream.pause();
      if (error) reject(error);
      else if (result) resolve(result);
    };
    const check = (): boolean => {
      if (buffered.length < HELLO_BYTES) return false;
      const raw = {
        type: buffered[0],
        flags: buffered[1],
        nonce: Buffer.from(buffered.subarray(2, 2 + NONCE_BYTES)),
        received: buffered.readUIntBE(2 + NONCE_BYTES, 6),
      };
      const parsed = controlFrame.safeParse(raw);
      if (!parsed.success || parsed.data.type !== FrameType.HELLO) {
        finish(new SessionError('BAD_FRAME', 'a path that does not start with a session HELLO'));
        return true;
      }
      const rest = buffered.length > HELLO_BYTES ? [buffered.subarray(HELLO_BYTES)] : [];
      finish(undefined, { hello: parsed.data, rest });
      return true;
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      check();
    };
    const onClose = () => finish(new SessionError('REFUSED', 'the path closed before its HELLO'));
    if (check()) return;
    stream.on('data', onData);
    stream.once('close', onClose);
  });
}
