import { normaliseIp, type StunEndpoint } from '../protocol/index.js';
import { DUAL_STACK_HOST, IPV4_ANY } from './listen.js';

/**
 * What the logon result tells clients about the STUN server: its bound port (the real one when 0
 * picked it) and, when it is bound to one address, that address. A wildcard bind (`::` serves IPv4
 * and IPv6 alike, `0.0.0.0` IPv4) names no host: the server cannot know which of its names the
 * client reached it by, so the client uses the control server's host.
 */
export function advertisedStunEndpoints(bound: { host: string; port: number }): StunEndpoint[] {
  const host = normaliseIp(bound.host);
  if (host === DUAL_STACK_HOST || host === IPV4_ANY) return [{ port: bound.port }];
  return [{ host, port: bound.port }];
}
