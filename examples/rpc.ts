// RPC: requests with replies, a typed failure, and several calls in flight at once.
import { Mux, MuxError } from 'buddylink';
import { twoBuddies } from './shared.js';

const [alice, bob] = await twoBuddies();

bob.on('connection', (connection) => {
  new Mux(connection).handle(async (request) => {
    const { method, args } = request as { method: string; args: number[] };
    if (method === 'sum') return args.reduce((a, b) => a + b, 0);
    throw new Error(`no method ${method}`);
  });
});

const rpc = new Mux(await alice.connect(bob.user));
const sums = await Promise.all([
  rpc.request({ method: 'sum', args: [1, 2] }),
  rpc.request({ method: 'sum', args: [40, 2] }),
]);
console.log(`sums: ${sums.join(', ')}`);
try {
  await rpc.request({ method: 'nope', args: [] });
} catch (error) {
  if (error instanceof MuxError) console.log(`failed as expected: ${error.code}: ${error.message}`);
}
await rpc.close();
await alice.close();
await bob.close();
if (sums[1] !== 42) process.exitCode = 1;
