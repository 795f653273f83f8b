import type { WebSocket, WebSocketServer } from 'ws';

/**
 * A control connection whose peer vanished (NAT mapping dropped, laptop lid closed) sends no TCP FIN;
 * without a heartbeat its device would stay "online" and keep receiving judgements and signals.
 * Every interval each socket is pinged (RFC 6455 §5.5.2); one that did not answer the previous ping
 * is cut, which logs its device off.
 */
export function startHeartbeat(wss: WebSocketServer, intervalSeconds: number): () => void {
  const alive = new WeakMap<WebSocket, boolean>();
  wss.on('connection', (socket) => {
    alive.set(socket, true);
    socket.on('pong', () => alive.set(socket, true));
  });
  const timer = setInterval(() => {
    for (const socket of wss.clients) {
      if (alive.get(socket) === false) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
