import type { Redis } from 'ioredis';
import { z } from 'zod';
import { type ServerEvent, serverEvent } from '../protocol/events.js';
import { endpoint, sessionId, userName } from '../protocol/fields.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { ServiceUnavailableError } from '../store/errors.js';
import type { NodeLinks } from './node-link.js';

type EventBody = ServerEvent extends infer E ? (E extends unknown ? Omit<E, 'v'> : never) : never;

/** An event for one connection of the receiving node; a signal names its route (signal-routes.ts). */
const deliverMessage = z
  .object({
    kind: z.literal('deliver'),
    connectionId: z.string().min(1).max(64),
    event: serverEvent,
    route: z
      .object({ from: userName, to: userName, session: sessionId, fromConnection: z.string().min(1).max(64) })
      .strict()
      .optional(),
  })
  .strict();

/** A relation changed: every node forgets what it cached about the pair. */
const relationMessage = z.object({ kind: z.literal('relation'), a: userName, b: userName }).strict();

const nodeName = z.string().min(1).max(64);

/** Sessions revoked (or a password changed) on one node: every node cuts its live connections holding them. */
const sessionsEndMessage = z
  .object({
    kind: z.literal('sessions.end'),
    from: nodeName,
    user: userName,
    tokenHashes: z.array(z.string().regex(/^[0-9a-f]{64}$/)).max(10_000),
    reason: z.enum(['revoked', 'expired', 'password changed']),
  })
  .strict();
const requestId = z.string().regex(/^[0-9a-f]{16}$/);

/** Asks the node that relays a session for one buddy's ticket (relay-route.ts). */
const relayOpenMessage = z
  .object({
    kind: z.literal('relay.open'),
    requestId,
    replyTo: nodeName,
    user: userName,
    buddy: userName,
    session: sessionId,
  })
  .strict();

/** The answer: a ticket on the relaying node, or the error code it refused with. */
const relayTicketMessage = z
  .object({
    kind: z.literal('relay.ticket'),
    requestId,
    ticket: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/)
      .optional(),
    error: z.string().max(40).optional(),
  })
  .strict();

/** The variant (--reveal-addresses): asks the node that holds a connection for its registered address. */
const addressAskMessage = z
  .object({
    kind: z.literal('address.ask'),
    requestId,
    replyTo: nodeName,
    connectionId: z.string().min(1).max(64),
  })
  .strict();

/** The answer; no address when the node does not reveal or no longer holds the connection. */
const addressAnswerMessage = z
  .object({ kind: z.literal('address.answer'), requestId, address: endpoint.optional() })
  .strict();

const busMessage = z.discriminatedUnion('kind', [
  addressAskMessage,
  addressAnswerMessage,
  deliverMessage,
  relationMessage,
  relayOpenMessage,
  relayTicketMessage,
  sessionsEndMessage,
]);
export type SessionsEndMessage = z.infer<typeof sessionsEndMessage>;
export type RelayOpenMessage = z.infer<typeof relayOpenMessage>;
export type AddressAskMessage = z.infer<typeof addressAskMessage>;
export type AddressAnswerMessage = z.infer<typeof addressAnswerMessage>;
export type RelayTicketMessage = z.infer<typeof relayTicketMessage>;
export type DeliverMessage = z.infer<typeof deliverMessage>;
export type SignalRoute = NonNullable<DeliverMessage['route']>;

export interface BusHandlers {
  deliver(connectionId: string, event: EventBody, route: SignalRoute | undefined): void;
  relationChanged(a: string, b: string): void;
  relayOpen?(m: RelayOpenMessage): void;
  relayTicket?(m: RelayTicketMessage): void;
  addressAsk?(m: AddressAskMessage): void;
  addressAnswer?(m: AddressAnswerMessage): void;
  sessionsEnd?(m: SessionsEndMessage): void;
}

/**
 * Node-to-node messages: to one node on the direct link to it (node-link.ts) when open, else on its
 * channel in Redis; to every node (relation changes, revoked sessions) on one shared Redis channel.
 * Every message is parsed with a schema before use; a bad one is dropped and counted, never trusted.
 */
