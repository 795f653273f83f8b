import type NoiseSecretStream from '@hyperswarm/secret-stream';
import type { SignalBody } from '../protocol/index.js';
import { abortable } from './abortable.js';
import { isLoopbackHost, OfferGate, probeTargetsFor } from './answer-limits.js';
import { AttemptClock, type PathAttempt } from './attempts.js';
import { tune } from './connect.js';
import type { PeerContext } from './context.js';
import { answerDirect, type DirectScope } from './direct-path.js';
import { ClientError, reasonOf } from './errors.js';
import type { PathName, Timeouts } from './options.js';
import { PeerConnection } from './peer-connection.js';
import { openRelay } from './relay-path.js';
import { awaitChosen } from './secure-channel.js';
import { SessionHost } from './session/host.js';

/** Sessions being answered at once (not yet chosen or failed); offers beyond are declined, so a buddy
 * cannot make us punch without end. Settled sessions are only remembered, and do not count. */
const MAX_ANSWER_SESSIONS = 32;

/** A chosen path's session HELLO by then, or it is closed. */
const HELLO_TIMEOUT_MS = 5000;

const PATH_OF: Record<SignalBody['scope'], PathName> = { local: 'lan', global: 'internet', relay: 'relay' };

interface AnswerSession {
  started: number;
  attempts: PathAttempt[];
  chosen: boolean;
  /** Paths of this session still being answered, each stopped by the initiator's `abort` for its scope. */
  answering: Map<SignalBody['scope'], AbortController>;
  scopes: Set<SignalBody['scope']>;
  timer: NodeJS.Timeout;
}

/**
 * The buddy's side of a connect: every offer is answered at once (S71–S73 / S121–S123), every path
 * the initiator opens is verified against the initiator's pinned key, and the one the initiator
 * marks as chosen becomes the connection.
 */
export class Answerer {
  private readonly sessions = new Map<string, AnswerSession>();
  private readonly host = new SessionHost<PeerConnection>(HELLO_TIMEOUT_MS);
  /** Offers answered per buddy and in total, declines sent (answer-limits.ts). */
  readonly gate = new OfferGate();

  constructor(
    private readonly ctx: PeerContext,
    private readonly timeouts: Timeouts,
    private readonly onConnection: (connection: PeerConnection) => void,
  ) {}

  onOffer(from: string, offer: SignalBody): void {
    if (offer.purpose !== 'offer') return;
    const id = `${from}/${offer.session}`;
    let session = this.sessions.get(id);
    if (!session) {
      // Beyond its share a buddy's offer is dropped without a word: even a decline costs a request.
      if (!this.gate.admitSession(from)) return;
      if (this.activeSessions() >= MAX_ANSWER_SESSIONS) {
        this.decline(from, offer, 'too many connection attempts at once; try again');
        return;
      }
      session = {
        started: performance.now(),
        attempts: [],
        chosen: false,
        answering: new Map(),
        scopes: new Set(),
        timer: setTimeout(() => this.sessions.delete(id), this.timeouts.answerSessionTimeoutMs),
      };
      session.timer.unref();
      this.sessions.set(id, session);
    }
    // Each scope is answered once per session; a chosen path does not end the others (the session
    // may start on the relay and move to a direct path proven later).
    if (session.scopes.has(offer.scope)) return;
    session.scopes.add(offer.scope);
    void this.answer(from, offer, session);
  }

  /**
   * The initiator cancelled one path of a session we answer (another path won, or it gave up):
   * stop punching or waiting at the relay for it now. False when it is no answer of ours, so the
   * caller can treat it as an abort of one of our own offers instead.
   */
  onAbort(from: string, body: SignalBody): boolean {
    if (body.purpose !== 'abort') return false;
    const answering = this.sessions.get(`${from}/${body.session}`)?.answering.get(body.scope);
    if (!answering) return false;
    answering.abort(
      new ClientError('CANCELLED', `${from} cancelled this path: ${body.reason ?? 'no reason given'}`),
    );
    return true;
  }

  private activeSessions(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (!s.chosen && s.answering.size > 0) n++;
    return n;
  }

