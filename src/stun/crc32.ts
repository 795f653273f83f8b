/**
 * CRC-32 (ISO-HDLC, polynomial 0xEDB88320 reflected), as RFC 8489 §14.7 requires for FINGERPRINT.
 * Written here because node:zlib gained crc32 only in Node 20.15 and package.json promises Node >= 20;
 * the tests check it against zlib.crc32 where that exists. Table-driven: one lookup per byte, no
 * allocation, and for the ~60 bytes of a Binding response cheaper than a call into native code.
 */
const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC-32 of bytes [start, end) as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) {
    crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
