import { STUN_DEFAULTS } from './options.js';
import { BindingResponder } from './responder.js';
import { createUdpSocket } from './udp-socket.js';

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

export async function startStunServer(options: StunServerOptions): Promise<StunServer> {
  const responder = new BindingResponder(options.software ?? STUN_DEFAULTS.software);
  const onBinding = options.onBinding;
  const socket = createUdpSocket();

  socket.on('message', (packet, remote) => {
    const answer = responder.answer(packet, remote.host, remote.port);
    if (answer === null) {
      onBinding?.('dropped');
      return;
    }
    // A failed send costs that one answer; the client retransmits (RFC 8489 §6.2.1).
    socket.trySend(answer, remote.port, remote.host);
    onBinding?.('answered');
  });

  // Binding on '::' without IPV6ONLY is dual stack; IPv4 peers arrive as plain IPv4 addresses
  // (and mapped ones, should a platform deliver them so, are answered as IPv4 by the responder).
  try {
    socket.bind(options.port, options.host);
  } catch (error) {
    await socket.close();
    throw error;
  }
  try {
    socket.setRecvBufferSize(STUN_DEFAULTS.serverReceiveBufferBytes);
  } catch {
    // The kernel may cap the size (net.core.rmem_max); the default buffer still works.
  }
  const bound = socket.address();
  if (!bound) throw new Error('STUN socket did not bind');
  let closed: Promise<void> | undefined;
  return {
    host: bound.host,
    port: bound.port,
    close() {
      closed ??= socket.close();
      return closed;
    },
  };
}
