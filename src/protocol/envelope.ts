import { z } from 'zod';
import { ERROR_CODES, ProtocolError, type WireError } from './errors.js';
import { requestId } from './fields.js';
import { type Request, type RequestType, requestSchemas } from './requests.js';
import { PROTOCOL_VERSION } from './version.js';

/** Replies echo the request id; `id` is null only when the request had no readable id. */
export const replySchema = z.discriminatedUnion('ok', [
  z.object({ v: z.number(), id: z.number().int(), ok: z.literal(true), result: z.unknown() }).strict(),
  z
    .object({
      v: z.number(),
      id: z.number().int().nullable(),
      ok: z.literal(false),
      error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }).strict(),
    })
    .strict(),
]);

export type Reply = z.infer<typeof replySchema>;

const envelope = z.object({
  v: z.number().int(),
  id: requestId,
  type: z.string().max(40),
});

/** The outcome of parsing one frame: a request, or an error reply to send back. */
export type ParsedRequest =
  | { ok: true; request: Request }
  | { ok: false; id: number | null; error: WireError };

function isKnownType(type: string): type is RequestType {
  return Object.hasOwn(requestSchemas, type);
}

/** Validates one control frame against the envelope, then against its type's schema. */
export function parseRequest(text: string): ParsedRequest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail(null, 'BAD_REQUEST', 'not JSON');
  }
  const head = envelope.safeParse(json);
  if (!head.success) {
    const id = readId(json);
    return fail(id, 'BAD_REQUEST', 'expected {v, id, type}');
  }
  const { v, id, type } = head.data;
  if (v !== PROTOCOL_VERSION)
    return fail(id, 'UNSUPPORTED_VERSION', `protocol version ${PROTOCOL_VERSION} only`);
  if (!isKnownType(type)) return fail(id, 'BAD_REQUEST', 'unknown request type');
  const body = requestSchemas[type].safeParse(json);
  if (!body.success) return fail(id, 'BAD_REQUEST', describe(body.error));
  return { ok: true, request: body.data };
}

function readId(json: unknown): number | null {
  if (typeof json !== 'object' || json === null) return null;
  const id = (json as { id?: unknown }).id;
  return requestId.safeParse(id).success ? (id as number) : null;
}

function describe(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'invalid request';
  const where = first.path.length > 0 ? first.path.join('.') : 'request';
  return `${where}: ${first.message}`.slice(0, 200);
}

function fail(id: number | null, code: WireError['code'], message: string): ParsedRequest {
  return { ok: false, id, error: new ProtocolError(code, message).toWire() };
}

export function okReply(id: number, result: unknown): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, id, ok: true, result });
}

export function errorReply(id: number | null, error: WireError): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, id, ok: false, error });
}

export function eventFrame(event: Record<string, unknown> & { event: string }): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, ...event });
}
