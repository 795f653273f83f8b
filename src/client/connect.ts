import { randomBytes } from 'node:crypto';
import type NoiseSecretStream from '@hyperswarm/secret-stream';
import { ProtocolError, type SignalBody } from '../protocol/index.js';
import { abortable } from './abortable.js';
import type { PathAttempt } from './attempts.js';
import type { PeerContext } from './context.js';
import { type DirectScope, offerDirect } from './direct-path.js';
import { ClientError, codeOf, DisconnectedError, NoPathError, reasonOf } from './errors.js';
import { askSameNat, judgeOnClient } from './judge.js';
import { type ConnectOptions, DEFAULT_TIMEOUTS, type Timeouts } from './options.js';
import { type Carry, PathRace } from './path-race.js';
import { PeerConnection } from './peer-connection.js';
import { openRelay } from './relay-path.js';
import { CHOSEN_MARKER } from './secure-channel.js';
import { NONCE_BYTES } from './session/frames.js';
import { PathKeeper, type Plan, type RoundRun } from './session/path-keeper.js';

/** Errors that no other path can cure: stop at once and tell the caller. */
function isFatal(error: unknown): boolean {
  if (error instanceof DisconnectedError) return true;
  return (
    error instanceof ProtocolError &&
    ['NOT_BUDDY', 'BUDDY_OFFLINE', 'NOT_LOGGED_ON', 'SHUTTING_DOWN'].includes(error.code)
  );
}

interface Story {
  ctx: PeerContext;
  buddy: string;
  session: string;
  pinnedKey: Buffer;
  timeouts: Timeouts;
  attempts: PathAttempt[];
  onAttempt: ((attempt: PathAttempt) => void) | undefined;
  /** Cancels the whole connect (the client's close()). */
  signal: AbortSignal | undefined;
}

const SCOPE_OF: Record<'lan' | 'internet', DirectScope> = { lan: 'local', internet: 'global' };

/**
 * The whole connect, read top to bottom (SPEC §3.2–3.4, §4.1):
 *  1. S1–S4 judge: same NAT or not (the server's one bit, or the variant S201–S207). Only the LAN
 *     try waits for it: global addresses may go to any accepted buddy setting up a session (§4.4),
 *     so the global exchange (S101–S105) starts at once, its punching held back meanwhile.
 *  2. Same NAT → the LAN path (S51–S54); the internet punching starts after the LAN's head start.
 *     Different → the internet path only (S106): local addresses never leave (§4.4). Its punch follows
 *     both sides' NAT classes (birthday/strategy.ts): both symmetric → declined at once, the relay;
 *     one symmetric → birthday punching; else plain simultaneous punching.
 *  3. The relay (§4.3), where allowed, joins them after `relayHeadStartMs` (0: from the start).
 *  4. The connection is a session (session/session.ts): it starts on the first path whose peer
 *     proves the pinned key, the relay included, and is returned then. A direct path proven later
 *     takes over and the relay closes; once a direct path carries, the other tries are cancelled,
 *     reported as superseded, and the buddy is told to stop answering them.
 *  5. Afterwards (session/path-keeper.ts): a lost path starts a new round at once; while the relay
 *     carries, direct tries run again with back-off.
 * Every try lands in `attempts` with its time and, if it failed, why.
 */
