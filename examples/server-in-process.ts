// The server in-process: every port chosen by the system, nothing on disk, closed at the end.

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'buddylink';
import { startServer } from 'buddylink/server';

const server = await startServer({
  host: '127.0.0.1',
  port: 0,
  stunPort: 0,
  httpPort: 0,
  dataDir: null,
  logLevel: 'silent',
});
console.log(`server on ${server.urls.ws}, STUN ${server.urls.stun}`);
const client = await Client.createAccount({
  server: server.urls.ws,
  stun: server.urls.stun,
  user: 'carol',
  password: 'example password 1',
  home: await mkdtemp(join(tmpdir(), 'buddylink-example-')),
});
console.log(`logged on as ${client.user}, own address ${JSON.stringify(await client.ownAddress())}`);
await client.close();
await server.close();