export class ClusterBus {
  readonly #publisher: Redis;
  readonly #links: NodeLinks | undefined;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #nodeChannel: string;
  readonly #relationsChannel: string;
  dropped = 0;
  #handlers: BusHandlers | undefined;
  /** Deliveries whose write to Redis failed after it was handed over. */
  lost = 0;

  constructor(options: {
    publisher: Redis;
    subscriber: Redis;
    prefix: string;
    nodeId: string;
    links?: NodeLinks;
  }) {
    this.#links = options.links;
    this.#publisher = options.publisher;
    this.#subscriber = options.subscriber;
    this.#prefix = options.prefix;
    this.#nodeChannel = this.#channelOf(options.nodeId);
    this.#relationsChannel = `${options.prefix}relations`;
  }

  /** Subscribes; ioredis subscribes again by itself after a reconnect. */
  async start(handlers: BusHandlers): Promise<void> {
    this.#handlers = handlers;
    this.#subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.#nodeChannel || channel === this.#relationsChannel) this.receive(text);
    });
    await this.#subscriber.subscribe(this.#nodeChannel, this.#relationsChannel);
  }

  /** A message for this node, from Redis or from another node's link (node-link.ts). */
  receive(text: string): void {
    const handlers = this.#handlers;
    const parsed = busMessage.safeParse(safeJson(text));
    if (!handlers || !parsed.success) {
      this.dropped++;
      return;
    }
    const m = parsed.data;
    if (m.kind === 'relation') handlers.relationChanged(m.a, m.b);
    else if (m.kind === 'relay.open') handlers.relayOpen?.(m);
    else if (m.kind === 'relay.ticket') handlers.relayTicket?.(m);
    else if (m.kind === 'address.ask') handlers.addressAsk?.(m);
    else if (m.kind === 'address.answer') handlers.addressAnswer?.(m);
    else if (m.kind === 'sessions.end') handlers.sessionsEnd?.(m);
    else {
      const { v: _v, ...body } = m.event;
      handlers.deliver(m.connectionId, body as EventBody, m.route);
    }
  }

  /**
   * Hands an event to the node that holds the connection. Written at once, not awaited: the reply to the
   * sender need not wait for Redis's, and pub/sub tells nothing of delivery anyway. Only a Redis known
   * to be away refuses (UNAVAILABLE); a write that fails later is counted.
   */
  deliver(node: string, connectionId: string, event: EventBody, route?: SignalRoute): void {
    const message: DeliverMessage = {
      kind: 'deliver',
      connectionId,
      event: { v: PROTOCOL_VERSION, ...event } as ServerEvent,
      ...(route ? { route } : {}),
    };
    this.#toNode(node, JSON.stringify(message));
  }

  /** Tells every node (this one too) that the pair's relation changed. */
  async relationChanged(a: string, b: string): Promise<void> {
    await this.#publisher.publish(this.#relationsChannel, JSON.stringify({ kind: 'relation', a, b }));
  }

  /** Tells every node (this one too) to cut the live connections holding these sessions. */
  async endSessions(m: Omit<SessionsEndMessage, 'kind'>): Promise<void> {
    await this.#publisher.publish(this.#relationsChannel, JSON.stringify({ kind: 'sessions.end', ...m }));
  }

  /** Sends a relay message to one node. */
  async toNode(
    node: string,
    message: RelayOpenMessage | RelayTicketMessage | AddressAskMessage | AddressAnswerMessage,
  ): Promise<void> {
    this.#toNode(node, JSON.stringify(message));
  }

  /** On the direct link to the node when one is open, else through Redis; refused while Redis is away. */
  #toNode(node: string, text: string): void {
    if (this.#publisher.status !== 'ready') throw new ServiceUnavailableError('cluster bus');
    if (this.#links?.send(node, text)) return;
    this.#publisher.publish(this.#channelOf(node), text).catch(() => {
      this.lost++;
    });
  }

  #channelOf(node: string): string {
    return `${this.#prefix}node:${node}`;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