export async function connectToBuddy(
  ctx: PeerContext,
  buddy: string,
  options: ConnectOptions & { onAttempt?: (attempt: PathAttempt) => void } = {},
): Promise<PeerConnection> {
  const started = performance.now();
  const timeouts = { ...DEFAULT_TIMEOUTS, ...definedOnly(options) };
  const choice = options.path ?? 'auto';
  const pinnedKey = await ctx.pinnedKey(buddy);
  const attempts: PathAttempt[] = [];
  // This connection's own liveness (connect options) over the client's.
  const live = { ...ctx.liveness, ...options.liveness };
  const connection = new PeerConnection(
    {
      initiator: true,
      nonce: randomBytes(NONCE_BYTES),
      started,
      timing: { probeMs: live.pathProbeMs, deadMs: live.pathDeadMs, resumeMs: live.sessionResumeMs },
    },
    { remoteUser: buddy, remoteKey: pinnedKey.toString('hex'), attempts, connectMs: 0 },
  );
  // The session's end stops every round still trying; the caller's signal stops the first.
  const ended = new AbortController();
  connection.once('close', () => ended.abort(new ClientError('CLOSED', 'the connection closed')));
  const plan: Plan = {
    lan: choice === 'auto' || choice === 'direct' || choice === 'lan',
    internet: choice === 'auto' || choice === 'direct' || choice === 'internet',
    relay: choice === 'auto' || choice === 'relay',
  };
  const round = (which: Plan, signal: AbortSignal, first: boolean): RoundRun => {
    const story: Story = {
      ctx,
      buddy,
      session: randomBytes(16).toString('hex'),
      pinnedKey,
      // A later round has a stalled session to carry: the relay races at once, punching is not held.
      timeouts: first ? timeouts : { ...timeouts, relayHeadStartMs: 0, punchHoldMs: 0 },
      attempts,
      onAttempt: options.onAttempt,
      signal,
    };
    const judged: Promise<boolean> = !which.lan
      ? Promise.resolve(false)
      : options.judge === 'client'
        ? judgeOnClient(ctx, buddy, timeouts, options.prefix)
        : askSameNat(ctx, buddy);
    judged.catch(() => {});
    return racePaths(story, judged, which, story.timeouts.punchHoldMs, (path, secret) => {
      if (!connection.wants(path)) return false;
      secret.write(Buffer.from([CHOSEN_MARKER]));
      return connection.offer({ path, stream: tune(secret, ctx, options.liveness) });
    });
  };

  const first = round(
    plan,
    options.signal ? AbortSignal.any([options.signal, ended.signal]) : ended.signal,
    true,
  );
  let carried: boolean;
  try {
    carried = await first.carried;
  } catch (error) {
    connection.destroy();
    throw error;
  }
  if (!carried) {
    connection.destroy();
    throw new NoPathError(buddy, attempts);
  }
  connection.connectMs = Math.round(performance.now() - started);
  const keeper = new PathKeeper(
    connection,
    plan,
    (which) => {
      const run = round(which, ended.signal, false);
      // A fatal answer (offline, not a buddy any more) ends the session.
      run.carried.catch((error: unknown) => connection.destroy(error as Error));
      return run;
    },
    { directRetryMs: live.directRetryMs },
  );
  keeper.watch(first);
  return connection;
}

/** Peer keep-alives hold NAT mappings open; the idle timeout notices a vanished peer. */
export function tune(
  secret: NoiseSecretStream,
  ctx: PeerContext,
  own?: ConnectOptions['liveness'],
): NoiseSecretStream {
  // This connection's own settings (connect options) over the client's.
  secret.setKeepAlive(own?.peerKeepAliveMs ?? ctx.liveness.peerKeepAliveMs);
  secret.setTimeout(own?.peerIdleTimeoutMs ?? ctx.liveness.peerIdleTimeoutMs);
  return secret;
}

function definedOnly(options: object): Partial<Timeouts> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(DEFAULT_TIMEOUTS)) {
    const value = (options as Record<string, unknown>)[name];
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) out[name] = value;
  }
  return out as Partial<Timeouts>;
}

/**
 * Steps 1–4: the LAN try once judged same NAT, with a head start; the internet exchange from the
 * start, punching once the judgement says "different" or the head start is over; the relay when the
 * direct tries are over or still running after its head start. The first verified path is returned
 * at once; the others are cancelled then and wind down in the background.
 */
function racePaths(
  story: Story,
  judged: Promise<boolean>,
  plan: Plan,
  holdMs: number,
  carry: Carry,
): RoundRun {
  const race = new PathRace(story.attempts, story.onAttempt, story.signal, carry);
  const { timeouts } = story;
  const judgement = judged.then(
    (same) => same,
    (error: unknown) => {
      race.fail(error);
      return undefined;
    },
  );
  // A hold (punchHoldMs) keeps every direct try back: the relay carries first (tests, benchmarks).
  const hold = holdMs > 0 ? race.delay(holdMs) : Promise.resolve();
  const lan = plan.lan
    ? judgement.then(async (same) => {
        if (same) {
          await hold;
          return tryDirect(story, race, 'lan', timeouts.lanTimeoutMs);
        }
        if (same === false && !plan.internet) {
          race.skip('lan', 'judged a different NAT: local addresses are not sent (S3, §4.4)');
        }
      })
    : Promise.resolve();
  const judgedGate = plan.lan
    ? judgement.then((same) => (same ? Promise.race([lan, race.delay(timeouts.lanHeadStartMs)]) : undefined))
    : Promise.resolve();
  const punchGate = holdMs > 0 ? Promise.all([judgedGate, hold]) : judgedGate;
  const internet = plan.internet
    ? tryDirect(story, race, 'internet', timeouts.internetTimeoutMs, punchGate)
    : Promise.resolve();
  const direct = Promise.all([lan, internet]);
  const relayHeadStart = plan.lan || plan.internet ? timeouts.relayHeadStartMs : 0;
  const relay = plan.relay
    ? Promise.race([direct, race.delay(relayHeadStart)]).then(() => tryRelay(story, race))
    : Promise.resolve();
  const over = Promise.all([direct, relay]).then(
    () => race.settle(),
    (error: unknown) => race.fail(error),
  );
  return { carried: race.outcome.then((winner) => winner !== undefined), over };
}

