import { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { z } from 'zod';
import { ClientError, TimeoutError } from './errors.js';

const pairedFrame = z.object({ v: z.number(), event: z.literal('relay.paired') }).strict();

/**
 * Why the relay closed a paired session, from its close code (src/server/relay-hub.ts RELAY_CLOSE),
 * as a typed error; undefined for a clean close (the peer left).
 */
export function relayCloseError(code: number, reason: string): ClientError | undefined {
  const why = reason.slice(0, 120) || `close code ${code}`;
  if (code === 1000) return undefined;
  if (code === 4008) return new ClientError('RELAY_LIMIT', `the relay cut the session: ${why}`);
  // 1001: the server shut down; 1006: its process or the network went away without a close frame.
  if (code === 1001 || code === 1006) return new ClientError('SERVER_GONE', `the relay went away: ${why}`);
  return new ClientError('RELAY_CLOSED', `the relay closed the session: ${why}`);
}

/** Most bytes in one binary frame sent to the relay; larger writes are split. */
const RELAY_FRAME_BYTES = 64 * 1024;

/**
 * The relay of last resort (§4.3) as a byte stream: a WebSocket to the server's relay path that,
 * once both buddies joined, forwards binary frames verbatim. The bytes are already Noise-encrypted
 * by the caller, so the server only ever sees ciphertext.
 */
export class RelayStream extends Duplex {
  private readDone = false;
  private writeDone = false;

  private constructor(private readonly ws: WebSocket) {
    super({ allowHalfOpen: true });
    ws.on('message', (data, isBinary) => {
      if (!isBinary || this.readDone) return;
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      // A WebSocket cannot half-close; an empty binary frame stands for the peer's end of stream.
      if (chunk.length === 0) {
        this.readDone = true;
        this.push(null);
        if (this.writeDone) ws.close(1000);
        return;
      }
      if (!this.push(chunk)) ws.pause();
    });
    ws.on('close', (code, reason) => {
      const error = relayCloseError(code, reason.toString());
      if (error) {
        this.destroy(error);
        return;
      }
      this.push(null);
      this.destroy();
    });
    ws.on('error', (error) => this.destroy(new ClientError('SERVER_GONE', `relay: ${error.message}`)));
  }

  /** Joins the relay session at `url` and resolves once the server paired both buddies. */
  static open(url: string, timeoutMs: number, signal?: AbortSignal): Promise<RelayStream> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const fail = (error: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        ws.terminate();
        reject(error);
      };
      const timer = setTimeout(() => fail(new TimeoutError('relay pairing', timeoutMs)), timeoutMs);
      const onAbort = () => fail(new ClientError('ABORTED', 'attempt cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      ws.on('error', (error) => fail(new ClientError('RELAY_FAILED', `relay: ${error.message}`)));
      ws.on('close', (code, reason) =>
        fail(new ClientError('RELAY_FAILED', `relay closed (${code} ${reason.toString()})`.trim())),
      );
      ws.on('message', function onFirst(data, isBinary) {
        if (isBinary) return;
        let json: unknown;
        try {
          json = JSON.parse(data.toString());
        } catch {
          return;
        }
        if (!pairedFrame.safeParse(json).success) return;
        ws.off('message', onFirst);
        ws.removeAllListeners('error');
        ws.removeAllListeners('close');
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(new RelayStream(ws));
      });
    });
  }

  override _read(): void {
    this.ws.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.ws.readyState !== WebSocket.OPEN) {
      callback(new ClientError('RELAY_FAILED', 'relay closed'));
      return;
    }
    for (let at = 0; at < chunk.length; at += RELAY_FRAME_BYTES) {
      const last = at + RELAY_FRAME_BYTES >= chunk.length;
      const part = chunk.subarray(at, at + RELAY_FRAME_BYTES);
      if (last) this.ws.send(part, { binary: true }, (error) => callback(error ?? null));
      else this.ws.send(part, { binary: true });
    }
    if (chunk.length === 0) callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.writeDone = true;
    if (this.ws.readyState !== WebSocket.OPEN) {
      callback();
      return;
    }
    this.ws.send(Buffer.alloc(0), { binary: true }, () => {
      if (this.readDone) this.ws.close(1000);
      callback();
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.terminate();
    callback(error);
  }
}
