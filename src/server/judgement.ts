import { ipBytes, sameBytePrefix } from '../protocol/addresses.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Endpoint } from '../protocol/fields.js';
import type { Request } from '../protocol/requests.js';
import type { Result } from '../protocol/results.js';
import type { OnlineDevice } from '../store/online.js';
import { requireOnlineBuddy } from './consent.js';
import type { ServerContext } from './context.js';
import type { ControlConnection } from './control-connection.js';

/** Parsed registered addresses kept at most; when full the memo starts over (it only saves parsing). */
export const PARSED_ADDRESS_MEMO_MAX = 100_000;

/**
 * Registered addresses as bytes, by address text: parsing both on every judgement was ~5 % of the
 * server's busy time (BENCHMARKS.md, "Same-NAT judgement", profile), and the same few addresses are
 * asked about again and again.
 */
const parsedAddresses = new Map<string, Uint8Array>();

function addressBytes(host: string): Uint8Array {
  let bytes = parsedAddresses.get(host);
  if (!bytes) {
    bytes = ipBytes(host);
    if (parsedAddresses.size >= PARSED_ADDRESS_MEMO_MAX) parsedAddresses.clear();
    parsedAddresses.set(host, bytes);
  }
  return bytes;
}

/** S23: both registered addresses compared after the operator's masks (§0067, SPEC §4.5). */
export function sameNatBit(ctx: ServerContext, a: Endpoint, b: Endpoint): boolean {
  return sameBytePrefix(addressBytes(a.host), addressBytes(b.host), {
    v4: ctx.options.v4Prefix,
    v6: ctx.options.v6Prefix,
  });
}

/**
 * S23 for a device that may be on another node: there only the keyed tags of the masked addresses can
 * be compared (src/cluster/nat-tag.ts); equal tags mean equal masked addresses.
 */
export function sameNatAs(ctx: ServerContext, conn: ControlConnection, device: OnlineDevice): boolean {
  if (device.registeredAddress) return sameNatBit(ctx, conn.registeredAddress, device.registeredAddress);
  if (ctx.cluster && device.natTag !== undefined)
    return ctx.cluster.tagOf(conn.registeredAddress) === device.natTag;
  return false;
}

/**
 * S21–S24: "is buddy B's registered address the same as mine?", answered with one bit and nothing else
 * (§0069, §0109): A never learns B's address from it. Only for an accepted buddy who is online; the
 * caller's side is this connection's registered address, B's side is B's target device (consent.ts).
 */
export async function answerSameNat(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'sameNat'>,
): Promise<Result<'sameNat'>> {
  const { target } = await requireOnlineBuddy(ctx, conn, req.buddy);
  const same = sameNatAs(ctx, conn, target);
  ctx.metrics.judgements.inc({ same: String(same) });
  return { same };
}

/** S204–S205, the variant: B's registered address itself, only when the operator switched it on. */
export async function answerRegisteredAddress(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'registeredAddress'>,
): Promise<Result<'registeredAddress'>> {
  if (!ctx.options.revealAddresses)
    throw new ProtocolError('FORBIDDEN', 'this server does not reveal addresses (see --reveal-addresses)');
  const { target } = await requireOnlineBuddy(ctx, conn, req.buddy);
  // Several nodes: the address stays on the node that saw it, which answers for it alone (SPEC §4.8).
  const address =
    target.registeredAddress ??
    (ctx.cluster && target.node ? await ctx.cluster.reveal.ask(target.node, target.connectionId) : undefined);
  if (!address)
    throw new ProtocolError('UNAVAILABLE', `the server node of ${req.buddy} did not reveal the address`);
  return { address: { ...address } };
}

/** S141–S143: the caller's own registered address; needs no logon, as it tells the caller only itself. */
export function answerOwnAddress(_ctx: ServerContext, conn: ControlConnection): Result<'ownAddress'> {
  return { address: { ...conn.registeredAddress } };
}