/** S51–S54 (local) or S101–S106 (global): one direct try, from gathering addresses to the proof. */
async function tryDirect(
  story: Story,
  race: PathRace,
  path: 'lan' | 'internet',
  timeoutMs: number,
  beforePunch?: Promise<unknown>,
): Promise<void> {
  if (race.isOver) return;
  const attempt = race.begin(path, timeoutMs);
  const scope = SCOPE_OF[path];
  const { ctx, timeouts } = story;
  let stage = 'gathering addresses';
  let offered = false;
  try {
    // S51 (local) or S101–S102 (global: STUN through the peer socket); a late STUN answer is dropped.
    const addresses =
      scope === 'local'
        ? ctx.localAddresses()
        : await abortable(ctx.globalAddresses(timeouts), attempt.signal);
    offered = true; // offerDirect sends the offer first thing: from here on the buddy may be punching

    const secret = await offerDirect({
      ctx,
      buddy: story.buddy,
      session: story.session,
      scope,
      pinnedKey: story.pinnedKey,
      addresses,
      answerTimeoutMs: timeouts.answerTimeoutMs,
      intervalMs: timeouts.punchIntervalMs,
      handshakeTimeoutMs: timeoutMs,
      tcpTimeoutMs: timeouts.tcpDialTimeoutMs,
      signal: attempt.signal,
      ...(beforePunch ? { beforePunch } : {}),
      onStage: (s) => {
        stage = s;
      },
    });
    race.prove(attempt, secret);
  } catch (error) {
    if (isFatal(error)) race.fail(error);
    const superseded = race.winner && attempt.cancelled && !attempt.hasTimedOut;
    const reason = superseded
      ? `superseded by ${race.winner?.path}`
      : attempt.hasTimedOut
        ? `timed out after ${timeoutMs} ms while ${stage}`
        : reasonOf(error);
    race.lose(attempt, reason, superseded ? 'SUPERSEDED' : attempt.hasTimedOut ? 'TIMEOUT' : codeOf(error));
    // The buddy is still punching for this try: tell it, so it stops now rather than at its timeout.
    if (offered && attempt.cancelled) tellBuddyCancelled(story, scope, reason);
  }
}

/** Step 4: the relay of last resort (§4.3); never opened once a direct path has won. */
async function tryRelay(story: Story, race: PathRace): Promise<void> {
  if (race.isOver) return;
  const attempt = race.begin('relay');
  try {
    const secret = await openRelay({
      ctx: story.ctx,
      buddy: story.buddy,
      session: story.session,
      pinnedKey: story.pinnedKey,
      isInitiator: true,
      timeoutMs: story.timeouts.relayTimeoutMs,
      signal: attempt.signal,
    });
    race.prove(attempt, secret);
  } catch (error) {
    if (isFatal(error)) race.fail(error);
    const forbidden = error instanceof ProtocolError && error.code === 'FORBIDDEN';
    const superseded = race.winner && attempt.cancelled;
    const reason = superseded
      ? `superseded by ${race.winner?.path}`
      : forbidden
        ? 'the server has the relay switched off'
        : reasonOf(error);
    race.lose(attempt, reason, superseded ? 'SUPERSEDED' : codeOf(error));
    // The buddy may be waiting at the relay for us: let it go.
    if (attempt.cancelled) tellBuddyCancelled(story, 'relay', reason);
  }
}

/**
 * A signal `abort` for one scope of this session: the buddy stops answering it (punching, waiting at
 * the relay). Best effort: a closed control channel just drops it, and the buddy's own timeout stays.
 */
function tellBuddyCancelled(story: Story, scope: SignalBody['scope'], reason: string): void {
  const body: SignalBody = {
    session: story.session,
    purpose: 'abort',
    scope,
    addresses: [],
    reason: reason.slice(0, 200),
  };
  story.ctx.request('signal', { to: story.buddy, body }).catch(() => {});
}
