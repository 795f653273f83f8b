import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The IPC messages between the cluster benchmark and its generator children (generator.ts). */

export type GeneratorCommand =
  | {
      cmd: 'logon';
      /** Control URLs of the nodes; user i goes to urls[i % urls.length]. */
      urls: string[];
      from: number;
      to: number;
      /** Logons in flight in this generator. */
      window: number;
      /** logon: token logon as bench user i; echo: one echo (the bare ws floor). */
      mode: 'logon' | 'echo';
      attemptTimeoutMs: number;
      /** Consecutive failures on one node after which it is taken as full. */
      giveUpAfter: number;
      /** The generator exits by itself after this long, whatever happens. */
      lifetimeMs: number;
    }
  | { cmd: 'probe'; count: number; timeoutMs: number }
  | { cmd: 'close' };

export type GeneratorReport =
  | { type: 'ready' }
  | { type: 'progress'; connected: number; failed: number; skipped: number }
  | {
      type: 'logged-on';
      connected: number;
      /** Held clients by node index. */
      perNode: number[];
      failed: number;
      skipped: number;
      /** Failed attempts by reason (error code, refusal code, timeout). */
      errors: Record<string, number>;
      /** Nodes this generator gave up on (too many failures in a row). */
      full: string[];
      /** Wall-clock epoch ms, comparable across processes. */
      startedAt: number;
      endedAt: number;
      /** Connect + logon time of each held client, ms. */
      latencies: number[];
    }
  | { type: 'probed'; held: number; open: number; asked: number; answered: number }
  | { type: 'error'; message: string };

const SCRIPT = fileURLToPath(new URL('./generator.js', import.meta.url));

/** Parent side: one forked generator, its reports awaited by type with a deadline. */
export class Generator {
  readonly child: ChildProcess;
  readonly #queue: GeneratorReport[] = [];
  #wake: (() => void) | undefined;
  #exit: string | undefined;
  onProgress: ((r: Extract<GeneratorReport, { type: 'progress' }>) => void) | undefined;

  constructor() {
    this.child = fork(SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: GeneratorReport) => {
      if (m.type === 'progress') this.onProgress?.(m);
      else this.#queue.push(m);
      this.#wake?.();
    });
    this.child.once('exit', (code, signal) => {
      this.#exit = `generator ${this.child.pid} exited (${code ?? signal})`;
      this.#wake?.();
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  send(command: GeneratorCommand): void {
    this.child.send(command);
  }

  async next<T extends GeneratorReport['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<GeneratorReport, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#queue.findIndex((m) => m.type === type || m.type === 'error');
      if (i >= 0) {
        const m = this.#queue.splice(i, 1)[0]!;
        if (m.type === 'error') throw new Error(`generator ${this.pid}: ${m.message}`);
        return m as Extract<GeneratorReport, { type: T }>;
      }
      if (this.#exit) throw new Error(`${this.#exit} before '${type}'`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`generator ${this.pid}: no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /** Asks it to close its sockets and exit; SIGKILL if it has not within 10 s. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    if (this.child.connected) this.child.send({ cmd: 'close' } satisfies GeneratorCommand);
    else this.child.kill('SIGTERM');
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(kill);
  }
}
