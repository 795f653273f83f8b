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
 * - With `alternatePort`, a second socket answers too, and every answer names the other one in
 *   OTHER-ADDRESS (RFC 5780 §7.4); CHANGE-REQUEST "change port" is answered from the other socket,
 *   so a client can tell how its NAT maps and filters. One address only: "change IP" gets 420.
 */

export interface StunServerOptions {
  host: string;
  port: number;
  software?: string;
  /** A second port on the same host for NAT behaviour discovery (RFC 5780); 0 picks a free one. */
  alternatePort?: number;
  onBinding?: (outcome: 'answered' | 'dropped' | 'limited') => void;
  /** Per-source admission (a token bucket per source): false drops the datagram unanswered. */
  admit?: (ip: string) => boolean;
  /** Also send MAPPED-ADDRESS (RFC 3489-era readers); without it, answers stay as small as they can. */
  mappedAddress?: boolean;
}

export interface StunServer {
  readonly host: string;
  readonly port: number;
  /** The second socket's port, when there is one. */
  readonly alternatePort: number | undefined;
  close(): Promise<void>;
}

type UdpSocket = ReturnType<typeof createUdpSocket>;

async function bindSocket(host: string, port: number): Promise<UdpSocket> {
  const socket = createUdpSocket();
  // Binding on '::' without IPV6ONLY is dual stack; IPv4 peers arrive as plain IPv4 addresses
  // (and mapped ones, should a platform deliver them so, are answered as IPv4 by the responder).
  try {
    socket.bind(port, host);
  } catch (error) {
    await socket.close();
    throw error;
  }
  try {
    socket.setRecvBufferSize(STUN_DEFAULTS.serverReceiveBufferBytes);
  } catch {
    // The kernel may cap the size (net.core.rmem_max); the default buffer still works.
  }
  return socket;
}

function boundPort(socket: UdpSocket): { host: string; port: number } {
  const bound = socket.address();
  if (!bound) throw new Error('STUN socket did not bind');
  return { host: bound.host, port: bound.port };
}

export async function startStunServer(options: StunServerOptions): Promise<StunServer> {
  const software = options.software ?? STUN_DEFAULTS.software;
  const onBinding = options.onBinding;
  const admit = options.admit;
  const mapped = options.mappedAddress ?? true;
  const primary = await bindSocket(options.host, options.port);
  let alternate: UdpSocket | undefined;
  if (options.alternatePort !== undefined) {
    try {
      alternate = await bindSocket(options.host, options.alternatePort);
    } catch (error) {
      await primary.close();
      throw error;
    }
  }
  const main = boundPort(primary);
  const other = alternate ? boundPort(alternate) : undefined;

  const serve = (socket: UdpSocket, responder: BindingResponder, sibling: UdpSocket | undefined) => {
    socket.on('message', (packet, remote) => {
      if (admit && !admit(remote.host)) {
        onBinding?.('limited');
        return;
      }
      const answer = responder.answer(packet, remote.host, remote.port);
      if (answer === null) {
        onBinding?.('dropped');
        return;
      }
      // A failed send costs that one answer; the client retransmits (RFC 8489 §6.2.1).
      const from = responder.fromAlternate && sibling ? sibling : socket;
      from.trySend(answer, remote.port, remote.host);
      onBinding?.('answered');
    });
  };
  serve(primary, new BindingResponder(software, other, mapped), alternate);
  if (alternate) serve(alternate, new BindingResponder(software, main, mapped), primary);

  let closed: Promise<void> | undefined;
  return {
    host: main.host,
    port: main.port,
    alternatePort: other?.port,
    close() {
      closed ??= Promise.all([primary.close(), alternate?.close()]).then(() => undefined);
      return closed;
    },
  };
}
