import type { PathName } from '../options.js';
import { SessionError } from './errors.js';
import { encodeReset, HELLO_NEW, ResetCode } from './frames.js';
import { readHello } from './hello.js';
import type { Carrier } from './lane.js';
import type { Session } from './session.js';
import { sessionId } from './session-id.js';

/** What the responder knows of a proven path before its HELLO is read. */
export interface ProvenPath {
  carrier: Carrier;
  /** The initiator's verified static key, and ours. */
  initiatorKey: Buffer;
  responderKey: Buffer;
  path: PathName;
}

/**
 * The responder's sessions by id. A path whose HELLO opens a new session makes one (`create`); a
 * path that resumes one joins it; a path naming a session we do not have, under these two keys, is
 * refused with a RESET: a path cannot be spliced into another buddy's or another connect's session.
 */
export class SessionHost<S extends Session> {
  private readonly sessions = new Map<string, S>();

  constructor(private readonly helloTimeoutMs: number) {}

  /** Resolves with the new session, undefined when the path joined a running one; rejects when refused. */
  async accept(proven: ProvenPath, create: (nonce: Buffer) => S): Promise<S | undefined> {
    const { stream } = proven.carrier;
    let hello: Awaited<ReturnType<typeof readHello>>;
    try {
      hello = await readHello(stream, proven.carrier.held ?? [], this.helloTimeoutMs);
    } catch (error) {
      stream.destroy();
      throw error;
    }
    const id = sessionId(hello.hello.nonce, proven.initiatorKey, proven.responderKey);
    const known = this.sessions.get(id);
    const carrier: Carrier = { path: proven.path, stream, held: hello.rest };
    if (hello.hello.flags === HELLO_NEW && !known) {
      const session = create(hello.hello.nonce);
      this.sessions.set(id, session);
      session.once('close', () => this.sessions.delete(id));
      session.adopt(carrier, hello.hello);
      return session;
    }
    if (hello.hello.flags !== HELLO_NEW && known && !known.destroyed) {
      known.adopt(carrier, hello.hello);
      return undefined;
    }
    stream.write(encodeReset(ResetCode.UNKNOWN_SESSION));
    stream.end();
    setTimeout(() => stream.destroy(), 500).unref();
    throw new SessionError('REFUSED', 'a path for a session we do not have under these keys');
  }

  get size(): number {
    return this.sessions.size;
  }
}
