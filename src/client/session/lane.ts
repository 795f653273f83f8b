import type { Duplex } from 'node:stream';
import type { PathName } from '../options.js';
import { FrameDecoder } from './frames.js';

/** What a path hands the session: a verified stream (Noise over TCP, UDX or the relay) and its name. */
export interface Carrier {
  path: PathName;
  stream: Duplex;
  /** Bytes that arrived before the session took the stream (the answerer's handover). */
  held?: Buffer[];
}

/** One path's use by the session, as reported in `paths`. */
export interface PathUse {
  path: PathName;
  /** Payload bytes this path carried: written on it, and new bytes read from it. */
  bytes: number;
}

/** A carrier attached to a session: its decoder, liveness and byte count. */
export class Lane {
  readonly decoder = new FrameDecoder();
  lastHeard = performance.now();
  /** The carrier asked for back-pressure: the session waits for its 'drain'. */
  full = false;
  closed = false;
  /** The carrier's first error, if it failed with one (a relay cut, a reset): why the path was lost. */
  error: Error | undefined;
  /** The peer ended this path itself (a clean end of stream), rather than it going silent or failing. */
  peerEnded = false;

  constructor(
    readonly carrier: Carrier,
    readonly use: PathUse,
  ) {}

  get path(): PathName {
    return this.carrier.path;
  }

  get stream(): Duplex {
    return this.carrier.stream;
  }

  /** Writes a frame; false when the carrier wants the writer to wait for 'drain'. */
  send(frame: Buffer): boolean {
    if (this.closed || this.stream.destroyed) return true;
    const ok = this.stream.write(frame);
    if (!ok) this.full = true;
    return ok;
  }
}
