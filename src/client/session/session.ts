import { Duplex } from 'node:stream';
import { ClientError } from '../errors.js';
import { type CloseCode, closeCodeOf } from '../mux/errors.js';
import type { PathName } from '../options.js';
import { SessionError } from './errors.js';
import {
  encodeAck,
  encodeData,
  encodeFin,
  encodeHello,
  encodeReset,
  FINACK_FRAME,
  type Frame,
  FrameType,
  HELLO_NEW,
  HELLO_RESUME,
  type HelloFrame,
  PING_FRAME,
  ResetCode,
} from './frames.js';
import { type Carrier, Lane, type PathUse } from './lane.js';

export interface SessionTiming {
  /** A PING on every path this often, so silence means loss even when no data flows. */
  probeMs: number;
  /** A path that is silent this long is dropped (iroh caps its probe at 2 s). */
  deadMs: number;
  /** With no path at all for this long, the session fails (NO_PATH). */
  resumeMs: number;
}

export const DEFAULT_SESSION_TIMING: SessionTiming = { probeMs: 250, deadMs: 1500, resumeMs: 30_000 };

/** A move of the session from one path to another; `ms` counts from the start of the connect. */
export interface PathMove {
  from: PathName;
  to: PathName;
  ms: number;
}

export interface SessionOptions {
  initiator: boolean;
  /** The initiator's nonce (HELLO), bound to both keys in the session id. */
  nonce: Buffer;
  /** performance.now() at the start of the connect (or of the answer). */
  started: number;
  timing?: Partial<SessionTiming>;
}

/** Unacknowledged bytes at most before writes wait: the receiver's acks pace the sender. */
const WINDOW_BYTES = 8 * 1024 * 1024;
/** Payload per DATA frame: big frames keep the framing cost low (the transfer writes 1 MiB). */
const FRAME_PAYLOAD_BYTES = 1024 * 1024;
/** The receiver acks at least every this many bytes, or after ACK_DELAY_MS. */
const ACK_EVERY_BYTES = 1024 * 1024;
const ACK_DELAY_MS = 10;
/** A carrier lost for one of these reasons ends the session: no new round may work around them. */
const FINAL_CODES: ReadonlySet<CloseCode> = new Set<CloseCode>([
  'RELAY_LIMIT',
  'RELAY_CLOSED',
  'SERVER_GONE',
]);

/** A new path's HELLO reply by then, or it is dropped. */
const HELLO_TIMEOUT_MS = 3000;
/** A cleanly ending path gets this long to deliver its last bytes before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

/** Better paths first: a session moves to a better one as soon as it is proven. */
const RANK: Record<PathName, number> = { lan: 0, internet: 1, relay: 2 };

export function isBetter(candidate: PathName, than: PathName): boolean {
  return RANK[candidate] < RANK[than];
}

interface Unacked {
  frame: Buffer;
  end: number;
}

/**
 * One ordered byte stream carried by one path after another (a plain Node Duplex). Bytes are framed
 * with their offset; the receiver acks cumulatively; on a move everything unacknowledged is sent
 * again on the new path and the receiver drops what it already has: nothing lost, duplicated or
 * reordered. The initiator brings the paths (`offer`); the responder takes them (`adopt`).
 */
export class Session extends Duplex {
  readonly initiator: boolean;
  readonly nonce: Buffer;
  readonly started: number;
  /** Every path that carried the session, in order, with its bytes. */
  readonly paths: PathUse[] = [];
  private readonly timing: SessionTiming;
  private readonly lanes = new Set<Lane>();
  private current: Lane | undefined;
  /** Initiator: a better path waiting for the HELLO reply while the current one keeps carrying. */
  private pending: Lane | undefined;
  private lastPath: PathName | undefined;
  private everCarried = false;
  /** Initiator: has the responder ever answered (its HELLO reply)? Until then a lost path is a refusal. */
  private heardPeer = false;
  /** Why the last carrying path was lost (the cause of a NO_PATH). */
  private lastLoss: Error | undefined;

  // Sending.
  private nextOffset = 0;
  private ackedOffset = 0;
  private readonly unacked: Unacked[] = [];
  private unackedHead = 0;
  private writeDone: ((error?: Error | null) => void) | undefined;
  private finOffset: number | undefined;
  private finAcked = false;
  private finalDone: ((error?: Error | null) => void) | undefined;

  // Receiving.
  private received = 0;
  private ackSent = 0;
  private ackTimer: NodeJS.Timeout | undefined;
  /** The reader asked for back-pressure: acks wait, so the sender's window closes. */
  private holdingAcks = false;
  private peerFin: number | undefined;
  private gotEnd = false;

