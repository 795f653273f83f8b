import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

/**
 * The floor of the cluster benchmark's memory figure: a bare `ws` server (http server, default options,
 * echo on message) in a process of its own, printing `{"ws": URL}` once listening.
 */
const http = createServer();
const wss = new WebSocketServer({ server: http });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
http.listen(0, '127.0.0.1', () => {
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ ws: `ws://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
