import { randomBytes } from 'node:crypto';
import type { Endpoint } from '../protocol/fields.js';
import type { AddressAnswerMessage, ClusterBus } from './bus.js';

/** How long a node waits for another node's answer. */
const ANSWER_WAIT_MS = 3000;

/**
 * The variant (S201–S227, `--reveal-addresses`) across nodes: a registered address is never put in
 * shared state; the asking node asks the node that saw it, which answers it alone, in one message
 * (pub/sub passes it on and keeps nothing).
 */
export class AddressReveal {
  readonly #waiting = new Map<string, (m: AddressAnswerMessage) => void>();

  constructor(
    private readonly bus: ClusterBus,
    private readonly nodeId: string,
  ) {}

  /** The registered address of another node's connection; undefined when that node says nothing. */
  async ask(node: string, connectionId: string): Promise<Endpoint | undefined> {
    const requestId = randomBytes(8).toString('hex');
    const answer = new Promise<AddressAnswerMessage | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(requestId);
        resolve(undefined);
      }, ANSWER_WAIT_MS);
      this.#waiting.set(requestId, (m) => {
        clearTimeout(timer);
        this.#waiting.delete(requestId);
        resolve(m);
      });
    });
    await this.bus.toNode(node, { kind: 'address.ask', requestId, replyTo: this.nodeId, connectionId });
    return (await answer)?.address;
  }

  onAnswer(m: AddressAnswerMessage): void {
    this.#waiting.get(m.requestId)?.(m);
  }

  /** On the node that saw the address: answers with it, or with nothing. */
  async answer(replyTo: string, requestId: string, address: Endpoint | undefined): Promise<void> {
    await this.bus.toNode(replyTo, { kind: 'address.answer', requestId, ...(address ? { address } : {}) });
  }
}
