import type { Endpoint } from '../protocol/fields.js';

/**
 * Who is online: one entry per logged-on device, with the registered address the server saw.
 * Kept in memory only (SPEC §4.4: no history of addresses). An interface of its own so that a later
 * step can move it to Redis for several server nodes (SPEC §4.8) without touching the judgement.
 */
export interface OnlineDevice {
  /** The control connection this device speaks on; unique per server node. */
  connectionId: string;
  user: string;
  /** The device's name, unique among the user's online devices. */
  device: string;
  /** This device takes incoming connections: judgement and signals are aimed at it first. */
  listen: boolean;
  /**
   * Source address of the control connection as the server saw it (S21–S23). Absent for a device on
   * another server node (SPEC §4.8): the address never leaves the node that saw it.
   */
  registeredAddress?: Endpoint;
  /** The server node that holds the connection; absent on a single node. */
  node?: string;
  /** Keyed hash of the masked registered address, what other nodes judge by (src/cluster/nat-tag.ts). */
  natTag?: string;
  /** Increases with every logon, so that "most recent" is well defined even within one millisecond. */
  logonSequence: number;
}

export interface DeviceRegistration {
  connectionId: string;
  user: string;
  /** The name the client asked for; made unique by the registry. */
  requestedDevice: string;
  listen: boolean;
  registeredAddress: Endpoint;
}

export interface OnlineRegistry {
  /** Registers a device; `firstDevice` is true when the user was offline until now. */
  addDevice(registration: DeviceRegistration): Promise<{ device: OnlineDevice; firstDevice: boolean }>;
  /** Unregisters the device of a connection; `lastDevice` is true when the user is now offline. */
  removeDevice(connectionId: string): Promise<{ device: OnlineDevice; lastDevice: boolean } | undefined>;
  /** The user's online devices, most recent logon first. */
  devicesOf(user: string): Promise<OnlineDevice[]>;
  isOnline(user: string): Promise<boolean>;
  /** Number of devices online, for metrics. */
  deviceCount(): Promise<number>;
}
