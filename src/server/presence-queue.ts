/**
 * Presence announcements run in the background, at most `concurrency` at a time and, per user, one at a
 * time in the order they were asked for. A logon or logoff does not wait for its buddies to be told; a
 * storm (a node's clients all dropping at once, a dead node's users reaped, a node's clients all
 * reconnecting) queues here instead of waiting together for the store's few connections and timing out
 * there, which left most buddies never hearing "offline". Per user in order, so that a quick logoff and
 * logon never reach a buddy as "online, offline".
 */
export class PresenceQueue {
  readonly #tasks = new Map<string, Array<() => Promise<void>>>();
  /** Users with tasks and none running, in the order they became ready. */
  #ready: string[] = [];
  #readyHead = 0;
  #running = 0;
  #idle: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly onError: (user: string, err: unknown) => void,
  ) {}

  /** Tasks waiting or running (a running task stays first in its user's list until it ends). */
  get pending(): number {
    let n = 0;
    for (const tasks of this.#tasks.values()) n += tasks.length;
    return n;
  }

  push(user: string, task: () => Promise<void>): void {
    const tasks = this.#tasks.get(user);
    if (tasks) {
      tasks.push(task);
      return;
    }
    this.#tasks.set(user, [task]);
    this.#ready.push(user);
    this.#pump();
  }

  /** Resolves when nothing is waiting or running. */
  idle(): Promise<void> {
    if (this.#tasks.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.concurrency && this.#readyHead < this.#ready.length) {
      const user = this.#ready[this.#readyHead++] as string;
      if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
        this.#ready = this.#ready.slice(this.#readyHead);
        this.#readyHead = 0;
      }
      const task = this.#tasks.get(user)?.[0];
      if (!task) continue;
      this.#running++;
      task()
        .catch((err: unknown) => this.onError(user, err))
        .finally(() => {
          this.#running--;
          const tasks = this.#tasks.get(user);
          tasks?.shift();
          if (tasks && tasks.length > 0) this.#ready.push(user);
          else this.#tasks.delete(user);
          if (this.#tasks.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
          this.#pump();
        });
    }
  }
}
