import type { WebSocket, WebSocketServer } from 'ws';

/**
 * How many ticks one heartbeat interval is cut into. Each tick pings only the sockets of its slot, so
 * a sweep over 19,000 clients no longer stalls the event loop for 0.4–0.9 s at once (BENCHMARKS.md,
 * "Same-NAT judgement"). 1,000 rather than 100: a ping and its pong cost ~30 µs of server CPU per
 * client, and a request that arrives during a tick waits for it; at the default 30 s a tick every 30 ms
 * handles 19 sockets per 19,000 clients (~0.6 ms), 50 at 50,000.
 */
export const HEARTBEAT_SLOTS = 1_000;
/** Shortest tick; a short heartbeat (tests) gets fewer slots rather than sub-millisecond timers. */
export const HEARTBEAT_MIN_TICK_MS = 10;

/**
 * A control connection whose peer vanished (NAT mapping dropped, laptop lid closed) sends no TCP FIN;
 * without a heartbeat its device would stay "online" and keep receiving judgements and signals.
 * Every interval each socket is pinged (RFC 6455 §5.5.2); one that did not answer its previous ping
 * is cut, which logs its device off. The sockets are spread round-robin over slots, one slot per tick,
 * so each socket is still pinged once per interval.
 */
export function startHeartbeat(wss: WebSocketServer, intervalSeconds: number): () => void {
  const intervalMs = intervalSeconds * 1000;
  const slotCount = Math.max(1, Math.min(HEARTBEAT_SLOTS, Math.floor(intervalMs / HEARTBEAT_MIN_TICK_MS)));
  const slots = Array.from({ length: slotCount }, () => new Set<WebSocket>());
  const alive = new WeakMap<WebSocket, boolean>();
  let nextSlotForNew = 0;
  let tick = 0;
  wss.on('connection', (socket) => {
    const slot = slots[nextSlotForNew] as Set<WebSocket>;
    nextSlotForNew = (nextSlotForNew + 1) % slotCount;
    slot.add(socket);
    alive.set(socket, true);
    socket.on('pong', () => alive.set(socket, true));
    socket.on('close', () => slot.delete(socket));
  });
  const timer = setInterval(() => {
    const slot = slots[tick] as Set<WebSocket>;
    tick = (tick + 1) % slotCount;
    for (const socket of slot) {
      if (alive.get(socket) === false) {
        slot.delete(socket);
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, intervalMs / slotCount);
  timer.unref();
  return () => clearInterval(timer);
}
