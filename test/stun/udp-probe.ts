import { createSocket, type Socket } from 'node:dgram';

/**
 * A real UDP socket on loopback that sends datagrams to a server and waits (bounded) for answers.
 * Test helper only; talks to 127.0.0.1 / ::1 only.
 */
export class UdpProbe {
  private readonly answers: Buffer[] = [];
  private waiter: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('message', (packet) => {
      this.answers.push(packet);
      this.waiter?.();
    });
  }

  static async open(family: 4 | 6 = 4, host = family === 4 ? '127.0.0.1' : '::1'): Promise<UdpProbe> {
    const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6' });
    await new Promise<void>((resolve) => socket.bind({ address: host, port: 0 }, resolve));
    return new UdpProbe(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(packet: Buffer, port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(packet, port, host, (error) => (error ? reject(error) : resolve())),
    );
  }

  /** The next answer, or null if none arrives within `timeoutMs`. */
  async next(timeoutMs = 1000): Promise<Buffer | null> {
    const ready = this.answers.shift();
    if (ready) return ready;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.waiter = undefined;
    return this.answers.shift() ?? null;
  }

  /** Sends and returns the answer (or null after `timeoutMs`). */
  async exchange(packet: Buffer, port: number, host: string, timeoutMs = 1000): Promise<Buffer | null> {
    await this.send(packet, port, host);
    return this.next(timeoutMs);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
