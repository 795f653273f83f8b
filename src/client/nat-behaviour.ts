import { type Endpoint, normaliseIp } from '../protocol/index.js';
import type { PeerSocket } from './peer-socket.js';

/**
 * How our NAT treats the peer socket, in RFC 5780 terms, learnt from the server's two STUN ports
 * (SPEC §4.10): the pair picks its strategy from both sides' classes before the first punch.
 *
 * One server address, two ports: a NAT that maps or filters by destination *address* only looks
 * endpoint-independent here; one that does so by address and port (the "symmetric" NAT that
 * defeats plain punching) is told apart, which is what the strategy needs.
 */
export type NatMapping = 'endpoint-independent' | 'address-and-port-dependent' | 'unknown';
export type NatFiltering = 'port-independent' | 'address-and-port-dependent' | 'unknown';

export interface NatBehaviour {
  /** STUN's answer from the server's main port (S101–S102). */
  global: Endpoint;
  /** False when the global address is one of our own interfaces' (a public host, most IPv6). */
  behindNat: boolean;
  /** Same mapping towards both server ports, or a new one per destination. */
  mapping: NatMapping;
  /** Whether an answer from the server's other port (never sent to) gets through. */
  filtering: NatFiltering;
  /** The NAT kept the socket's own port. */
  portPreserved: boolean;
  /** Round trip of the first Binding transaction. */
  stunRttMs: number;
}

export interface DiscoverOptions {
  timeoutMs: number;
  /** How long to wait for the change-port answer before calling the filter port-dependent. */
  filteringWaitMs?: number;
}

const MIN_FILTERING_WAIT_MS = 250;

/**
 * Three Binding transactions: main port (global address, round trip, OTHER-ADDRESS), main port
 * with "change port" (filtering: asked before anything was sent to the other port, so only a
 * filter that ignores ports lets it in), then the other port (mapping).
 */
export async function discoverNatBehaviour(
  socket: PeerSocket,
  server: Endpoint,
  options: DiscoverOptions,
): Promise<NatBehaviour> {
  const started = performance.now();
  const first = await socket.stunBinding(server, options.timeoutMs);
  const stunRttMs = Math.round(performance.now() - started);
  const global = first.mapped;
  const own = new Set(socket.interfaces().map((i) => normaliseIp(i.host)));
  const base = {
    global,
    behindNat: !own.has(normaliseIp(global.host)),
    portPreserved: global.port === socket.port,
    stunRttMs,
  };
  const other = first.otherAddress;
  if (!other) return { ...base, mapping: 'unknown', filtering: 'unknown' };
  const alternate = {
    host: isUnspecified(other.host) ? server.host : normaliseIp(other.host),
    port: other.port,
  };
  const wait = options.filteringWaitMs ?? Math.max(MIN_FILTERING_WAIT_MS, 4 * stunRttMs);
  const filtering: NatFiltering = await socket
    .stunBinding(server, Math.min(wait, options.timeoutMs), { changePort: true })
    .then(
      () => 'port-independent' as const,
      () => 'address-and-port-dependent' as const,
    );
  const mapping: NatMapping = await socket.stunBinding(alternate, options.timeoutMs).then(
    (second) => (sameEndpoint(second.mapped, global) ? 'endpoint-independent' : 'address-and-port-dependent'),
    () => 'unknown' as const,
  );
  return { ...base, mapping, filtering };
}

/**
 * The pair's strategy before the first punch: when both NATs give each destination a new port no
 * two probes can ever meet, so the try goes straight to the relay; otherwise punch.
 */
export function punchStrategy(
  ours: NatMapping | undefined,
  theirs: NatMapping | undefined,
): 'punch' | 'relay' {
  return ours === 'address-and-port-dependent' && theirs === 'address-and-port-dependent' ? 'relay' : 'punch';
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return normaliseIp(a.host) === normaliseIp(b.host) && a.port === b.port;
}

function isUnspecified(host: string): boolean {
  const h = normaliseIp(host);
  return h === '0.0.0.0' || h === '::';
}
