import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
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

  // One shared callback: a send error (peer unreachable, buffer full) costs that answer only.
  const afterSend = (_error: Error | null): void => {};

  socket.on('message', (packet, remote) => {
    const answer = responder.answer(packet, remote.address, remote.port);
    if (answer === null) {
      onBinding?.('dropped');
      return;
    }
    socket.send(answer, remote.port, remote.address, afterSend);
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
  if (isIPv6(host)) return createSocket({ type: 'udp6', ipv6Only: false });
  return createSocket({ type: 'udp4' });
}
