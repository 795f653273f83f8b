import { type Endpoint, normaliseIp } from '../protocol/index.js';
import type { NatMapping } from './nat-behaviour.js';
import type { PeerSocket } from './peer-socket.js';

/**
 * What each offer and answer says about the sender's NAT (issue 10, item 3): its mapping, from the
 * server's two STUN ports, learnt with the global address and cached with it, so the pair picks its
 * punch strategy before the first punch. Filtering is not needed for that and costs a wait, so it
 * stays `buddylink doctor`'s (nat-behaviour.ts).
 */
export interface NatClass {
  mapping: NatMapping;
  portPreserved: boolean;
}

/** The alternate port's answer may be late on a loaded machine; this long, at least, is waited. */
const MIN_ALTERNATE_WAIT_MS = 250;

/**
 * The global address (S101–S102, main STUN port) and the mapping class: the same Binding again to
 * the port the answer names in OTHER-ADDRESS. A server without a second port leaves it 'unknown'.
 * With `alternate` known from an earlier answer both Bindings go out at once (one round trip, not two).
 */
export async function learnWithClass(
  socket: PeerSocket,
  server: Endpoint,
  timeoutMs: number,
  alternate?: Endpoint,
): Promise<{ global: Endpoint; nat: NatClass; alternate?: Endpoint }> {
  const started = performance.now();
  const early = alternate ? socket.stunBinding(alternate, timeoutMs) : undefined;
  early?.catch(() => {});
  const first = await socket.stunBinding(server, timeoutMs);
  const rttMs = performance.now() - started;
  const global = first.mapped;
  const portPreserved = global.port === socket.port;
  const other = first.otherAddress;
  if (!other) return { global, nat: { mapping: 'unknown', portPreserved } };
  const host = normaliseIp(other.host);
  const named = { host: host === '0.0.0.0' || host === '::' ? server.host : host, port: other.port };
  const sameAsKnown = alternate && alternate.host === named.host && alternate.port === named.port;
  const wait = Math.min(timeoutMs, Math.max(MIN_ALTERNATE_WAIT_MS, 4 * rttMs));
  const second = sameAsKnown && early ? early : socket.stunBinding(named, wait);
  const mapping: NatMapping = await second.then(
    (answer) =>
      normaliseIp(answer.mapped.host) === normaliseIp(global.host) && answer.mapped.port === global.port
        ? 'endpoint-independent'
        : 'address-and-port-dependent',
    () => 'unknown' as const,
  );
  return { global, nat: { mapping, portPreserved }, alternate: named };
}
