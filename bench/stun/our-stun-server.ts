import { startStunServer } from '../../src/stun/server.js';

/**
 * Our STUN server alone in a process, as `buddylink server` would run it, so that the benchmark can
 * pin it to one core and read its CPU time. Prints {"port":N} once listening; exits on SIGTERM.
 */
const server = await startStunServer({ host: process.argv[2] ?? '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
