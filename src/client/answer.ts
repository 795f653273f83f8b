import type NoiseSecretStream from '@hyperswarm/secret-stream';
import type { SignalBody } from '../protocol/index.js';
import { AttemptClock, type PathAttempt } from './attempts.js';
import { tune } from './connect.js';
import type { PeerContext } from './context.js';
import { answerDirect, type DirectScope } from './direct-path.js';
import { reasonOf } from './errors.js';
import type { PathName, Timeouts } from './options.js';
import { PeerConnection } from './peer-connection.js';
import { openRelay } from './relay-path.js';
import { awaitChosen } from './secure-channel.js';

/** Sessions being answered at once (not yet chosen or failed); offers beyond are declined, so a buddy
 * cannot make us punch without end. Settled sessions are only remembered, and do not count. */
const MAX_ANSWER_SESSIONS = 32;

const PATH_OF: Record<SignalBody['scope'], PathName> = { local: 'lan', global: 'internet', relay: 'relay' };

interface AnswerSession {
  started: number;
  attempts: PathAttempt[];
  chosen: boolean;
  /** Paths of this session still being answered. */
  inFlight: number;
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
      if (this.activeSessions() >= MAX_ANSWER_SESSIONS) {
        this.decline(from, offer, 'too many connection attempts at once; try again');
        return;
      }
      session = {
        started: performance.now(),
        attempts: [],
        chosen: false,
        inFlight: 0,
        scopes: new Set(),
        timer: setTimeout(() => this.sessions.delete(id), this.timeouts.answerSessionTimeoutMs),
      };
      session.timer.unref();
      this.sessions.set(id, session);
    }
    if (session.scopes.has(offer.scope)) return;
    session.scopes.add(offer.scope);
    void this.answer(from, offer, session);
  }

  private activeSessions(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (!s.chosen && s.inFlight > 0) n++;
    return n;
  }

  private decline(from: string, offer: SignalBody, reason: string): void {
    const body: SignalBody = {
      session: offer.session,
      purpose: 'abort',
      scope: offer.scope,
      addresses: [],
      reason,
    };
    this.ctx.request('signal', { to: from, body }).catch(() => {});
  }

  close(): void {
    for (const session of this.sessions.values()) clearTimeout(session.timer);
    this.sessions.clear();
  }

  private async answer(from: string, offer: SignalBody, session: AnswerSession): Promise<void> {
    const path = PATH_OF[offer.scope];
    const clock = new AttemptClock(path, session.attempts);
    let secret: NoiseSecretStream | undefined;
    session.inFlight++;
    try {
      const pinnedKey = await this.ctx.pinnedKey(from);
      secret =
        offer.scope === 'relay'
          ? await openRelay({
              ctx: this.ctx,
              buddy: from,
              session: offer.session,
              pinnedKey,
              isInitiator: false,
              timeoutMs: this.timeouts.relayTimeoutMs,
            })
          : await this.answerDirect(from, offer as SignalBody & { scope: DirectScope }, pinnedKey);
      const handover = await awaitChosen(secret, this.timeouts.answerSessionTimeoutMs);
      if (session.chosen) {
        secret.destroy();
        return;
      }
      session.chosen = true;
      clock.finish(true);
      this.onConnection(
        new PeerConnection(
          tune(secret, this.ctx),
          {
            path,
            remoteUser: from,
            remoteKey: pinnedKey.toString('hex'),
            attempts: session.attempts,
            connectMs: Math.round(performance.now() - session.started),
            initiator: false,
          },
          handover,
        ),
      );
    } catch (error) {
      secret?.destroy();
      if (!session.chosen) clock.finish(false, reasonOf(error));
    } finally {
      session.inFlight--;
    }
  }

  private async answerDirect(
    from: string,
    offer: SignalBody & { scope: DirectScope },
    pinnedKey: Buffer,
  ): Promise<NoiseSecretStream> {
    const t = this.timeouts;
    let addresses: SignalBody['addresses'];
    try {
      addresses = offer.scope === 'local' ? this.ctx.localAddresses() : await this.ctx.globalAddresses(t);
    } catch (error) {
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
    return answerDirect({
      ctx: this.ctx,
      from,
      offer,
      pinnedKey,
      addresses,
      intervalMs: t.punchIntervalMs,
      timeoutMs,
    });
  }
}
