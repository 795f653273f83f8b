import { type WebSocket, WebSocketServer } from 'ws';

/**
 * The ICE pair's signalling server, for the comparison over the same hops as ours: a WebSocket
 * server in the lab's server host that passes each text frame from the offerer to the answerer and
 * back (what a WebRTC app's signalling server does, minus accounts). argv: HOST PORT.
 */

const [host = '0.0.0.0', port = '7080'] = process.argv.slice(2);
const peers = new Map<string, WebSocket>();
const wss = new WebSocketServer({ host, port: Number(port) });
wss.on('connection', (socket, request) => {
  const role = new URL(request.url ?? '/', 'ws://x').searchParams.get('role') ?? '';
  if (role !== 'offerer' && role !== 'answerer') {
    socket.close(1008, 'role');
    return;
  }
  const other = role === 'offerer' ? 'answerer' : 'offerer';
  peers.set(role, socket);
  socket.on('message', (data, isBinary) => {
    if (!isBinary) peers.get(other)?.send(data.toString('utf8'));
  });
  socket.on('close', () => {
    if (peers.get(role) === socket) peers.delete(role);
  });
});
wss.on('listening', () =>
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: Number(port) })}\n`),
);
process.on('SIGTERM', () => process.exit(0));