  private readonly probe: NodeJS.Timeout;
  private orphanedAt: number | undefined;
  private lostHandler: ((lost: PathName) => void) | undefined;

  constructor(options: SessionOptions) {
    // Room for a few of the transfer's 1 MiB chunks each way, so reads and writes overlap.
    super({ allowHalfOpen: true, highWaterMark: 4 * 1024 * 1024 });
    // From its first moment (a connect still racing, an answer not yet handed over), a peer's reset or
    // a relay cut must not crash the host: the error still reaches listeners and `errored`.
    this.on('error', () => {});
    this.initiator = options.initiator;
    this.nonce = options.nonce;
    this.started = options.started;
    this.timing = { ...DEFAULT_SESSION_TIMING, ...options.timing };
    this.probe = setInterval(() => this.onProbe(), this.timing.probeMs);
    this.probe.unref();
  }

  /** The path carrying the bytes now (the last one while a lost path is being replaced). */
  get path(): PathName {
    return this.current?.path ?? this.lastPath ?? 'relay';
  }

  /** True while some path carries the session. */
  get isCarried(): boolean {
    return this.current !== undefined;
  }

  /** The current carrier's stream (for facts such as its transport). */
  get carrierStream(): Duplex | undefined {
    return this.current?.stream;
  }

  /** Initiator: called when the carrying path is lost, so a new one is sought. */
  onLost(handler: (lost: PathName) => void): void {
    this.lostHandler = handler;
  }

  /**
   * Initiator: a proven path. The first carries at once; a better one takes over after the
   * responder's HELLO reply; a lost session takes any. False when the path is not wanted (closed).
   */
  offer(carrier: Carrier): boolean {
    if (!this.wants(carrier.path)) {
      carrier.stream.destroy();
      return false;
    }
    const flags = this.everCarried ? HELLO_RESUME : HELLO_NEW;
    const hello = encodeHello(flags, this.nonce, this.received);
    const lane = this.attach(carrier);
    lane.send(hello);
    if (this.current) {
      // Make before break: the current path carries on until the new one answers.
      this.pending = lane;
      const timer = setTimeout(() => {
        if (this.pending === lane) this.dropLane(lane);
      }, HELLO_TIMEOUT_MS);
      timer.unref();
      return true;
    }
    this.promote(lane, this.ackedOffset);
    return true;
  }

  /** Initiator: would a proven `path` carry (or take over)? */
  wants(path: PathName): boolean {
    if (this.destroyed || this.isDone()) return false;
    if (!this.current) return true;
    return isBetter(path, this.current.path) && !this.pending;
  }

  /** Responder: a proven path whose HELLO named this session. */
  adopt(carrier: Carrier, hello: HelloFrame): void {
    const lane = this.attach(carrier);
    lane.send(encodeHello(HELLO_RESUME, this.nonce, this.received));
    this.promote(lane, hello.received);
    // Frames that came right behind the HELLO.
    for (const chunk of carrier.held ?? []) this.onChunk(lane, chunk);
  }

  private attach(carrier: Carrier): Lane {
    const use: PathUse = { path: carrier.path, bytes: 0 };
    const lane = new Lane(carrier, use);
    this.lanes.add(lane);
    const { stream } = carrier;
    stream.on('data', (chunk: Buffer) => this.onChunk(lane, chunk));
    stream.on('drain', () => {
      lane.full = false;
      this.release();
    });
    // A path's failure is a loss, handled on 'close'; its error says why (a relay cap is final).
    stream.on('error', (error: Error) => {
      lane.error ??= error;
    });
    stream.on('close', () => this.onLaneClosed(lane));
    stream.on('end', () => {
      // The peer ended this path: a finished session, or an old path let go after a move.
      lane.peerEnded = true;
      if (!this.isDone()) this.dropLane(lane);
    });
    stream.resume();
    return lane;
  }

  /** `lane` carries from now on: the peer has everything below `peerReceived`, the rest goes again. */
  private promote(lane: Lane, peerReceived: number): void {
    const previous = this.current;
    this.current = lane;
    this.pending = undefined;
    this.orphanedAt = undefined;
    this.paths.push(lane.use);
    this.everCarried = true;
    // Trim without letting the writer go: its next frame must not jump ahead of the resend.
    this.trim(peerReceived);
    for (let i = this.unackedHead; i < this.unacked.length; i++) {
      const entry = this.unacked[i] as Unacked;
      lane.send(entry.frame);
      lane.use.bytes += entry.frame.length - 11;
    }
    if (this.finOffset !== undefined && !this.finAcked) lane.send(encodeFin(this.finOffset));
    if (this.received > this.ackSent || this.peerFin !== undefined) this.sendAck();
    const from = previous?.path ?? this.lastPath;
    this.lastPath = lane.path;
    if (from !== undefined && previous !== lane) {
      const move: PathMove = { from, to: lane.path, ms: Math.round(performance.now() - this.started) };
      this.emit('path', move);
    }
    // The initiator lets the old path go; the responder sees its end.
    if (previous && previous !== lane && this.initiator) this.retire(previous);
    this.release();
  }

