import { randomInt } from 'node:crypto';
import { LAB_DEFAULTS, MAX_IFNAME } from './options.js';

/**
 * Names of one lab run. Namespaces carry the common prefix (so `lab down` finds every leftover) and
 * the run id (so two runs never collide); interfaces carry the run id and fit IFNAMSIZ.
 */
export class RunNames {
  readonly runId: string;

  constructor(runId = newRunId()) {
    if (!/^[a-z][a-z0-9]*$/.test(runId)) throw new TypeError(`bad run id: ${runId}`);
    this.runId = runId;
  }

  namespace(node: string): string {
    return `${LAB_DEFAULTS.namespacePrefix}${this.runId}-${node}`;
  }

  /** Every namespace of this run starts with this. */
  get namespacePrefix(): string {
    return `${LAB_DEFAULTS.namespacePrefix}${this.runId}-`;
  }

  iface(label: string): string {
    const name = `${this.runId}-${label}`;
    if (Buffer.byteLength(name) > MAX_IFNAME) throw new RangeError(`interface name too long: ${name}`);
    return name;
  }
}

function newRunId(): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const alnum = `${letters}0123456789`;
  let id = letters[randomInt(letters.length)] ?? 'x';
  while (id.length < LAB_DEFAULTS.runIdLength) id += alnum[randomInt(alnum.length)] ?? 'x';
  return id;
}
