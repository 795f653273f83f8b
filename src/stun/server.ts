import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { STUN_DEFAULTS } from './options.js';
import { BindingResponder } from './responder.js';

/**
 * RFC 8489 STUN server on UDP: answers Binding requests with the source address and port it saw
 * (§0093–0097 of the seed: the server copies the NAT-rewritten source into the answer, S141–S143).
 * Knows nothing of accounts or buddies.
 *
 * Deliberate choices:
 * - Malformed datagrams, indications, responses and other methods are dropped without answer
 *   (RFC 8489 §6.3: "silently discarded"), so the server cannot be used as a reflector for junk.
 * - Requests without the magic cookie (RFC 3489 clients, §12) are dropped too: the cookie is what
 *   lets STUN share a port with other protocols, and such clients are long extinct.
 * - Requests with unknown comprehension-required attributes get a 420 answer (§6.3.1.1), reported
 *   as 'answered'.
 */

export interface StunServerOptions {
  host: string;
  port: number;
  software?: string;
  onBinding?: (outcome: 'answered' | 'dropped') => void;
}

export interface StunServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export function startStunServer(options: StunServerOptions): Promise<StunServer> {
  const responder = new BindingResponder(options.software ?? STUN_DEFAULTS.software);
  const onBinding = options.onBinding;
  const socket = openSocket(options.host);

  socket.on('message', (packet, remote) => {
    const answer = responder.answer(packet, remote.address, remote.port);
    if (answer === null) {
      onBinding?.('dropped');
      return;
    }
    // No send callback: with one, Node schedules a process.nextTick per datagram even when the
    // kernel took it at once (profiled: ~25% of the server's JavaScript time). A failed send costs
    // that one answer; the client retransmits (RFC 8489 §6.2.1).
    socket.send(answer, remote.port, remote.address);
    onBinding?.('answered');
  });

  return new Promise((resolve, reject) => {
    const failBind = (error: Error): void => reject(error);
    socket.once('error', failBind);
    socket.bind({ address: options.host, port: options.port, exclusive: true }, () => {
      socket.off('error', failBind);
      // After binding, socket errors (e.g. ICMP-reported send failures) must not crash the process.
      socket.on('error', () => {});
      try {
        socket.setRecvBufferSize(STUN_DEFAULTS.serverReceiveBufferBytes);
      } catch {
        // The kernel may cap the size (net.core.rmem_max); the default buffer still works.
      }
      const bound = socket.address();
      let closed: Promise<void> | undefined;
      resolve({
        host: bound.address,
        port: bound.port,
        close() {
          closed ??= new Promise<void>((done) => socket.close(() => done()));
          return closed;
        },
      });
    });
  });
}

/** '::' is dual stack (IPv4 peers arrive as ::ffff:a.b.c.d and are answered as IPv4). */
function openSocket(host: string): Socket {
  if (isIPv6(host)) return createSocket({ type: 'udp6', ipv6Only: false, lookup: literalLookup });
  return createSocket({ type: 'udp4', lookup: literalLookup });
}

/**
 * dgram resolves every destination through dns.lookup, which for an IP literal answers on the next
 * tick: one extra trip through the tick queue per answer. The server only ever sends to the source
 * address of a datagram, always a literal, so answer those synchronously.
 */
function literalLookup(
  address: string,
  options: LookupOneOptions | number, // Node 20 passes the family number; @types/node says options
  callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  // Answers go back to the source of the request, mostly the same peer again and again: remember
  // the last literal so the IP check (a regular expression) runs once per peer, not per answer.
  if (address === lastLiteral.address) {
    callback(null, address, lastLiteral.family);
    return;
  }
  const literal = isIP(address);
  if (literal === 0) {
    dnsLookup(address, typeof options === 'number' ? { family: options } : options, callback);
    return;
  }
  lastLiteral.address = address;
  lastLiteral.family = literal;
  callback(null, address, literal);
}

const lastLiteral = { address: '', family: 0 };
