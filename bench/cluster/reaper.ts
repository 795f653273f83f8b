import { execFileSync, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The cluster benchmark's clean-up if it dies (SIGKILL, Ctrl-C, a crash): a forked watcher that, when its
 * parent goes away without saying "done", kills the nodes the parent started and stops the PostgreSQL and
 * Redis it started. Generators need none of this: they exit on their own when the parent disconnects.
 */

type ReaperMessage = { pid: number } | { servicesDir: string; script: string } | { done: true };

const pids = new Set<number>();
let services: { servicesDir: string; script: string } | undefined;
let done = false;

function reap(): void {
  if (done) process.exit(0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  if (services) {
    try {
      execFileSync('bash', [services.script, 'stop', services.servicesDir], {
        stdio: 'ignore',
        timeout: 60_000,
      });
    } catch {}
  }
  process.exit(0);
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.on('message', (m: ReaperMessage) => {
    if ('pid' in m) pids.add(m.pid);
    else if ('servicesDir' in m) services = m;
    else done = true;
  });
  process.on('disconnect', reap);
}

/** Parent side: starts the watcher; tell it every pid and the services dir; `done()` at a clean end. */
export function startReaper() {
  const child = fork(fileURLToPath(import.meta.url), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  // The watcher must not keep the benchmark alive, nor its end wait for it.
  child.unref();
  child.channel?.unref();
  const send = (m: ReaperMessage) => {
    if (child.connected) child.send(m);
  };
  return {
    watch: (pid: number) => send({ pid }),
    services: (servicesDir: string, script: string) => send({ servicesDir, script }),
    done: () => {
      send({ done: true });
      child.disconnect();
    },
  };
}