  /** Declines an offer (this device does not answer), within the decline budget; else stays silent. */
  decline(from: string, offer: SignalBody, reason: string): void {
    if (!this.gate.admitDecline()) return;
    const body: SignalBody = {
      session: offer.session,
      purpose: 'abort',
      scope: offer.scope,
      addresses: [],
      reason,
    };
    this.ctx.request('signal', { to: from, body }).catch(() => {});
  }

  /** Stops every answer in flight (punching, relay waits) and forgets every session. */
  close(): void {
    for (const session of this.sessions.values()) {
      clearTimeout(session.timer);
      for (const answering of session.answering.values()) answering.abort();
    }
    this.sessions.clear();
  }

  private async answer(from: string, offer: SignalBody, session: AnswerSession): Promise<void> {
    const path = PATH_OF[offer.scope];
    const clock = new AttemptClock(path, session.attempts);
    let secret: NoiseSecretStream | undefined;
    const cancel = new AbortController();
    const { signal } = cancel;
    session.answering.set(offer.scope, cancel);
    try {
      const pinnedKey = await abortable(this.ctx.pinnedKey(from), signal);
      secret =
        offer.scope === 'relay'
          ? await openRelay({
              ctx: this.ctx,
              buddy: from,
              session: offer.session,
              pinnedKey,
              isInitiator: false,
              timeoutMs: this.timeouts.relayTimeoutMs,
              signal,
            })
          : await this.answerDirect(from, offer as SignalBody & { scope: DirectScope }, pinnedKey, signal);
      const verified = secret;
      // Verified but cancelled before the initiator chose it: close it rather than wait for the choice.
      const onCancel = () => verified.destroy();
      signal.addEventListener('abort', onCancel, { once: true });
      const handover = await awaitChosen(secret, this.timeouts.answerSessionTimeoutMs).finally(() =>
        signal.removeEventListener('abort', onCancel),
      );
      session.chosen = true;
      clock.finish(true);
      this.gate.connected(from);
      // The session layer decides what the path is for: a new session, or a move of a running one.
      const held = handover.take();
      const remoteKey = pinnedKey.toString('hex');
      const live = this.ctx.liveness;
      const connection = await this.host.accept(
        {
          carrier: { path, stream: tune(secret, this.ctx), held: held.chunks },
          initiatorKey: pinnedKey,
          responderKey: this.ctx.keyPair.publicKey,
          path,
        },
        (nonce) =>
          new PeerConnection(
            {
              initiator: false,
              nonce,
              started: session.started,
              timing: { probeMs: live.pathProbeMs, deadMs: live.pathDeadMs, resumeMs: live.sessionResumeMs },
            },
            {
              remoteUser: from,
              remoteKey,
              attempts: session.attempts,
              connectMs: Math.round(performance.now() - session.started),
            },
          ),
      );
      if (connection) this.onConnection(connection);
    } catch (error) {
      secret?.destroy();
      clock.finish(false, signal.aborted ? reasonOf(signal.reason) : reasonOf(error));
    } finally {
      session.answering.delete(offer.scope);
    }
  }

  private async answerDirect(
    from: string,
    offer: SignalBody & { scope: DirectScope },
    pinnedKey: Buffer,
    signal: AbortSignal,
  ): Promise<NoiseSecretStream> {
    const t = this.timeouts;
    let addresses: SignalBody['addresses'];
    try {
      addresses =
        offer.scope === 'local'
          ? this.ctx.localAddresses()
          : await abortable(this.ctx.globalAddresses(t), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      // Tell the initiator now rather than let it wait for its timeout.
      await this.ctx
        .request('signal', {
          to: from,
          body: {
            session: offer.session,
            purpose: 'abort',
            scope: offer.scope,
            addresses: [],
            reason: reasonOf(error),
          },
        })
        .catch(() => {});
      throw error;
    }
    const timeoutMs = offer.scope === 'local' ? t.lanTimeoutMs : t.internetTimeoutMs;
    // Probe only addresses that fit the offer's scope: an offer must not aim our datagrams anywhere.
    const serverOnLoopback = isLoopbackHost(new URL(this.ctx.relayUrl('/')).hostname);
    return answerDirect({
      ctx: this.ctx,
      from,
      offer: { ...offer, addresses: probeTargetsFor(offer.scope, offer.addresses, serverOnLoopback) },
      pinnedKey,
      addresses,
      intervalMs: t.punchIntervalMs,
      timeoutMs,
      signal,
    });
  }
}
