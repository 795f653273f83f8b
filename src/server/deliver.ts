import type {
  AddressAnswerMessage,
  AddressAskMessage,
  RelayOpenMessage,
  RelayTicketMessage,
  SessionsEndMessage,
  SignalRoute,
} from '../cluster/bus.js';
import type { ServerEvent } from '../protocol/events.js';
import type { OnlineDevice } from '../store/online.js';
import type { ServerContext } from './context.js';
import { endLocalSessions } from './sessions.js';

type EventBody = ServerEvent extends infer E ? (E extends unknown ? Omit<E, 'v'> : never) : never;

/**
 * Writes an event to one online device: on its connection when this node holds it, else through the
 * bus to the node that does (SPEC §4.8). False when this node holds no such connection any more.
 */
export async function deliverToDevice(
  ctx: ServerContext,
  device: OnlineDevice,
  event: EventBody,
  route?: SignalRoute,
): Promise<boolean> {
  if (device.node === undefined || !ctx.cluster || device.node === ctx.cluster.nodeId) {
    const connection = ctx.connections.get(device.connectionId);
    connection?.sendEvent(event);
    return connection !== undefined;
  }
  ctx.cluster.bus.deliver(device.node, device.connectionId, event, route);
  return true;
}

/**
 * What a node does with the bus's messages: events for its connections (a signal also teaches the
 * route back, so that the answer returns to the device that asked), and relation changes that void
 * what it cached about a pair.
 */
export function busHandlers(ctx: ServerContext, forgetRelation: (a: string, b: string) => void) {
  return {
    deliver(connectionId: string, event: EventBody, route: SignalRoute | undefined): void {
      const connection = ctx.connections.get(connectionId);
      if (!connection) return;
      if (route)
        ctx.signalRoutes.remember(route.from, route.to, route.session, {
          [route.from]: route.fromConnection,
          [route.to]: connectionId,
        });
      connection.sendEvent(event);
    },
    sessionsEnd(m: SessionsEndMessage): void {
      // This node cut its own already, before telling the others.
      if (ctx.cluster && m.from !== ctx.cluster.nodeId)
        endLocalSessions(ctx, m.user, new Set(m.tokenHashes), m.reason);
    },
    relationChanged(a: string, b: string): void {
      forgetRelation(a, b);
      ctx.signalRoutes.forgetPair(a, b);
      // A removed buddy's relay sessions end on the node that relays them, whichever node removed it.
      ctx.store.findRelation(a, b).then(
        (r) => {
          if (r?.state !== 'accepted') ctx.relay.closePair(a, b);
        },
        () => {},
      );
    },
    relayOpen(m: RelayOpenMessage): void {
      void ctx.cluster?.relay.answer(m, () => ctx.relay.open(m.user, m.buddy, m.session)).catch(() => {});
    },
    relayTicket(m: RelayTicketMessage): void {
      ctx.cluster?.relay.onTicket(m);
    },
    addressAsk(m: AddressAskMessage): void {
      // Only a node that reveals addresses itself answers with one (the operator's choice, per node).
      const address = ctx.options.revealAddresses ? ctx.cluster?.online.addressOf(m.connectionId) : undefined;
      void ctx.cluster?.reveal.answer(m.replyTo, m.requestId, address).catch(() => {});
    },
    addressAnswer(m: AddressAnswerMessage): void {
      ctx.cluster?.reveal.onAnswer(m);
    },
  };
}