  private retire(lane: Lane): void {
    lane.closed = true;
    lane.stream.end();
    const timer = setTimeout(() => lane.stream.destroy(), CLOSE_GRACE_MS);
    timer.unref();
  }

  private dropLane(lane: Lane): void {
    lane.closed = true;
    if (!lane.stream.destroyed) lane.stream.destroy();
    this.onLaneClosed(lane);
  }

  private onLaneClosed(lane: Lane): void {
    lane.closed = true;
    if (!this.lanes.delete(lane)) return;
    if (this.pending === lane) this.pending = undefined;
    if (this.current !== lane) return;
    this.current = undefined;
    if (this.destroyed || this.isDone()) return;
    const code = lane.error ? closeCodeOf(lane.error) : undefined;
    if (code !== undefined && FINAL_CODES.has(code) && !this.pending) {
      // The server cut the relay by policy (its cap, the operator) or went away: a new round would
      // only work around the policy, or fail against a server that is gone. The app hears why.
      this.destroy(new ClientError(code, lane.error?.message ?? code, { cause: lane.error }));
      return;
    }
    if (!this.initiator && lane.path === 'relay' && lane.peerEnded && !lane.error) {
      // The relay closed the carrying session cleanly because the initiator left it without moving
      // to another path (a retired relay is never the current one): its process closed, it is not
      // coming back, so the session is over now rather than after sessionResumeMs.
      this.destroy();
      return;
    }
    this.lastLoss = lane.error;
    if (this.initiator && !this.heardPeer) {
      // The buddy closed the path before answering our HELLO: it refused us (most often the key we
      // proved is not the one it pins). A new round would be refused again, so end here.
      this.destroy(new SessionError('REFUSED', 'the buddy closed the connection without answering'));
      return;
    }
    this.orphanedAt = performance.now();
    this.emit('lost', lane.path);
    this.lostHandler?.(lane.path);
  }

  private onChunk(lane: Lane, chunk: Buffer): void {
    if (this.destroyed) return;
    lane.lastHeard = performance.now();
    try {
      lane.decoder.push(chunk, (frame) => this.onFrame(lane, frame));
    } catch (error) {
      // A verified peer that breaks the framing: the session cannot be trusted any more.
      this.destroy(error as Error);
    }
  }

  private onFrame(lane: Lane, frame: Frame): void {
    this.heardPeer = true;
    switch (frame.type) {
      case FrameType.DATA:
        this.onData(lane, frame.offset, frame.payload);
        return;
      case FrameType.ACK:
        this.onAck(frame.offset);
        return;
      case FrameType.PING:
        return;
      case FrameType.FIN:
        this.peerFin = frame.offset;
        this.checkPeerFin();
        return;
      case FrameType.FINACK:
        if (this.finOffset === undefined) return; // no FIN of ours to acknowledge
        this.finAcked = true;
        this.onAck(this.nextOffset);
        this.finalDone?.();
        this.finalDone = undefined;
        this.maybeFinish();
        return;
      case FrameType.HELLO:
        // The reply to our HELLO on a new path: it takes over now.
        if (this.initiator && this.pending === lane) this.promote(lane, frame.received);
        else this.onAck(frame.received);
        return;
      case FrameType.RESET:
        if (frame.code === ResetCode.CLOSED) {
          this.destroy();
          return;
        }
        // This path was refused (the responder knows no such session): drop it only.
        this.dropLane(lane);
        if (!this.everCarried) this.destroy(new SessionError('REFUSED', 'the buddy refused the session'));
    }
  }

  private onData(lane: Lane, offset: number, payload: Buffer): void {
    const end = offset + payload.length;
    if (end <= this.received) return; // already have it (a retransmit after a move)
    if (offset > this.received) {
      // A gap cannot happen on one ordered path that starts at or below our offset.
      this.destroy(
        new SessionError(
          'BAD_FRAME',
          `data at ${offset}, expected ${this.received} (${this.initiator ? 'initiator' : 'responder'} on ${lane.path})`,
        ),
      );
      return;
    }
    const fresh = offset === this.received ? payload : payload.subarray(this.received - offset);
    this.received = end;
    lane.use.bytes += fresh.length;
    if (!this.push(fresh)) this.holdingAcks = true;
    this.scheduleAck();
    if (!this.gotEnd) this.checkPeerFin();
  }

