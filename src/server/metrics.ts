import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ErrorCode } from '../protocol/errors.js';

/**
 * The server's Prometheus metrics, on a registry of its own so that several servers in one process
 * (tests, the lab) do not share counters.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({
    name: 'buddylink_control_connections',
    help: 'Open control WebSocket connections',
    registers: [this.registry],
  });
  readonly devicesOnline = new Gauge({
    name: 'buddylink_devices_online',
    help: 'Logged-on devices',
    registers: [this.registry],
  });
  readonly logons = new Counter({
    name: 'buddylink_logons_total',
    help: 'Logons (including account creation), by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly judgements = new Counter({
    name: 'buddylink_judgements_total',
    help: 'Same-NAT judgements answered (S21-S24), by answer',
    labelNames: ['same'] as const,
    registers: [this.registry],
  });
  readonly signals = new Counter({
    name: 'buddylink_signals_total',
    help: 'Address-exchange messages passed to a buddy, by scope',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });
  readonly stunRequests = new Counter({
    name: 'buddylink_stun_requests_total',
    help: 'STUN packets received, by outcome (answered, dropped, or limited per source)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly relaySessions = new Gauge({
    name: 'buddylink_relay_sessions',
    help: 'Relay sessions waiting or paired',
    registers: [this.registry],
  });
  readonly relayedBytes = new Counter({
    name: 'buddylink_relayed_bytes_total',
    help: 'Bytes forwarded by the relay',
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'buddylink_errors_total',
    help: 'Error replies sent, by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  /** Issue 14: what each limit refused, so an operator sees an attack (and a limit set too low). */
  readonly limited = new Counter({
    name: 'buddylink_limited_total',
    help: 'Refusals by limit: connections-per-source, pending-upgrades, logon-backoff, account-creation, buddy-requests, relay-quota',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'buddylink_' });
  }

  countError(code: ErrorCode): void {
    this.errors.inc({ code });
  }
}
