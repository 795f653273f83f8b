import NoiseSecretStream from '@hyperswarm/secret-stream';
import { Answerer } from '../../src/client/answer.js';
import { AnswerBoard } from '../../src/client/answer-board.js';
import { Client } from '../../src/client/client.js';
import { PeerSocket } from '../../src/client/peer-socket.js';
import { Puncher } from '../../src/client/punch.js';
import type { SignalBody } from '../../src/protocol/index.js';

/**
 * Where a connect's time goes, for the lab-connect benchmark only: wraps a few client methods in
 * the agent's process (bench code; the client itself is unchanged) and notes the wall-clock time
 * of each step the first time it happens. Both agents run on one machine, so their clocks
 * (performance.timeOrigin + now) line up to well under a millisecond.
 */

export type TraceEvents = Record<string, number>;

let events: TraceEvents = {};

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Notes `name` the first time since the last `takeTrace()`. */
export function mark(name: string): void {
  events[name] ??= now();
}

/** The events noted so far, and a fresh start. */
export function takeTrace(): TraceEvents {
  const taken = events;
  events = {};
  return taken;
}

// biome-ignore lint/suspicious/noExplicitAny: wrapping methods of the client's classes, bench only.
type AnyFunction = (this: any, ...args: any[]) => any;

/** Wraps `method`; a method the client no longer has is left out (the trace then lacks its step). */
function wrap(proto: object, method: string, around: (original: AnyFunction) => AnyFunction): void {
  const target = proto as Record<string, AnyFunction>;
  const original = target[method];
  if (typeof original !== 'function') {
    process.stderr.write(`trace: no method ${method} to wrap; its step is not traced\n`);
    return;
  }
  target[method] = around(original);
}

function settled<T>(promise: Promise<T>, name: string): Promise<T> {
  promise.then(
    () => mark(name),
    () => {},
  );
  return promise;
}

/** Installs the wrappers once per process. */
export function installTrace(): void {
  wrap(
    PeerSocket.prototype,
    'stunQuery',
    (original) =>
      function (this: unknown, ...args) {
        mark('stun sent');
        return settled(original.apply(this, args), 'stun answered');
      },
  );
  wrap(
    Client.prototype,
    'request',
    (original) =>
      function (this: unknown, type: string, fields: { body?: SignalBody }) {
        const name =
          type === 'signal' ? `${fields.body?.purpose ?? '?'} (${fields.body?.scope ?? '?'})` : type;
        mark(`${name} sent`);
        return settled(original.call(this, type, fields), `${name} acknowledged by the server`);
      },
  );
  wrap(
    Answerer.prototype,
    'onOffer',
    (original) =>
      function (this: unknown, from: string, offer: SignalBody) {
        mark(`offer (${offer.scope}) received`);
        return original.call(this, from, offer);
      },
  );
  wrap(
    AnswerBoard.prototype,
    'deliver',
    (original) =>
      function (this: unknown, from: string, body: SignalBody) {
        mark(`${body.purpose} (${body.scope}) received`);
        return original.call(this, from, body);
      },
  );
  wrap(
    Puncher.prototype,
    'start',
    (original) =>
      function (this: unknown, ...args) {
        mark('punching started');
        return original.apply(this, args);
      },
  );
  wrap(
    Puncher.prototype,
    'firstAck',
    (original) =>
      function (this: unknown) {
        return settled(original.call(this), 'first punch ack');
      },
  );
  wrap(
    NoiseSecretStream.prototype,
    'emit',
    (original) =>
      function (this: unknown, name: string, ...args) {
        if (name === 'connect') mark('Noise handshake done');
        return original.call(this, name, ...args);
      },
  );
}