  private scheduleAck(): void {
    if (this.holdingAcks) return;
    if (this.received - this.ackSent >= ACK_EVERY_BYTES) {
      this.sendAck();
      return;
    }
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = undefined;
      if (!this.holdingAcks) this.sendAck();
    }, ACK_DELAY_MS);
  }

  private sendAck(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.ackSent = this.received;
    this.current?.send(encodeAck(this.received));
  }

  private checkPeerFin(): void {
    if (this.peerFin === undefined || this.received < this.peerFin) return;
    if (!this.gotEnd) {
      this.gotEnd = true;
      this.push(null);
    }
    this.current?.send(FINACK_FRAME);
    this.maybeFinish();
  }

  private onAck(offset: number): void {
    this.trim(offset);
    this.release();
  }

  /** Forgets the frames the peer has (everything below `offset`). */
  private trim(offset: number): void {
    if (offset <= this.ackedOffset) return;
    this.ackedOffset = Math.min(offset, this.nextOffset);
    while (this.unackedHead < this.unacked.length) {
      const entry = this.unacked[this.unackedHead] as Unacked;
      if (entry.end > this.ackedOffset) break;
      this.unacked[this.unackedHead] = undefined as unknown as Unacked;
      this.unackedHead++;
    }
    if (this.unackedHead > 1024) {
      this.unacked.splice(0, this.unackedHead);
      this.unackedHead = 0;
    }
  }

  /** Lets the writer go on while the window is open and the carrier not full. */
  private release(): void {
    const done = this.writeDone;
    if (!done) return;
    if (this.nextOffset - this.ackedOffset >= WINDOW_BYTES) return;
    if (this.current?.full) return;
    this.writeDone = undefined;
    done();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    for (let at = 0; at < chunk.length; at += FRAME_PAYLOAD_BYTES) {
      const piece = chunk.subarray(at, Math.min(chunk.length, at + FRAME_PAYLOAD_BYTES));
      const frame = encodeData(this.nextOffset, piece);
      this.nextOffset += piece.length;
      this.unacked.push({ frame, end: this.nextOffset });
      if (this.current) {
        this.current.send(frame);
        this.current.use.bytes += piece.length;
      }
    }
    this.writeDone = callback;
    this.release();
  }

  override _read(): void {
    if (!this.holdingAcks) return;
    this.holdingAcks = false;
    if (this.received > this.ackSent) this.sendAck();
  }

  /** Ends our direction: a FIN after the last byte, done once the peer has everything (FINACK). */
  override _final(callback: (error?: Error | null) => void): void {
    this.finOffset = this.nextOffset;
    this.current?.send(encodeFin(this.finOffset));
    if (this.finAcked) callback();
    else this.finalDone = callback;
  }

  private isDone(): boolean {
    return this.finAcked && this.gotEnd;
  }

  /** Both directions ended and acknowledged: the paths are let go cleanly. */
  private maybeFinish(): void {
    if (!this.isDone()) return;
    clearInterval(this.probe);
    for (const lane of this.lanes) {
      if (!lane.closed) this.retire(lane);
    }
  }

  private onProbe(): void {
    const now = performance.now();
    for (const lane of this.lanes) {
      if (now - lane.lastHeard > this.timing.deadMs) {
        this.dropLane(lane);
        continue;
      }
      lane.send(PING_FRAME);
    }
    if (this.orphanedAt !== undefined && now - this.orphanedAt > this.timing.resumeMs) {
      this.destroy(
        new SessionError('NO_PATH', `no path came back within ${this.timing.resumeMs} ms`, {
          cause: this.lastLoss,
        }),
      );
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearInterval(this.probe);
    clearTimeout(this.ackTimer);
    const clean = this.isDone();
    for (const lane of this.lanes) {
      if (clean) {
        if (!lane.closed) this.retire(lane);
        continue;
      }
      // Tell the peer the session is over, rather than let it wait for a path to come back.
      lane.send(encodeReset(ResetCode.CLOSED));
      lane.closed = true;
      lane.stream.end();
      const timer = setTimeout(() => lane.stream.destroy(), 200);
      timer.unref();
    }
    this.lanes.clear();
    this.current = undefined;
    callback(error);
  }
}
