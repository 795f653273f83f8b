import type { DeviceRegistration, OnlineDevice, OnlineRegistry } from './online.js';

/** The OnlineRegistry of a single server node: two maps in process memory. */
export class MemoryOnlineRegistry implements OnlineRegistry {
  readonly #byConnection = new Map<string, OnlineDevice>();
  readonly #byUser = new Map<string, Map<string, OnlineDevice>>();
  #sequence = 0;

  async addDevice(r: DeviceRegistration): Promise<{ device: OnlineDevice; firstDevice: boolean }> {
    const previous = this.#byConnection.get(r.connectionId);
    if (previous) this.#remove(previous);
    let devices = this.#byUser.get(r.user);
    const firstDevice = devices === undefined || devices.size === 0;
    if (!devices) {
      devices = new Map();
      this.#byUser.set(r.user, devices);
    }
    const device: OnlineDevice = {
      connectionId: r.connectionId,
      user: r.user,
      device: uniqueName(r.requestedDevice, devices),
      listen: r.listen,
      registeredAddress: { ...r.registeredAddress },
      logonSequence: ++this.#sequence,
    };
    devices.set(device.connectionId, device);
    this.#byConnection.set(device.connectionId, device);
    return { device: { ...device }, firstDevice };
  }

  async removeDevice(
    connectionId: string,
  ): Promise<{ device: OnlineDevice; lastDevice: boolean } | undefined> {
    const device = this.#byConnection.get(connectionId);
    if (!device) return undefined;
    const lastDevice = this.#remove(device);
    return { device: { ...device }, lastDevice };
  }

  async devicesOf(user: string): Promise<OnlineDevice[]> {
    const devices = this.#byUser.get(user);
    if (!devices) return [];
    // A Map keeps insertion order, which is logon order: reversed, most recent first, without a sort
    // on the judgement's hot path.
    const out: OnlineDevice[] = [];
    for (const d of devices.values()) out.unshift({ ...d });
    return out;
  }

  async isOnline(user: string): Promise<boolean> {
    return (this.#byUser.get(user)?.size ?? 0) > 0;
  }

  async deviceCount(): Promise<number> {
    return this.#byConnection.size;
  }

  #remove(device: OnlineDevice): boolean {
    this.#byConnection.delete(device.connectionId);
    const devices = this.#byUser.get(device.user);
    devices?.delete(device.connectionId);
    if (devices && devices.size > 0) return false;
    this.#byUser.delete(device.user);
    return true;
  }
}

/** Two devices of one user never share a name: signals name the sending device (`fromDevice`). */
function uniqueName(requested: string, devices: Map<string, OnlineDevice>): string {
  const taken = new Set([...devices.values()].map((d) => d.device));
  if (!taken.has(requested)) return requested;
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const candidate = `${requested.slice(0, 64 - suffix.length)}${suffix}`;
    if (!taken.has(candidate)) return candidate;
  }
}
