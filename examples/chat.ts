// Chat: messages both ways over one connection, with a connect that gives up after 10 s.
import { once } from 'node:events';
import { ClientError, Mux } from 'buddylink';
import { twoBuddies } from './shared.js';

const [alice, bob] = await twoBuddies();

bob.on('connection', (connection) => {
  const chat = new Mux(connection);
  chat.on('message', (text) => {
    console.log(`bob read: ${String(text)}`);
    chat.send(`hello ${connection.remoteUser}, bob here`);
  });
});

try {
  const connection = await alice.connect(bob.user, { signal: AbortSignal.timeout(10_000) });
  console.log(`connected over ${connection.path} in ${connection.connectMs} ms`);
  const chat = new Mux(connection);
  chat.send('hi bob');
  const [reply] = await once(chat, 'message');
  console.log(`alice read: ${String(reply)}`);
  await chat.close();
} catch (error) {
  if (error instanceof ClientError) console.error(`could not chat: ${error.code}: ${error.message}`);
  process.exitCode = 1;
} finally {
  await alice.close();
  await bob.close();
}
