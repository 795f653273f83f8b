import { connect, createServer } from 'node:net';

/**
 * iperf3's relay hop: a plain TCP forwarder in the lab's server host, so that iperf3 crosses the same
 * hops as our relay (alice → her NAT → the server, in user space → bob's NAT → bob). Kernel TCP on
 * both legs, one pipe() per direction. argv: LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT.
 */

const [listenHost = '0.0.0.0', listenPort = '5301', targetHost = '127.0.0.1', targetPort = '5201'] =
  process.argv.slice(2);

const server = createServer((inbound) => {
  const outbound = connect(Number(targetPort), targetHost);
  inbound.pipe(outbound);
  outbound.pipe(inbound);
  const close = () => {
    inbound.destroy();
    outbound.destroy();
  };
  inbound.on('error', close);
  outbound.on('error', close);
});
server.listen(Number(listenPort), listenHost, () =>
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: Number(listenPort) })}\n`),
);
process.on('SIGTERM', () => process.exit(0));
